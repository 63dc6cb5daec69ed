"""Evidence attachments: stored whole under their SHA-256, once per owner, shown to those who may
see the owner, and listed in the audit bundle's manifest that verify-bundle checks."""
from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oversight.domain.attachments import AttachmentRefused
from oversight.exports import bundle
from oversight.extensions import db
from oversight.models import Attachment
from oversight.clock import replayed_at
from oversight.services.attachments import (
    Upload,
    attach,
    attach_all,
    attachments_of,
    may_attach,
    may_see,
)
from tests.attachment_support import HTML, JPEG, PDF, PNG, attachment_owners

IN_2025 = datetime(2025, 10, 22, 2, 0)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def owners(factory):
    return attachment_owners(factory)


def test_a_file_is_stored_whole_under_its_sha256_and_listed_for_its_owner(app, owners):
    notice, user = owners["notice"], owners["contractor"]
    photo, scan = attach_all(notice, [Upload("入户照片.JPG", JPEG), Upload("dir/整改报告.pdf", PDF)], user)
    db.session.commit()
    assert photo.stored_path == f"attachments/rectification_notice/{notice.id}/{_sha(JPEG)}.jpg"
    assert (Path(app.config["UPLOADS_DIR"]) / photo.stored_path).read_bytes() == JPEG
    assert (photo.owner_type, photo.owner_id, photo.filename, photo.content_type, photo.size_bytes, photo.sha256,
            photo.uploaded_by_id) == ("rectification_notice", notice.id, "入户照片.JPG", "image/jpeg", len(JPEG),
                                      _sha(JPEG), user.id)
    assert (scan.filename, scan.content_type, scan.stored_path.endswith(f"{_sha(PDF)}.pdf")) == (
        "整改报告.pdf", "application/pdf", True)
    assert attachments_of(notice) == [photo, scan]
    assert attachments_of(owners["review"]) == []


def test_the_same_file_is_kept_once_per_owner_and_each_owner_keeps_its_own(app, owners):
    notice, review, user = owners["notice"], owners["review"], owners["contractor"]
    first = attach(notice, Upload("a.jpg", JPEG), user)
    again = attach_all(notice, [Upload("copy.jpg", JPEG), Upload("copy-2.jpg", JPEG)], user)
    on_review = attach(review, Upload("a.jpg", JPEG), user)
    db.session.commit()
    assert again == [first]
    assert db.session.execute(select(func.count()).select_from(Attachment)).scalar_one() == 2
    assert on_review.id != first.id and on_review.stored_path != first.stored_path
    root = Path(app.config["UPLOADS_DIR"])
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == sorted(
        [first.stored_path, on_review.stored_path])
    assert (root / first.stored_path).read_bytes() == (root / on_review.stored_path).read_bytes() == JPEG


def test_a_spot_checks_files_stay_in_the_checks_own_folder(owners):
    check = owners["check"]
    (photo,) = attach_all(check, [Upload("入户.png", PNG)], owners["supervisor"])
    db.session.commit()
    assert photo.stored_path == f"attachments/{check.id}/{_sha(PNG)}.png"
    assert [a.id for a in check.attachments] == [photo.id]


def test_one_bad_file_refuses_them_all_and_nothing_is_stored(app, owners):
    with pytest.raises(AttachmentRefused, match="“页面.jpg”的内容不是 JPG 文件"):
        attach_all(owners["notice"], [Upload("ok.png", PNG), Upload("页面.jpg", HTML)], owners["contractor"])
    db.session.rollback()
    assert db.session.execute(select(Attachment)).first() is None
    assert not (Path(app.config["UPLOADS_DIR"]) / "attachments").exists()


def test_the_limits_are_the_apps_settings(app, owners):
    notice, user = owners["notice"], owners["contractor"]
    limit = max(len(PDF), len(JPEG), len(PNG))
    app.config.update(ATTACHMENT_MAX_BYTES=limit, ATTACHMENT_MAX_FILES=2)
    with pytest.raises(AttachmentRefused, match=f"超过 {limit} 字节"):
        attach(notice, Upload("big.pdf", PDF + b" " * (limit - len(PDF) + 1)), user)
    attach_all(notice, [Upload("a.pdf", PDF), Upload("b.jpg", JPEG)], user)
    with pytest.raises(AttachmentRefused, match="每项最多 2 个附件"):
        attach(notice, Upload("c.png", PNG), user)
    assert attach(notice, Upload("again.pdf", PDF), user).filename == "a.pdf"  # already there: no third file


