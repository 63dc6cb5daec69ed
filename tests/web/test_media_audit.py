"""影像核验: a supervisor draws a verifiable sample of app visits' photos and signatures, judges
each real or doubtful (with a reason); the verdicts are audited and shown on the record page, a
doubtful one flags the record, and `verify` re-computes the draw from its stored seed."""
from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from oversight.clock import county_today
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import AppVisit, AuditEvent, CompletionRecord, MediaReview, SamplingDraw, VisitMedia
from oversight.services.draws import MEDIA_AUDIT, make_draws, recompute, verify_stored_draw
from oversight.services.media_audit import MediaAuditError, review_media
from tests.api_support import bearer, picture, sides, survey_body, clock  # noqa: F401  (fixtures)
from tests.conftest import Client

Q2 = Quarter.parse("2025Q2")


@pytest.fixture
def http(app):
    client = Client(app)
    return lambda method, url, **kwargs: client._request(method, url, **kwargs)


def _media(http, token, data, kind):
    answer = http("post", "/api/v1/media", data={"kind": kind, "file": (io.BytesIO(data), "p.png")},
                  headers=bearer(token), content_type="multipart/form-data")
    assert answer.status_code in (200, 201), answer.get_json()
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def app_records(http, sides, clock):
    """Two app visits of our side in 2025Q2 (a survey and a care visit), each with a photo and a
    signature; the clock then moved past the quarter."""
    ours = sides.ours
    made = []
    for n, assignment in enumerate((ours.given, ours.care)):
        photo = _media(http, ours.field_token, picture((40 * n + 20, 90, 160), stripe=5 + 10 * n), "photo")
        sign = _media(http, ours.field_token, picture((0, 0, 0), stripe=20 + 5 * n), "signature")
        body = survey_body(assignment, photos=[photo], signature=sign, no_signature_reason=None)
        if assignment.service_type == "care_visit":
            body["fields"] = {"care_items": ["日常看护"]}
        answer = http("post", "/api/v1/visits", json=body, headers={**bearer(ours.field_token),
                                                                     "Idempotency-Key": f"media-audit-{n}"})
        assert answer.status_code == 201, answer.get_json()
        made.append(answer.get_json()["record_id"])
    clock.move_to("2025-07-05T02:00:00+00:00")
    return made


def _draw(sides, seed="影像-2025Q2"):
    outcome = make_draws(MEDIA_AUDIT, Q2, today=county_today(), contract_id=sides.ours.contract.id, seed=seed)
    db.session.commit()
    return outcome


def test_a_media_audit_draws_app_records_with_media_and_is_reproducible(app, sides, app_records):
    outcome = _draw(sides)
    [draw] = [d for d in outcome.draws if d.service_type == "household_survey"]
    assert [row[0] for row in draw.population] == [app_records[0]]
    assert draw.rule["floor"] == 5 and draw.rule["share"] == "0.1"
    care = next(d for d in outcome.draws if d.service_type == "care_visit")
    assert [item.record_id for item in care.items] == [app_records[1]]
    # the same seed and population re-compute the same sample; verify agrees with the audit log
    check = verify_stored_draw(draw)
    assert check.matches and not check.added_since
    assert [i.record_id for i in recompute(draw).items] == [item.record_id for item in draw.items]
    draw.seed = "另一个种子"
    assert not verify_stored_draw(draw).matches  # the audited seed no longer matches the row
    db.session.rollback()
    # a second draw of the same quarter and service is refused
    again = _draw(sides)
    assert not again.draws and all("已抽样" in skipped.reason for skipped in again.skipped)


def test_no_app_media_no_media_audit(app, sides, clock):
    clock.move_to("2025-07-05T02:00:00+00:00")
    outcome = _draw(sides)
    assert not outcome.draws
    assert all("没有带照片或签名" in skipped.reason for skipped in outcome.skipped)


