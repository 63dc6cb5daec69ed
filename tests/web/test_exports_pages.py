"""Export downloads: one click from the exports page, each to the roles allowed to have it."""
from __future__ import annotations

import errno
import io
import json
import zipfile
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from oversight.adapters import files
from oversight.exports import bundle, ocds
from oversight.extensions import db
from oversight.clock import format_county_time
from oversight.models import AuditEvent, ExportJob, TaskFailure
from oversight.services import bundle_exports
from tests.exports_support import BUNDLES_PAGE, ask_for_bundle, download_bundle, make_evaluation, make_review
from tests.store_support import FULL_DISK


@pytest.fixture
def world(factory):
    """Two contractors; ours has a published and a draft review and an approved evaluation, theirs a draft one."""
    ours, theirs = factory.contractor(name="本方机构"), factory.contractor(name="他方机构")
    our_contract = factory.contract(ours, code="OURS-1")
    their_contract = factory.contract(theirs, code="THEIRS-1")
    admin = factory.user("admin")
    reviews = {quarter: make_review(our_contract, quarter) for quarter in ("2025Q1", "2025Q2", "2025Q3", "2025Q4")}
    published = make_review(our_contract, "2026Q1", status="published", comment='=HYPERLINK("http://x","y")')
    draft = make_review(our_contract, "2026Q2", status="draft")
    make_review(their_contract, "2025Q1")
    return {
        "our_contract": our_contract, "their_contract": their_contract, "reviews": reviews,
        "published": published, "draft": draft,
        "evaluation": make_evaluation(our_contract, 2025, approver=admin),
        "their_evaluation": make_evaluation(their_contract, 2025),
        "contractor_user": factory.user("contractor", ours), "auditor": factory.user("auditor"),
        "supervisor": factory.user("supervisor"), "admin": admin,
    }


@pytest.mark.parametrize("role", ["admin", "supervisor", "auditor", "contractor_user"])
def test_exports_page_is_in_the_navigation_for_every_role(client_for, world, role):
    page = client_for(world[role]).get("/exports/?year=2025").get_data(as_text=True)
    assert 'href="/exports/#review-sheets"' in page and 'href="/exports/#evaluation-reports"' in page
    assert f'/reviews/{world["reviews"]["2025Q1"].id}/sheet.xlsx' in page
    assert f'/evaluations/{world["evaluation"].id}/report.pdf' in page
    assert ('action="/exports/audit-bundles"' in page) == (role in ("admin", "auditor"))
    assert ('name="full" value="1"' in page) == (role == "admin")


def test_contractor_page_lists_only_its_own_published_reviews_and_approved_evaluations(client_for, world):
    client = client_for(world["contractor_user"])
    page = client.get("/exports/?year=2025").get_data(as_text=True)
    assert "OURS-1" in page and "THEIRS-1" not in page
    assert f'/evaluations/{world["their_evaluation"].id}/' not in page
    page_2026 = client.get("/exports/?year=2026").get_data(as_text=True)
    assert f'/reviews/{world["published"].id}/sheet.xlsx' in page_2026
    assert f'/reviews/{world["draft"].id}/sheet.xlsx' not in page_2026