def test_who_may_see_an_owners_files_and_who_may_add_them(owners):
    notice, review, draft, check = owners["notice"], owners["review"], owners["draft"], owners["check"]
    contractor, other, auditor, supervisor = (owners[k] for k in ("contractor", "other", "auditor", "supervisor"))
    assert may_see(notice, contractor) and may_see(review, contractor)
    assert not may_see(draft, contractor) and not may_see(check, contractor)
    assert not any(may_see(owner, other) for owner in (notice, review, draft, check))
    assert all(may_see(owner, auditor) and may_see(owner, supervisor) for owner in (notice, review, draft, check))
    assert may_attach(notice, contractor) and not may_attach(notice, other) and not may_attach(notice, auditor)
    assert may_attach(check, supervisor) and not may_attach(check, contractor)
    with pytest.raises(AttachmentRefused, match="无权"):
        attach(notice, Upload("a.jpg", JPEG), other)


@pytest.fixture
def bundled(owners, tmp_path):
    """The 2025 bundle of a notice with two files and a review with one, uploaded in 2025."""
    with replayed_at(IN_2025):
        attach_all(owners["notice"], [Upload("入户照片.jpg", JPEG), Upload("报告.pdf", PDF)], owners["contractor"])
        attach(owners["review"], Upload("意见附件.png", PNG), owners["contractor"])
    attach(owners["check"], Upload("next-year.png", PNG), owners["supervisor"])  # uploaded now: not of 2025
    db.session.commit()
    path = tmp_path / "audit-2025.zip"
    with bundle.consistent_snapshot():
        bundle.build_audit_bundle(2025, path, full=False, exported_by=owners["admin"])
    return path


def _manifest(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(bundle.MANIFEST))


def test_the_bundles_manifest_lists_the_years_attachments_with_owner_hash_and_size(bundled, owners):
    listed = _manifest(bundled)["attachments"]
    notice, review = owners["notice"], owners["review"]
    assert [(i["owner_type"], i["owner_id"], i["owner"], i["filename"], i["sha256"], i["bytes"]) for i in listed["items"]] == [
        ("rectification_notice", notice.id, f"整改通知回复 #{notice.id}", "入户照片.jpg", _sha(JPEG), len(JPEG)),
        ("rectification_notice", notice.id, f"整改通知回复 #{notice.id}", "报告.pdf", _sha(PDF), len(PDF)),
        ("quarterly_review", review.id, f"季度考核意见 #{review.id}", "意见附件.png", _sha(PNG), len(PNG)),
    ]
    assert listed["count"] == 3 and listed["sha256"] == bundle.attachments_digest(listed["items"])
    with zipfile.ZipFile(bundled) as archive:
        table = archive.read(bundle.ATTACHMENTS_CSV).decode("utf-8-sig")
    assert "整改通知回复" in table and _sha(PDF) in table and "next-year.png" not in table
    found = bundle.verify_bundle(bundled)
    assert found.ok, found.problems
    assert len(found.attachments) == 3


def _rewritten_manifest(source, target, change) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            content = old.read(name)
            if name == bundle.MANIFEST:
                manifest = json.loads(content)
                change(manifest)
                content = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
            new.writestr(name, content)


def test_verify_bundle_names_a_changed_attachment_entry(bundled, tmp_path):
    def swap_hash(manifest):
        manifest["attachments"]["items"][0]["sha256"] = _sha(b"another photo")

    def swap_and_redigest(manifest):
        swap_hash(manifest)
        manifest["attachments"]["sha256"] = bundle.attachments_digest(manifest["attachments"]["items"])

    _rewritten_manifest(bundled, tmp_path / "a.zip", swap_hash)
    _rewritten_manifest(bundled, tmp_path / "b.zip", swap_and_redigest)
    first_id = _manifest(bundled)["attachments"]["items"][0]["id"]
    assert "清单中的附件列表与其摘要或数量不符（附件列表被改动）" in bundle.verify_bundle(tmp_path / "a.zip").problems
    assert bundle.verify_bundle(tmp_path / "b.zip").problems == [
        f"附件 #{first_id} 在清单与 {bundle.ATTACHMENTS_CSV} 中的 SHA-256 或字节数不一致"]


def test_verify_bundle_on_the_exporting_system_checks_the_listed_files_in_the_store(app, owners, tmp_path):
    with replayed_at(IN_2025):
        (photo,) = attach_all(owners["notice"], [Upload("入户照片.jpg", JPEG)], owners["contractor"])
    db.session.commit()
    out = tmp_path / "audit-2025.zip"
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["export-audit", "--year", "2025", "--out", str(out), "--as-user",
                                   owners["admin"].username])
    assert exported.exit_code == 0, exported.output
    verified = runner.invoke(args=["verify-bundle", str(out)])
    assert verified.exit_code == 0 and "清单所列附件 1 个" in verified.output, verified.output
    (Path(app.config["UPLOADS_DIR"]) / photo.stored_path).write_bytes(JPEG + b"changed")
    verified = runner.invoke(args=["verify-bundle", str(out)])
    assert verified.exit_code == 1
    assert f"附件 #{photo.id}（入户照片.jpg）的存储文件已丢失或内容与包中所列的 SHA-256 不符" in verified.output