def test_a_supervisor_reviews_each_file_and_a_doubtful_one_flags_the_record(app, client_for, factory, sides,
                                                                             app_records):
    draw = next(d for d in _draw(sides).draws if d.service_type == "household_survey")
    [item] = draw.items
    supervisor = factory.user("supervisor")
    db.session.commit()
    client = client_for(supervisor)
    page = client.get(f"/draws/{draw.id}/media")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "影像核验" in html and "待核验 2" in html
    photo, sign = db.session.execute(
        select(VisitMedia).join(AppVisit, VisitMedia.visit_id == AppVisit.id)
        .where(AppVisit.record_id == item.record_id).order_by(VisitMedia.id)).scalars().all()
    assert (photo.kind, sign.kind) == ("photo", "signature")
    url = f"/draws/{draw.id}/media/{item.id}"
    # doubtful without a reason is refused, nothing stored
    refused = client.post(f"{url}/{sign.id}", {"verdict": "doubtful", "reason": ""}, token_from=f"/draws/{draw.id}/media")
    assert refused.status_code == 302 and db.session.execute(select(MediaReview)).first() is None
    assert client.post(f"{url}/{photo.id}", {"verdict": "real"}, token_from=f"/draws/{draw.id}/media").status_code == 302
    assert client.post(f"{url}/{sign.id}", {"verdict": "doubtful", "reason": "签名笔迹与上次明显不同"},
                       token_from=f"/draws/{draw.id}/media").status_code == 302
    db.session.expire_all()
    reviews = db.session.execute(select(MediaReview).order_by(MediaReview.id)).scalars().all()
    assert [(r.visit_media_id, r.verdict, r.reviewer_id) for r in reviews] == [
        (photo.id, "real", supervisor.id), (sign.id, "doubtful", supervisor.id)]
    record = db.session.get(CompletionRecord, item.record_id)
    assert record.flagged and [f["code"] for f in record.anomaly_flags] == ["doubtful_media"]
    assert "签名笔迹与上次明显不同" in record.anomaly_flags[0]["reason"]
    audited = set(db.session.execute(select(AuditEvent.object_type, AuditEvent.action)).all())
    assert ("MediaReview", "create") in audited
    # a file is judged once
    with pytest.raises(MediaAuditError, match="已核验"):
        review_media(item, photo.id, "doubtful", "再看一次", supervisor)
    db.session.rollback()
    # the record page shows the verdicts and the flag to the bureau, not to the contractor
    record_page = client.get(f"/corrections/records/{record.id}").get_data(as_text=True)
    assert "签名笔迹与上次明显不同" in record_page and "存疑" in record_page and "影像核验存疑" in record_page
    listed = client.get(f"/draws/{draw.id}/media").get_data(as_text=True)
    assert "真实 1，存疑 1，待核验 0" in listed
    theirs = client_for(sides.ours.contractor_user).get(f"/corrections/records/{record.id}").get_data(as_text=True)
    assert "media-reviews" not in theirs and "签名笔迹" not in theirs
    # the draw still verifies: the flag came after it and changes no frozen population
    assert verify_stored_draw(db.session.get(SamplingDraw, draw.id)).matches


def test_only_the_bureau_reviews_and_only_a_media_audit_has_the_page(app, client_for, factory, sides, app_records):
    draw = next(d for d in _draw(sides).draws if d.service_type == "household_survey")
    item = draw.items[0]
    media = db.session.execute(select(VisitMedia).order_by(VisitMedia.id)).scalars().first()
    auditor = factory.user("auditor")
    db.session.commit()
    reader = client_for(auditor)
    assert reader.get(f"/draws/{draw.id}/media").status_code == 200
    denied = reader.post(f"/draws/{draw.id}/media/{item.id}/{media.id}", {"verdict": "real"},
                         token_from=f"/draws/{draw.id}/media")
    assert denied.status_code in (403, 404)
    assert db.session.execute(select(MediaReview)).first() is None
    assert client_for(sides.ours.contractor_user).get(f"/draws/{draw.id}/media").status_code in (403, 404)
