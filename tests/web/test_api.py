"""The REST API /api/v1: tokens, the caller's assignments, visits with idempotency keys, photos and
signatures, log uploads; ownership as on the pages (404) and revoked tokens (401)."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import ApiToken, AppVisit, AuditEvent, CompletionRecord, MediaFile, UploadBatch, VisitMedia
from tests.api_support import bearer, picture, sides, survey_body, clock  # noqa: F401  (fixtures)
from tests.completion_support import csv_bytes
from tests.conftest import Client


@pytest.fixture
def http(app):
    client = Client(app)
    return lambda method, url, **kwargs: client._request(method, url, **kwargs)


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _post_visit(http, token, body, key="visit-key-0001"):
    return http("post", "/api/v1/visits", json=body, headers={**bearer(token), "Idempotency-Key": key})


def _media(http, token, data, kind="photo"):
    return http("post", "/api/v1/media", data={"kind": kind, "file": (__import__("io").BytesIO(data), "p.png")},
                headers=bearer(token), content_type="multipart/form-data")


def test_a_field_worker_lists_only_the_assignments_given_to_it(http, sides):
    ours = sides.ours
    answer = http("get", "/api/v1/assignments", headers=bearer(ours.field_token))
    assert answer.status_code == 200
    listed = answer.get_json()
    assert {item["number"] for item in listed["items"]} == {ours.given.number, ours.care.number}
    assert listed["total"] == 2
    survey = next(item for item in listed["items"] if item["id"] == ours.given.id)
    assert survey["worker_no"] == ours.workers[0].worker_no and "*" in survey["subject"]["id_number"]
    assert [f["key"] for f in survey["form_fields"]][:2] == ["household_size", "annual_income_fen"]
    # the contractor's staff see every assignment of their contracts
    staff = http("get", "/api/v1/assignments", headers=bearer(ours.contractor_token)).get_json()
    assert {item["id"] for item in staff["items"]} == {ours.given.id, ours.care.id, ours.other.id}
    me = http("get", "/api/v1/me", headers=bearer(ours.field_token)).get_json()
    assert (me["role"], me["worker_no"]) == ("field_worker", ours.workers[0].worker_no)


def test_a_visit_is_stored_once_however_often_it_is_sent(http, sides):
    ours = sides.ours
    body = survey_body(ours.given)
    first = _post_visit(http, ours.field_token, body)
    assert first.status_code == 201, first.get_json()
    again = _post_visit(http, ours.field_token, body)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["record_id"] == first.get_json()["record_id"]
    assert _count(CompletionRecord) == 1 and _count(AppVisit) == 1
    record = db.session.get(CompletionRecord, first.get_json()["record_id"])
    assert (record.source, record.service_date.isoformat(), record.start_time, record.end_time) == (
        "app", "2025-06-10", "09:00", "09:40")
    assert (record.worker_id, record.household_size, record.annual_income_fen) == (ours.workers[0].id, 3, 2_400_000)
    assert record.anomaly_flags == []
    visit = db.session.get(AppVisit, first.get_json()["id"])
    assert (visit.accuracy_m, visit.no_signature_reason) == (12.5, "户主外出务工，家属不识字")
    assert str(visit.check_in_at) == "2025-06-10 01:00:00"  # stored as UTC
    actions = set(db.session.execute(select(AuditEvent.object_type, AuditEvent.action)).all())
    assert {("CompletionRecord", "enter"), ("AppVisit", "create")} <= actions
    # the same key with another body is refused, and stores nothing
    changed = _post_visit(http, ours.field_token, survey_body(ours.given, remark="改了"))
    assert changed.status_code == 422
    assert changed.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count(CompletionRecord) == 1


def test_the_service_form_is_checked_by_the_completion_log_rules(http, sides):
    ours = sides.ours
    body = survey_body(ours.given, fields={"household_size": "三", "annual_income_fen": "24000",
                                           "financial_assets_fen": "5000", "survey_conclusion": "需复核"})
    answer = _post_visit(http, ours.field_token, body)
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]
    assert {(e["field"], e["column"], e["value"], e["reason"]) for e in errors} == {
        ("fields.household_size", "家庭人口数", "三", "应为1到20之间的整数")}
    assert _count(CompletionRecord) == 0 and _count(AppVisit) == 0


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"no_signature_reason": None}, "no_signature_reason", "没有对象签名时，须填写未签名的原因"),
    ({"check_out_at": "2025-06-10T08:59:00+08:00"}, "check_out_at", "签退时间须晚于签到时间"),
    ({"photos": ["0" * 64]}, "photos[0]", "未找到该文件：请先通过 /api/v1/media 上传，再提交服务记录"),
    ({"check_in_at": "2025-06-10 09:00"}, "check_in_at", "须为含时区的 ISO 8601 时间"),
    ({"longitude": 500}, "longitude", None),
])
def test_a_refused_visit_names_its_field_in_chinese(http, sides, changes, field, reason):
    answer = _post_visit(http, sides.ours.field_token, survey_body(sides.ours.given, **changes))
    assert answer.status_code == 422
    found = {e["field"]: e["reason"] for e in answer.get_json()["errors"]}
    assert field in found and (reason is None or found[field] == reason)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in found[field])
    assert _count(CompletionRecord) == 0


def test_a_missing_idempotency_key_is_refused(http, sides):
    answer = http("post", "/api/v1/visits", json=survey_body(sides.ours.given), headers=bearer(sides.ours.field_token))
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_photos_are_kept_by_sha256_and_a_reused_photo_is_flagged(app, http, sides, clock):
    ours = sides.ours
    photo = picture()
    stored = _media(http, ours.field_token, photo)
    assert stored.status_code == 201, stored.get_json()
    digest = hashlib.sha256(photo).hexdigest()
    assert stored.get_json() == {"sha256": digest, "kind": "photo", "content_type": "image/png",
                                 "size_bytes": len(photo)}
    assert _media(http, ours.field_token, photo).status_code == 200 and _count(MediaFile) == 1
    signature = picture((0, 0, 0), stripe=20)
    assert _media(http, ours.field_token, signature, "signature").status_code == 201
    sign = hashlib.sha256(signature).hexdigest()
    first = _post_visit(http, ours.field_token, survey_body(ours.given, photos=[digest], signature=sign,
                                                             no_signature_reason=None), key="visit-photo-1")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["photos"] == [digest] and first.get_json()["signature"] == sign
    assert _count(VisitMedia) == 2
    # the same photo for another visit, sent with a device clock an hour off, checked in after the due date
    care = {"assignment_id": ours.care.id, "check_in_at": "2025-07-02T14:00:00+08:00",
            "check_out_at": "2025-07-02T14:50:00+08:00", "device_sent_at": "2025-06-10T11:40:00+08:00",
            "longitude": 115.002, "latitude": 25.862, "fields": {"care_items": ["日常看护", "生活照料"]},
            "photos": [digest], "signature": sign}
    clock.move_to("2025-07-02T08:00:00+00:00")
    second = _post_visit(http, ours.field_token, care, key="visit-photo-2")
    assert second.status_code == 201, second.get_json()
    record = db.session.get(CompletionRecord, second.get_json()["record_id"])
    codes = {flag["code"] for flag in record.anomaly_flags}
    assert {"reused_photo", "device_clock", "outside_window"} <= codes and record.flagged
    assert record.signed is True
    reasons = {flag["code"]: flag["reason"] for flag in record.anomaly_flags}
    assert reasons["outside_window"] == "签到日期2025-07-02不在任务服务期（2025-06-10至2025-06-30）之内"


def test_a_near_identical_photo_is_flagged_by_its_perceptual_hash(http, sides):
    ours = sides.ours
    first, second = picture(stripe=10), picture(stripe=11)  # re-encoded, barely moved
    digests = []
    for data in (first, second):
        assert _media(http, ours.field_token, data).status_code == 201
        digests.append(hashlib.sha256(data).hexdigest())
    assert _post_visit(http, ours.field_token, survey_body(ours.given, photos=[digests[0]]), "near-key-01").status_code == 201
    care = {"assignment_id": ours.care.id, "check_in_at": "2025-06-10T14:00:00+08:00",
            "check_out_at": "2025-06-10T14:50:00+08:00", "longitude": 115.002, "latitude": 25.862,
            "fields": {"care_items": ["日常看护"]}, "photos": [digests[1]], "no_signature_reason": "对象卧床"}
    answer = _post_visit(http, ours.field_token, care, "near-key-02")
    assert answer.status_code == 201, answer.get_json()
    record = db.session.get(CompletionRecord, answer.get_json()["record_id"])
    assert {flag["code"] for flag in record.anomaly_flags} >= {"similar_photo", "unsigned"}


def test_a_contractor_uploads_a_completion_log_through_the_api(http, sides):
    ours = sides.ours
    subject = ours.other.subject
    row = {"任务编号": ours.other.number, "服务对象姓名": subject.name, "身份证号": subject.id_number,
           "服务日期": "2025-06-09", "开始时间": "09:00", "结束时间": "09:45",
           "服务人员工号": ours.workers[1].worker_no, "服务人员姓名": ours.workers[1].name,
           "家庭人口数": "3", "家庭年收入(元)": "24000", "家庭金融资产(元)": "5000", "调查结论": "需复核"}
    import io

    answer = http("post", "/api/v1/uploads", data={"contract_id": str(ours.contract.id), "service_type": "household_survey",
                                                   "file": (io.BytesIO(csv_bytes("household_survey", [row])), "六月.csv")},
                  headers=bearer(ours.contractor_token), content_type="multipart/form-data")
    assert answer.status_code == 202, answer.get_json()
    batch_id = answer.get_json()["id"]
    status = http("get", f"/api/v1/uploads/{batch_id}", headers=bearer(ours.contractor_token)).get_json()
    assert status["status"] == "accepted"
    record = db.session.execute(select(CompletionRecord)).scalar_one()
    assert (record.source, record.batch_id) == ("upload", batch_id)
    # a field worker uploads no logs
    refused = http("post", "/api/v1/uploads", data={"contract_id": str(ours.contract.id), "service_type": "household_survey",
                                                    "file": (io.BytesIO(b"x"), "a.csv")},
                   headers=bearer(ours.field_token), content_type="multipart/form-data")
    assert refused.status_code == 403 and _count(UploadBatch) == 1


def _endpoints(sides):
    """(method, url, kwargs) of every endpoint, aimed at the other contractor's objects."""
    import io

    theirs = sides.theirs
    return [
        ("get", f"/api/v1/assignments/{theirs.given.id}", {}),
        ("post", "/api/v1/visits", {"json": survey_body(theirs.given), "headers": {"Idempotency-Key": "theirs-0001"}}),
        ("post", "/api/v1/uploads", {"data": {"contract_id": str(theirs.contract.id), "service_type": "household_survey",
                                              "file": (io.BytesIO(b"a,b\n"), "x.csv")},
                                     "content_type": "multipart/form-data"}),
    ]


