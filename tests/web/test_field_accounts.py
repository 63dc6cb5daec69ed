"""Field-worker accounts on the pages: a contractor's staff give assignments to a worker; the
worker's account sees only those and nothing else (404); device tokens are shown once and revoked."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from oversight.extensions import db
from oversight.models import ApiToken, Assignment, AuditEvent, User
from oversight.services.accounts import AccountError, create_user
from tests.api_support import bearer, clock, sides  # noqa: F401  (fixtures)
from tests.conftest import Client
from tests.factories import Factory


def test_a_contractor_gives_an_assignment_to_one_of_its_workers(client_for, sides):
    ours, theirs = sides.ours, sides.theirs
    client = client_for(ours.contractor_user)
    url = f"/assignments/{ours.other.id}"
    page = client.get(url).get_data(as_text=True)
    assert "指派服务人员" in page and ours.workers[1].worker_no in page and theirs.workers[0].worker_no not in page
    answer = client.post(f"{url}/worker", {"worker_id": str(ours.workers[1].id)}, token_from=url)
    assert answer.status_code == 302
    assert db.session.get(Assignment, ours.other.id, populate_existing=True).worker_id == ours.workers[1].id
    assert f"{ours.workers[1].worker_no} {ours.workers[1].name}" in client.get(url).get_data(as_text=True)
    events = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "Assignment",
                                                         AuditEvent.action == "update")).scalars().all()
    assert any("worker_id" in (event.changes or {}) for event in events)
    # another contractor's worker is refused, and another contractor's assignment is unknown
    client.post(f"{url}/worker", {"worker_id": str(theirs.workers[0].id)}, token_from=url)
    assert db.session.get(Assignment, ours.other.id, populate_existing=True).worker_id == ours.workers[1].id
    assert client.post(f"/assignments/{theirs.other.id}/worker", {"worker_id": str(theirs.workers[0].id)},
                       token_from=url).status_code == 404
    # the bureau does not assign the contractor's staff
    supervisor = client_for(Factory().user("supervisor"))
    assert supervisor.post(f"{url}/worker", {"worker_id": "0"}, token_from="/dashboard").status_code == 403


def test_a_field_worker_sees_only_its_visits_and_every_other_page_answers_404(client_for, sides):
    ours = sides.ours
    client = client_for(ours.field_user)
    assert client.get("/dashboard").headers["Location"].endswith("/field/")
    page = client.get("/field/").get_data(as_text=True)
    assert ours.given.number in page and ours.care.number in page and ours.other.number not in page
    assert "合同" not in re.sub(r"<[^>]+>", " ", page.split("<main", 1)[-1])
    assert client.get(f"/field/assignments/{ours.given.id}").status_code == 200
    for url in (f"/field/assignments/{ours.other.id}", f"/field/assignments/{sides.theirs.given.id}",
                "/assignments/", f"/assignments/{ours.given.id}", "/records/", "/uploads/", "/contracts/",
                "/subjects/", "/reviews/", "/exports/", "/corrections/", f"/records/assignments/{ours.given.id}/new"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/assignments/{ours.given.id}/worker", {"worker_id": "0"},
                       token_from="/field/").status_code == 404
    # a contractor's staff has no field pages
    assert client_for(ours.contractor_user).get("/field/").status_code == 403


def test_a_field_worker_account_is_one_registered_worker(app, sides):
    ours = sides.ours
    user = db.session.get(User, ours.field_user.id)
    assert (user.role, user.contractor_id, user.field_worker_id) == (
        "field_worker", ours.contract.contractor_id, ours.workers[0].id)
    with pytest.raises(AccountError, match="已有账户"):
        create_user("again", Factory.PASSWORD, "field_worker", "又一个", field_worker_id=ours.workers[0].id)
    with pytest.raises(AccountError, match="已登记且在岗"):
        create_user("nobody", Factory.PASSWORD, "field_worker", "无人")


def test_a_device_token_is_shown_once_kept_as_a_hash_and_revoked(app, client_for, sides):
    ours = sides.ours
    client = client_for(ours.field_user)
    page = client.post("/account/tokens/", {"name": "我的新手机"}, token_from="/account/tokens/").get_data(as_text=True)
    token = re.search(r'<code class="token">(ovt_[^<]+)</code>', page).group(1)
    assert "只显示这一次" in page
    row = db.session.execute(select(ApiToken).where(ApiToken.name == "我的新手机")).scalar_one()
    assert row.token_sha256 != token and token not in repr(
        db.session.execute(select(AuditEvent.changes).where(AuditEvent.object_type == "ApiToken")).all())
    listing = client.get("/account/tokens/").get_data(as_text=True)
    assert token not in listing and row.prefix in listing
    api = Client(app)
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200
    # another user cannot revoke it
    other = client_for(ours.contractor_user)
    assert other.post(f"/account/tokens/{row.id}/revoke", token_from="/account/tokens/").status_code == 404
    assert client.post(f"/account/tokens/{row.id}/revoke", token_from="/account/tokens/").status_code == 302
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert "已撤销" in client.get("/account/tokens/").get_data(as_text=True)


def test_the_record_page_says_where_a_record_came_from(client_for, sides, factory):
    ours = sides.ours
    record = factory.record(ours.other)
    record.source = "app"
    db.session.commit()
    page = client_for(ours.contractor_user).get(f"/corrections/records/{record.id}").get_data(as_text=True)
    assert re.search(r'id="record-source">移动端', page)


def test_an_admin_makes_a_field_worker_account_for_a_registered_worker(client_for, sides):
    ours = sides.ours
    admin = client_for(Factory().user("admin"))
    page = admin.get("/users/new").get_data(as_text=True)
    assert "对应服务人员" in page and ours.workers[1].worker_no in page
    answer = admin.post("/users/new", {"username": "waiqin2", "display_name": "外勤二", "role": "field_worker",
                                       "contractor_id": "0", "field_worker_id": str(ours.workers[1].id),
                                       "password": Factory.PASSWORD}, token_from="/users/new")
    assert answer.status_code == 302
    user = db.session.execute(select(User).where(User.username == "waiqin2")).scalar_one()
    assert (user.role, user.contractor_id, user.field_worker_id) == (
        "field_worker", ours.contract.contractor_id, ours.workers[1].id)


def test_an_app_visits_place_photos_and_signature_show_on_its_record_page(app, client_for, sides):
    import hashlib
    import io

    from tests.api_support import picture, survey_body

    ours = sides.ours
    api = Client(app)
    photo = picture()
    api._request("post", "/api/v1/media", data={"kind": "photo", "file": (io.BytesIO(photo), "p.png")},
                 headers=bearer(ours.field_token), content_type="multipart/form-data")
    digest = hashlib.sha256(photo).hexdigest()
    answer = api._request("post", "/api/v1/visits", json=survey_body(ours.given, photos=[digest]),
                          headers={**bearer(ours.field_token), "Idempotency-Key": "record-page-01"})
    record_id = answer.get_json()["record_id"]
    staff = client_for(ours.contractor_user)
    page = staff.get(f"/corrections/records/{record_id}").get_data(as_text=True)
    assert "移动端记录" in page and "精度约 12 米" in page and "户主外出务工" in page
    media_url = f"/corrections/records/{record_id}/media/{digest}"
    assert media_url in page
    download = staff.get(media_url)
    assert download.status_code == 200 and download.data == photo and download.mimetype == "image/png"
    assert client_for(sides.theirs.contractor_user).get(media_url).status_code == 404
    assert staff.get(f"/corrections/records/{record_id}/media/{'0' * 64}").status_code == 404
    assert client_for(Factory().user("supervisor")).get(media_url).status_code == 200
