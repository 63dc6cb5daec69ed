"""Sessions end when they should: log-out, password, role and activation changes, idleness, age;
and every page carries the security headers."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, UTC
from pathlib import Path

import time_machine
from sqlalchemy import select

from oversight import PROJECT_ROOT, create_app
from oversight.extensions import db
from oversight.models import UploadBatch, User
from oversight.web.security import CONTENT_SECURITY_POLICY

from tests.conftest import Client
from tests.factories import Factory

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _session_cookie(client: Client) -> str:
    return client.http.get_cookie("session").value


def _client_with_cookie(app, value: str) -> Client:
    client = Client(app)
    client.http.set_cookie("session", value)
    return client


def _is_sent_to_log_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_cookie_captured_before_log_out_no_longer_opens_the_audit_log(app, factory, client_for):
    auditor = client_for(factory.user("auditor"))
    assert auditor.get("/audit/").status_code == 200
    captured = _session_cookie(auditor)
    auditor.post("/logout")
    replayed = _client_with_cookie(app, captured)
    assert _is_sent_to_log_in(replayed.get("/audit/"))


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, factory, client_for):
    user = factory.user("supervisor")
    here, elsewhere = client_for(user), client_for(user)
    response = here.post("/account/password", {"current": Factory.PASSWORD, "new": "a-new-password-2",
                                               "confirm": "a-new-password-2"}, token_from="/account/password")
    assert response.status_code == 302
    assert here.get("/dashboard").status_code == 200
    assert _is_sent_to_log_in(elsewhere.get("/dashboard"))
    assert Client(app).login(user.username, "a-new-password-2").status_code == 302


def test_deactivating_a_user_ends_their_sessions_and_reactivating_does_not_revive_them(app, factory, client_for):
    user = factory.user("supervisor")
    their = client_for(user)
    admin = client_for(factory.user("admin"))
    admin.post(f"/users/{user.id}/toggle", token_from="/users/")
    assert _is_sent_to_log_in(their.get("/dashboard"))
    admin.post(f"/users/{user.id}/toggle", token_from="/users/")
    db.session.expire_all()
    assert db.session.get(User, user.id).is_active_account
    assert _is_sent_to_log_in(their.get("/dashboard"))


def test_a_role_change_ends_the_users_sessions(app, factory, client_for):
    user = factory.user("supervisor")
    their = client_for(user)
    assert their.get("/draws/").status_code == 200
    user.role = "auditor"
    db.session.commit()
    assert _is_sent_to_log_in(their.get("/draws/"))


def test_an_idle_session_goes_to_log_in_with_a_message_and_comes_back_after_it(app, factory):
    user = factory.user("supervisor")
    client = Client(app)
    with time_machine.travel(START, tick=False):
        assert client.login(user.username, Factory.PASSWORD).status_code == 302
    with time_machine.travel(START + timedelta(minutes=29), tick=False):
        assert client.get("/assignments/").status_code == 200
    with time_machine.travel(START + timedelta(minutes=29 + 31), tick=False):
        response = client.get("/assignments/?status=overdue")
        assert _is_sent_to_log_in(response)
        assert "next=/assignments/?status%3Doverdue" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "已超过30分钟未操作" in page
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        back = client._request("post", response.headers["Location"],
                               data={"username": user.username, "password": Factory.PASSWORD, "csrf_token": token})
        assert back.headers["Location"] == "/assignments/?status=overdue"


def test_the_idle_timeout_is_a_setting(app, factory):
    app.config["SESSION_IDLE_MINUTES"] = 5
    user = factory.user("supervisor")
    client = Client(app)
    with time_machine.travel(START, tick=False):
        client.login(user.username, Factory.PASSWORD)
    with time_machine.travel(START + timedelta(minutes=6), tick=False):
        assert _is_sent_to_log_in(client.get("/dashboard"))


def test_an_active_session_still_ends_after_its_lifetime(app, factory):
    app.config["SESSION_IDLE_MINUTES"] = 24 * 60
    user = factory.user("supervisor")
    client = Client(app)
    with time_machine.travel(START, tick=False):
        client.login(user.username, Factory.PASSWORD)
    with time_machine.travel(START + timedelta(hours=11, minutes=50), tick=False):
        assert client.get("/dashboard").status_code == 200
    with time_machine.travel(START + timedelta(hours=12, minutes=1), tick=False):
        response = client.get("/dashboard")
        assert _is_sent_to_log_in(response)
        assert "登录已超过12小时" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_pages_carry_the_security_headers(app, factory, client_for):
    response = client_for(factory.user("supervisor")).get("/dashboard")
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # plain http: HSTS would be ignored, and wrong


def test_hsts_only_over_https_or_behind_a_trusted_proxy_saying_so(app, _schema):
    assert "Strict-Transport-Security" in app.test_client().get("/login", base_url="https://localhost").headers
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in app.test_client().get("/login", headers=forwarded).headers
    proxied = create_app({**_schema, "TESTING": True, "SECRET_KEY": "proxy", "TRUSTED_PROXIES": 1})
    assert "Strict-Transport-Security" in proxied.test_client().get("/login", headers=forwarded).headers


def test_the_session_cookie_is_secure_unless_turned_off(app, factory, _schema):
    user = factory.user("supervisor")
    cookie = Client(app).login(user.username, Factory.PASSWORD).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    demo = create_app({**_schema, "TESTING": True, "SECRET_KEY": "demo", "SESSION_COOKIE_SECURE": False})
    with demo.app_context():
        cookie = Client(demo).login(user.username, Factory.PASSWORD).headers["Set-Cookie"]
    assert "Secure" not in cookie


_INLINE = [
    # A JSON data block (type="application/json") is data, never run: the policy does not concern it.
    (re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_needs_what_the_content_security_policy_forbids():
    found = []
    for template in sorted(Path(PROJECT_ROOT, "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        found += [f"{template.name}: {what}" for pattern, what in _INLINE if pattern.search(text)]
    assert found == []


def test_a_form_without_its_token_is_refused_in_chinese_naming_https_when_that_is_why(app, _schema):
    plain = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert plain.status_code == 400 and "请改用 https:// 开头的地址" in plain.get_data(as_text=True)
    secure = app.test_client().post("/login", data={"username": "a", "password": "b"}, base_url="https://localhost")
    assert secure.status_code == 400 and "页面已过期" in secure.get_data(as_text=True)


def _form_page_and_token(client: Client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _post_upload(client: Client, url: str, token: str, referrer: str | None):
    headers = {"Referer": referrer} if referrer else {}
    return client._request("post", url, data={"csrf_token": token, "service_type": "household_survey",
                                              "file": (io.BytesIO(b"a,b\n1,2\n"), "五月.csv")},
                           content_type="multipart/form-data", headers=headers, base_url=HTTPS)


HTTPS = "https://localhost"  # production sends the session cookie over HTTPS only


def _no_english_csrf(*pages: str) -> None:
    for page in pages:
        assert "CSRF" not in page and "token is missing" not in page.lower()


def test_a_form_sent_after_the_session_ended_goes_to_log_in_and_back_saying_to_choose_the_file_again(app, factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor)
    user = factory.user("contractor", contractor)
    client = Client(app)
    client.login(user.username, Factory.PASSWORD)
    url = f"/uploads/contracts/{contract.id}/new"
    token = _form_page_and_token(client, url)
    client.http.delete_cookie("session")  # the browser closed, or the server's key changed: the session is gone
    response = _post_upload(client, url, token, f"{HTTPS}{url}")
    assert _is_sent_to_log_in(response) and response.headers["Location"] == f"/login?next={url}"
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "登录已过期，刚才提交的内容未保存" in login_page and "请重新选择文件" in login_page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    back = client._request("post", response.headers["Location"],
                           data={"username": user.username, "password": Factory.PASSWORD, "csrf_token": token})
    assert back.headers["Location"] == url
    form_page = client.get(url)
    assert form_page.status_code == 200 and 'type="file"' in form_page.get_data(as_text=True)
    _no_english_csrf(response.get_data(as_text=True), login_page)
    assert db.session.execute(select(UploadBatch)).first() is None


def test_a_stale_token_of_a_signed_in_user_returns_to_the_form_with_a_chinese_note(app, factory, client_for):
    contractor = factory.contractor()
    contract = factory.contract(contractor)
    client = client_for(factory.user("contractor", contractor))
    url = f"/uploads/contracts/{contract.id}/new"
    response = _post_upload(client, url, "stale-token", f"{HTTPS}{url}")
    assert response.status_code == 302 and response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert "页面已过期（表单的安全令牌无效），刚才提交的内容未保存：请在本页重新提交" in page
    assert "请重新选择文件" in page
    _no_english_csrf(response.get_data(as_text=True), page)
    assert db.session.execute(select(UploadBatch)).first() is None


def test_a_form_without_a_file_says_nothing_about_files_and_an_off_site_referrer_is_not_followed(app, factory,
                                                                                              client_for):
    client = client_for(factory.user("supervisor"))
    response = client._request("post", "/account/password", data={"csrf_token": "stale", "current": "x"},
                               headers={"Referer": f"{HTTPS}/account/password"}, base_url=HTTPS)
    assert response.headers["Location"] == "/account/password"
    page = client.get("/account/password").get_data(as_text=True)
    assert "页面已过期" in page and "重新选择文件" not in page
    elsewhere = client._request("post", "/account/password", data={"csrf_token": "stale"},
                                headers={"Referer": "https://evil.example/account/password"}, base_url=HTTPS)
    assert elsewhere.status_code == 400 and "页面已过期" in elsewhere.get_data(as_text=True)
    _no_english_csrf(elsewhere.get_data(as_text=True))
    anonymous = Client(app)._request("post", "/account/password", data={"csrf_token": "stale"},
                                     headers={"Referer": "https://evil.example/account/password"}, base_url=HTTPS)
    assert anonymous.headers["Location"] == "/login"


def test_an_upload_sent_after_the_idle_timeout_also_says_to_choose_the_file_again(app, factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor)
    user = factory.user("contractor", contractor)
    client = Client(app)
    url = f"/uploads/contracts/{contract.id}/new"
    with time_machine.travel(START, tick=False):
        client.login(user.username, Factory.PASSWORD)
        token = _form_page_and_token(client, url)
    with time_machine.travel(START + timedelta(minutes=31), tick=False):
        response = _post_upload(client, url, token, f"{HTTPS}{url}")
        assert _is_sent_to_log_in(response) and f"next={url}" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已超过30分钟未操作" in page and "请重新选择文件" in page
