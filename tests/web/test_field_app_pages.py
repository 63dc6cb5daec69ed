"""The field app's server side: its manifest and service worker under /field/, the device token
the page makes on first use (CSRF from the session, field workers only), and a resent visit whose
device send time alone changed answering the first visit."""
from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import ApiToken, CompletionRecord
from tests.api_support import bearer, clock, sides, survey_body  # noqa: F401  (fixtures)
from tests.conftest import Client

_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def test_the_manifest_and_service_worker_are_scoped_to_the_field_pages(app):
    client = Client(app)
    manifest = client.get("/field/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    body = manifest.get_json(force=True)
    assert (body["scope"], body["start_url"], body["display"]) == ("/field/", "/field/", "standalone")
    worker = client.get("/field/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/field/"
    assert "/api/" in worker.get_data(as_text=True)  # API calls pass the cache by
    assert "script-src 'self'" in worker.headers["Content-Security-Policy"]


def test_the_field_page_carries_its_settings_as_json_and_no_inline_script(client_for, sides):
    page = client_for(sides.ours.field_user).get("/field/").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    inline = [attrs for attrs, text in scripts if text.strip() and 'type="application/json"' not in attrs]
    assert inline == []
    settings = json.loads(re.search(r'id="field-app-config">(.*?)</script>', page, re.S).group(1))
    assert settings["api"] == "/api/v1" and settings["token_url"] == "/field/device-token"
    assert settings["logout_url"] == "/logout" and settings["revoke_url"] == "/field/device-token/0/revoke"
    assert 'rel="manifest"' in page and _META_CSRF.search(page)


def test_the_page_makes_a_device_token_once_asked_with_the_sessions_csrf_token(client_for, sides):
    ours = sides.ours
    client = client_for(ours.field_user)
    before = db.session.execute(select(func.count()).select_from(ApiToken)).scalar_one()
    assert client.get("/field/device-token").status_code == 405
    assert client._request("post", "/field/device-token").status_code == 400  # no CSRF token
    csrf = _META_CSRF.search(client.get("/field/").get_data(as_text=True)).group(1)
    made = client._request("post", "/field/device-token", headers={"X-CSRFToken": csrf})
    assert made.status_code == 201
    plain = made.get_json()["token"]
    assert plain.startswith("ovt_")
    assert db.session.execute(select(func.count()).select_from(ApiToken)).scalar_one() == before + 1
    me = client._request("get", "/api/v1/me", headers=bearer(plain)).get_json()
    assert me["username"] == ours.field_user.username
    # 退出 on the device revokes that token: the session's CSRF token again, only one's own
    token_id = made.get_json()["id"]
    assert client._request("post", f"/field/device-token/{token_id}/revoke").status_code == 400  # no CSRF
    theirs = db.session.execute(select(ApiToken.id).where(ApiToken.user_id == sides.theirs.field_user.id)).scalar()
    assert client._request("post", f"/field/device-token/{theirs}/revoke", headers={"X-CSRFToken": csrf}).status_code == 404
    assert client._request("post", f"/field/device-token/{token_id}/revoke", headers={"X-CSRFToken": csrf}).status_code == 200
    assert client._request("get", "/api/v1/me", headers=bearer(plain)).status_code == 401
    assert db.session.execute(select(ApiToken.revoked_at).where(ApiToken.user_id == sides.theirs.field_user.id)).scalar() is None
    # contractors' staff have no field pages
    staff = client_for(ours.contractor_user)
    csrf = staff.csrf_token("/dashboard")
    assert staff._request("post", "/field/device-token", headers={"X-CSRFToken": csrf}).status_code in (403, 404)


def test_a_visit_resent_later_with_a_new_device_send_time_is_the_same_visit(app, sides):
    ours = sides.ours
    client = Client(app)
    headers = {**bearer(ours.field_token), "Idempotency-Key": "device-key-0001"}
    first = client._request("post", "/api/v1/visits", json=survey_body(ours.given), headers=headers)
    assert first.status_code == 201, first.get_json()
    later = survey_body(ours.given, device_sent_at="2025-06-10T10:29:40+08:00")
    again = client._request("post", "/api/v1/visits", json=later, headers=headers)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["record_id"] == first.get_json()["record_id"]
    assert db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one() == 1


def test_the_record_page_shows_flags_to_the_bureau_and_not_to_the_contractor(client_for, factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor)
    record = factory.record(factory.assignment(contract), anomaly_flags=[
        {"code": "far_from_township", "reason": "坐标距梅林镇中心约9.9公里"}], flagged=True)
    url = f"/corrections/records/{record.id}"
    bureau = client_for(factory.user("supervisor")).get(url).get_data(as_text=True)
    assert 'id="record-flags"' in bureau and "坐标距梅林镇中心约9.9公里" in bureau
    own = client_for(factory.user("contractor", contractor)).get(url)
    assert own.status_code == 200
    assert "record-flags" not in own.get_data(as_text=True) and "9.9公里" not in own.get_data(as_text=True)