def test_review_sheet_downloads_as_xlsx_with_the_comment_inert(client_for, world):
    response = client_for(world["contractor_user"]).get(f"/reviews/{world['published'].id}/sheet.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data))["季度考核表"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value and "HYPERLINK" in str(cell.value)]
    assert [cell.value for cell in cells] == ['\'=HYPERLINK("http://x","y")']


@pytest.mark.parametrize("url", ["/reviews/{draft.id}/sheet.xlsx", "/evaluations/{their_evaluation.id}/report.pdf",
                                 "/reviews/999999/sheet.xlsx"])
def test_contractor_gets_404_for_drafts_and_for_another_contractor(client_for, world, url):
    assert client_for(world["contractor_user"]).get(url.format(**world)).status_code == 404


@pytest.mark.parametrize("kind, mimetype, magic", [
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
    ("pdf", "application/pdf", b"%PDF"),
])
@pytest.mark.parametrize("role", ["supervisor", "auditor", "contractor_user"])
def test_evaluation_report_downloads(client_for, world, role, kind, mimetype, magic):
    response = client_for(world[role]).get(f"/evaluations/{world['evaluation'].id}/report.{kind}")
    assert response.status_code == 200 and response.mimetype == mimetype and response.data.startswith(magic)


@pytest.mark.parametrize("role", ["supervisor", "contractor_user"])
@pytest.mark.parametrize("url", [BUNDLES_PAGE, "/exports/ocds/2025.json"])
def test_bundle_and_ocds_are_for_admins_and_auditors_only(client_for, world, role, url):
    client = client_for(world[role])
    assert client.get(url).status_code == 403
    assert ask_for_bundle(client, 2025).status_code == 403
    assert db.session.execute(select(ExportJob)).first() is None


def test_auditor_downloads_a_masked_bundle_that_verifies_and_may_not_ask_for_full(client_for, world, app, tmp_path):
    client = client_for(world["auditor"])
    assert ask_for_bundle(client, 2025, full=True).status_code == 403
    response = download_bundle(client, 2025)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert quote("审计包_2025.zip") in response.headers["Content-Disposition"]
    path = tmp_path / "b.zip"
    path.write_bytes(response.data)
    response.close()
    found = bundle.verify_bundle(path)
    assert found.ok, found.problems
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read(bundle.MANIFEST))["personal_data"] == "masked"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).scalar_one()
    assert (event.actor, event.action, event.object_id, event.changes["zip_sha256"]) == (
        world["auditor"].username, "export", "2025", bundle.file_sha256(path))
    assert bundle.registration(found) == (event, None)
    job = db.session.execute(select(ExportJob)).scalar_one()
    assert (job.status, job.year, job.full, job.zip_sha256, job.error) == ("done", 2025, False, event.changes["zip_sha256"], None)
    kept = [found for found in (tmp_path / "reports").rglob("*") if found.is_file()]
    assert kept == [tmp_path / "reports" / bundle.BUNDLE_FOLDER / f"{event.changes['zip_sha256']}.zip"]  # no working copy


def test_the_bundles_page_shows_each_request_in_county_time_and_refreshes_only_while_one_is_pending(
        client_for, world):
    client = client_for(world["auditor"])
    download_bundle(client, 2025).close()
    page = client.get(BUNDLES_PAGE).get_data(as_text=True)
    job = db.session.execute(select(ExportJob)).scalar_one()
    assert "已完成" in page and "下载 .zip" in page and format_county_time(job.requested_at) in page
    assert "（北京时间）" in page and 'http-equiv="refresh"' not in page
    for status, shown in (("pending", "排队中"), ("running", "生成中")):
        job.status, job.zip_sha256, job.finished_at = status, None, None
        db.session.commit()
        page = client.get(BUNDLES_PAGE).get_data(as_text=True)
        assert shown in page and '<meta http-equiv="refresh" content="5">' in page
        assert f"/exports/audit-bundles/{job.id}.zip" not in page
        assert client.get(f"/exports/audit-bundles/{job.id}.zip").status_code == 404  # nothing to send yet


def test_only_the_user_who_asked_downloads_the_bundle(client_for, world, factory):
    download_bundle(client_for(world["auditor"]), 2025).close()
    job = db.session.execute(select(ExportJob)).scalar_one()
    url = f"/exports/audit-bundles/{job.id}.zip"
    assert client_for(world["auditor"]).get(url).status_code == 200
    for other in (factory.user("auditor"), world["admin"]):
        client = client_for(other)
        assert client.get(url).status_code == 404
        assert url not in client.get(BUNDLES_PAGE).get_data(as_text=True)
    assert client_for(world["supervisor"]).get(url).status_code == 403
    assert client_for(world["auditor"]).get("/exports/audit-bundles/999999.zip").status_code == 404


