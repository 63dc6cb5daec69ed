"""Sessions end when they should: log-out, password, role and activation changes, idleness, age;
and every page carries the security headers."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, UTC
from pathlib import Path

import time_machine

from oversight import PROJECT_ROOT, create_app
from oversight.extensions import db
from oversight.models import User
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
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
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
