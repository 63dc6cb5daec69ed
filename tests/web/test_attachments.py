"""Attachment pages: a contractor's evidence with a notice's answer and a review comment, refused
types in Chinese, downloads only for those who may see the owner (404 for anyone else)."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from oversight.extensions import db
from oversight.models import Attachment, RectificationNotice
from oversight.services.attachments import Upload, attach
from tests.attachment_support import HTML, JPEG, PDF, PNG, attachment_owners


@pytest.fixture
def world(factory):
    found = attachment_owners(factory)
    review = found["review"]
    review.published_at, review.comment_deadline = datetime(2025, 10, 9), date(2099, 1, 1)
    db.session.commit()
    return found


def text(response) -> str:
    return response.get_data(as_text=True)


def _respond(client, notice, *files):
    url = f"/spot-checks/notices/{notice.id}"
    return client.post(f"{url}/respond", {"response": "已重新入户调查并更正结论",
                                          "attachments": [(io.BytesIO(data), name) for name, data in files]},
                       token_from=url, content_type="multipart/form-data", follow_redirects=True)


def test_a_contractor_answers_a_notice_with_a_photo_it_can_download_as_a_file(client_for, world):
    notice = world["notice"]
    client = client_for(world["contractor"])
    page = _respond(client, notice, ("入户照片.jpg", JPEG), ("整改报告.pdf", PDF))
    assert page.status_code == 200 and "已提交整改情况" in text(page)
    photo, _report = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars()
    assert (photo.owner_type, photo.owner_id, photo.uploaded_by_id) == ("rectification_notice", notice.id,
                                                                        world["contractor"].id)
    listed = text(client.get(f"/spot-checks/notices/{notice.id}"))
    assert f'href="/attachments/{photo.id}"' in listed and "整改报告.pdf" in listed and "PDF" in listed
    download = client.get(f"/attachments/{photo.id}")
    assert download.status_code == 200 and download.data == JPEG and download.mimetype == "image/jpeg"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]


def test_a_wrong_type_is_refused_in_chinese_and_the_answer_is_not_saved(client_for, world):
    notice = world["notice"]
    page = _respond(client_for(world["contractor"]), notice, ("ok.png", PNG), ("照片.jpg", HTML))
    assert "附件“照片.jpg”的内容不是 JPG 文件" in text(page)
    db.session.expire_all()
    assert db.session.get(RectificationNotice, notice.id).status == "open"
    assert db.session.execute(select(Attachment)).first() is None
    page = _respond(client_for(world["contractor"]), notice, ("说明.docx", b"PK\x03\x04"))
    assert "类型不支持，只接受 JPG、PNG、HEIC、TIFF、PDF" in text(page)


def test_another_contractor_gets_404_for_the_file_while_the_bureau_and_auditors_get_it(client_for, world):
    photo = attach(world["notice"], Upload("入户照片.jpg", JPEG), world["contractor"])
    db.session.commit()
    assert client_for(world["other"]).get(f"/attachments/{photo.id}").status_code == 404
    assert client_for(world["other"]).get(f"/spot-checks/notices/{world['notice'].id}").status_code == 404
    for role in ("auditor", "supervisor", "admin", "contractor"):
        response = client_for(world[role]).get(f"/attachments/{photo.id}")
        assert response.status_code == 200 and response.data == JPEG, role
    assert client_for(world["auditor"]).get(f"/attachments/{photo.id + 1}").status_code == 404


def test_the_bureaus_own_spot_check_photos_are_not_the_contractors_to_download(client_for, world):
    photo = attach(world["check"], Upload("复核.jpg", JPEG), world["supervisor"])
    draft_file = Attachment(owner_type="quarterly_review", owner_id=world["draft"].id, filename="草稿.pdf",
                            content_type="application/pdf", size_bytes=1, sha256="0" * 64, stored_path="x.pdf")
    db.session.add(draft_file)
    db.session.commit()
    contractor = client_for(world["contractor"])
    assert contractor.get(f"/attachments/{photo.id}").status_code == 404
    assert contractor.get(f"/spot-checks/attachments/{photo.id}").status_code == 403
    assert contractor.get(f"/attachments/{draft_file.id}").status_code == 404
    assert client_for(world["auditor"]).get(f"/spot-checks/attachments/{photo.id}").data == JPEG


def test_a_contractor_disagrees_with_a_published_review_and_attaches_its_evidence(client_for, world):
    review = world["review"]
    client = client_for(world["contractor"])
    url = f"/reviews/{review.id}"
    page = client.post(f"{url}/comment", {"position": "disagree", "comment": "第三季度有两户记录漏算",
                                          "attachments": [(io.BytesIO(PDF), "入户登记表.pdf")]},
                       token_from=url, content_type="multipart/form-data", follow_redirects=True)
    assert "已提交意见" in text(page)
    (evidence,) = db.session.execute(select(Attachment)).scalars()
    assert (evidence.owner_type, evidence.owner_id) == ("quarterly_review", review.id)
    assert "入户登记表.pdf" in text(client_for(world["supervisor"]).get(url))
    assert client_for(world["other"]).get(f"/attachments/{evidence.id}").status_code == 404


def test_a_refused_file_refuses_the_review_comment_too(client_for, world):
    review = world["review"]
    url = f"/reviews/{review.id}"
    page = client_for(world["contractor"]).post(
        f"{url}/comment", {"position": "disagree", "comment": "有异议", "attachments": [(io.BytesIO(HTML), "证明.pdf")]},
        token_from=url, content_type="multipart/form-data", follow_redirects=True)
    assert "附件“证明.pdf”的内容不是 PDF 文件" in text(page)
    db.session.expire_all()
    assert db.session.get(type(review), review.id).status == "published"


def test_the_upload_field_states_the_types_and_limits_from_the_settings(app, client_for, world):
    app.config.update(ATTACHMENT_MAX_BYTES=5 * 1024 * 1024, ATTACHMENT_MAX_FILES=3)
    page = text(client_for(world["contractor"]).get(f"/spot-checks/notices/{world['notice'].id}"))
    assert 'enctype="multipart/form-data"' in page and 'accept=".jpg,.jpeg,.png' in page
    assert "JPG、PNG、HEIC、TIFF、PDF），每个不超过 5 MB，每项最多 3 个" in page