def _their_visit_and_batch(http, sides):
    theirs = sides.theirs
    visit = _post_visit(http, theirs.field_token, survey_body(theirs.given), "their-visit-01")
    assert visit.status_code == 201
    import io

    batch = http("post", "/api/v1/uploads", data={"contract_id": str(theirs.contract.id), "service_type": "household_survey",
                                                  "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                 headers=bearer(theirs.contractor_token), content_type="multipart/form-data")
    assert batch.status_code == 202
    return visit.get_json()["id"], batch.get_json()["id"]


@pytest.mark.parametrize("who", ["field_token", "contractor_token"])
def test_every_endpoint_answers_404_for_another_contractors_objects(http, sides, who):
    visit_id, batch_id = _their_visit_and_batch(http, sides)
    token = getattr(sides.ours, who)
    calls = [*_endpoints(sides), ("get", f"/api/v1/visits/{visit_id}", {}), ("get", f"/api/v1/uploads/{batch_id}", {})]
    records = _count(CompletionRecord)
    for method, url, kwargs in calls:
        if who == "field_token" and url == "/api/v1/uploads":
            continue  # a field worker may not upload at all (403, above)
        headers = {**kwargs.pop("headers", {}), **bearer(token)}
        answer = http(method, url, headers=headers, **kwargs)
        assert answer.status_code == 404, (url, answer.get_json())
        assert answer.get_json()["message"] == "对象不存在"
    # a colleague's assignment, for a field worker, is as unknown as another contractor's
    if who == "field_token":
        assert http("get", f"/api/v1/assignments/{sides.ours.other.id}", headers=bearer(token)).status_code == 404
    assert _count(CompletionRecord) == records


def test_a_revoked_or_unknown_token_answers_401_everywhere(app, http, sides):
    from oversight.services.field_app import revoke_token

    ours = sides.ours
    token_row = db.session.execute(select(ApiToken).where(ApiToken.user_id == ours.field_user.id)).scalar_one()
    assert token_row.token_sha256 == hashlib.sha256(ours.field_token.encode()).hexdigest()
    assert ours.field_token not in {token_row.token_sha256, token_row.prefix}
    revoke_token(ours.field_user, token_row.id)
    db.session.commit()
    media = {"data": {"kind": "photo", "file": (__import__("io").BytesIO(picture()), "p.png")},
             "content_type": "multipart/form-data"}
    urls = [("get", "/api/v1/me", {}), ("get", "/api/v1/assignments", {}),
            ("get", f"/api/v1/assignments/{ours.given.id}", {}),
            ("post", "/api/v1/visits", {"json": survey_body(ours.given), "headers": {"Idempotency-Key": "revoked-001"}}),
            ("get", "/api/v1/visits/1", {}), ("post", "/api/v1/media", media),
            ("post", "/api/v1/uploads", {"data": {"contract_id": "1", "service_type": "household_survey"}}),
            ("get", "/api/v1/uploads/1", {})]
    for token in (ours.field_token, "ovt_unknown", ""):
        for method, url, kwargs in urls:
            kwargs = {**kwargs}
            headers = {**kwargs.pop("headers", {}), **(bearer(token) if token else {})}
            if "data" in kwargs and "file" in kwargs["data"]:
                kwargs["data"] = {**kwargs["data"], "file": (__import__("io").BytesIO(picture()), "p.png")}
            answer = http(method, url, headers=headers, **kwargs)
            assert answer.status_code == 401, (token, url)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert _count(CompletionRecord) == 0 and _count(MediaFile) == 0


def test_a_session_cookie_is_no_key_to_the_api(client_for, sides):
    client = client_for(sides.ours.contractor_user)
    assert client.get("/api/v1/assignments").status_code == 401


def test_requests_past_the_rate_limit_answer_429_in_json(app, http, sides):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    answers = [http("get", "/api/v1/me", headers=bearer(sides.ours.field_token)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = http("get", "/api/v1/me", headers=bearer(sides.ours.field_token))
    assert "请求过于频繁" in limited.get_json()["message"]
    # another device's token has its own count
    assert http("get", "/api/v1/me", headers=bearer(sides.ours.contractor_token)).status_code == 200


def test_the_openapi_document_is_made_from_the_code(http):
    document = http("get", "/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/me", "/api/v1/assignments", "/api/v1/assignments/{assignment_id}", "/api/v1/visits",
        "/api/v1/visits/{visit_id}", "/api/v1/media", "/api/v1/uploads", "/api/v1/uploads/{batch_id}"}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_guessed_tokens_are_answered_429_per_address_past_the_limit(app, http, sides):
    app.config["API_BAD_TOKENS_PER_ADDRESS"] = "5 per 15 minutes"
    guesses = [http("get", "/api/v1/me", headers=bearer(f"ovt_guess{n:04d}")) for n in range(7)]
    assert [answer.status_code for answer in guesses] == [401] * 5 + [429] * 2
    limited = guesses[-1].get_json()
    assert limited["code"] == 429 and "请求过于频繁" in limited["message"] and limited["errors"] == []
    # past the limit even a valid token from that address answers 429: a right guess does not stand out
    assert http("get", "/api/v1/me", headers=bearer(sides.ours.field_token)).status_code == 429
    # another address is not held back; valid tokens and requests without one are not counted
    other = {"environ_base": {"REMOTE_ADDR": "10.0.0.9"}}
    assert http("get", "/api/v1/me", headers=bearer(sides.ours.field_token), **other).status_code == 200
    for _ in range(6):
        assert http("get", "/api/v1/me", **other).status_code == 401
    assert http("get", "/api/v1/me", headers=bearer(sides.ours.field_token), **other).status_code == 200