def test_admin_downloads_the_full_bundle_and_it_is_logged_as_a_personal_data_view(client_for, world):
    response = download_bundle(client_for(world["admin"]), 2025, full=True)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert json.loads(archive.read(bundle.MANIFEST))["personal_data"] == "full"
    response.close()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).scalar_one()
    assert (event.action, event.actor) == ("view_personal_data", world["admin"].username)


def test_a_full_bundle_is_no_longer_sent_to_an_admin_who_lost_the_role(client_for, world):
    client = client_for(world["admin"])
    download_bundle(client, 2025, full=True).close()
    job = db.session.execute(select(ExportJob)).scalar_one()
    world["admin"].role = "auditor"
    db.session.commit()
    assert client_for(world["admin"]).get(f"/exports/audit-bundles/{job.id}.zip").status_code == 404


def test_ocds_download_is_a_valid_package(client_for, world):
    response = client_for(world["auditor"]).get("/exports/ocds/2025.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    package = json.loads(response.data)
    assert ocds.validation_errors(package) == []
    assert package["uri"] == "http://localhost/exports/ocds/2025.json"
    assert {release["contracts"][0]["id"] for release in package["releases"]} == {"OURS-1", "THEIRS-1"}


def test_a_full_reports_folder_fails_the_bundle_with_a_chinese_message(client_for, world, app, monkeypatch):
    app.config.update(TASK_RETRIES=1, TASK_RETRY_DELAY=0)  # the queue is built on first use, with these

    def no_space(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.tempfile, "mkstemp", no_space)
    client = client_for(world["auditor"])
    assert ask_for_bundle(client, 2025).status_code == 302
    page = client.get(BUNDLES_PAGE).get_data(as_text=True)
    assert "失败" in page and f"审计包未能生成：{FULL_DISK}" in page and 'http-equiv="refresh"' not in page
    assert db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).first() is None


def test_a_build_that_keeps_failing_is_tried_again_then_failed_with_nothing_stored(
        client_for, world, app, tmp_path, monkeypatch):
    app.config.update(TASK_RETRIES=2, TASK_RETRY_DELAY=0)  # the queue is built on first use, with these
    real_build, attempts = bundle.build_audit_bundle, []

    def half_then_broken(year, out_path, **kwargs):
        attempts.append(year)
        real_build(year, out_path, **kwargs)  # a whole zip written to the working file, then the failure
        raise RuntimeError("connection lost")

    monkeypatch.setattr(bundle_exports, "build_audit_bundle", half_then_broken)
    client = client_for(world["auditor"])
    assert ask_for_bundle(client, 2025).status_code == 302
    assert attempts == [2025, 2025, 2025]
    page = client.get(BUNDLES_PAGE).get_data(as_text=True)
    assert "失败" in page and bundle_exports.UNEXPECTED in page and "connection lost" not in page
    job = db.session.execute(select(ExportJob)).scalar_one()
    assert (job.status, job.zip_sha256, job.error) == ("failed", None, bundle_exports.UNEXPECTED)
    assert client.get(f"/exports/audit-bundles/{job.id}.zip").status_code == 404
    assert [found for found in (tmp_path / "reports").rglob("*") if found.is_file()] == []
    assert db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).first() is None
    failure = db.session.execute(select(TaskFailure)).scalar_one()  # and kept for the 定时任务 page
    assert failure.task_name == "page_job" and "connection lost" in failure.error


def test_a_build_that_fails_once_is_done_on_the_next_try(client_for, world, app, monkeypatch):
    app.config.update(TASK_RETRIES=2, TASK_RETRY_DELAY=0)
    real_build, attempts = bundle.build_audit_bundle, []

    def fails_first(year, out_path, **kwargs):
        attempts.append(year)
        if len(attempts) == 1:
            raise RuntimeError("connection lost")
        return real_build(year, out_path, **kwargs)

    monkeypatch.setattr(bundle_exports, "build_audit_bundle", fails_first)
    response = download_bundle(client_for(world["auditor"]), 2025)
    assert response.status_code == 200 and response.data.startswith(b"PK")
    response.close()
    assert len(attempts) == 2 and db.session.execute(select(ExportJob.status)).scalar_one() == "done"
