"""Export downloads: one click from the exports page, each to the roles allowed to have it."""
from __future__ import annotations

import errno
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from oversight.adapters import files
from oversight.exports import bundle, ocds
from oversight.extensions import db
from oversight.models import AuditEvent
from tests.exports_support import make_evaluation, make_review
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
    assert ("/exports/audit-bundle.zip?year=2025" in page) == (role in ("admin", "auditor"))
    assert ("full=1" in page) == (role == "admin")


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
@pytest.mark.parametrize("url", ["/exports/audit-bundle.zip?year=2025", "/exports/ocds/2025.json"])
def test_bundle_and_ocds_are_for_admins_and_auditors_only(client_for, world, role, url):
    assert client_for(world[role]).get(url).status_code == 403


def test_auditor_downloads_a_masked_bundle_that_verifies_and_may_not_ask_for_full(client_for, world, app, tmp_path):
    client = client_for(world["auditor"])
    assert client.get("/exports/audit-bundle.zip?year=2025&full=1").status_code == 403
    response = client.get("/exports/audit-bundle.zip?year=2025")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    path = tmp_path / "b.zip"
    path.write_bytes(response.data)
    response.close()
    found = bundle.verify_bundle(path)
    assert found.ok, found.problems
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read(bundle.MANIFEST))["personal_data"] == "masked"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).scalar_one()
    assert (event.actor, event.action, event.changes["zip_sha256"]) == (
        world["auditor"].username, "export", bundle.file_sha256(path))
    kept = [found for found in (tmp_path / "reports").rglob("*") if found.is_file()]
    assert kept == [tmp_path / "reports" / bundle.BUNDLE_FOLDER / f"{event.changes['zip_sha256']}.zip"]  # no working copy


def test_admin_downloads_the_full_bundle_and_it_is_logged_as_a_personal_data_view(client_for, world):
    response = client_for(world["admin"]).get("/exports/audit-bundle.zip?year=2025&full=1")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert json.loads(archive.read(bundle.MANIFEST))["personal_data"] == "full"
    response.close()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).scalar_one()
    assert (event.action, event.actor) == ("view_personal_data", world["admin"].username)


def test_ocds_download_is_a_valid_package(client_for, world):
    response = client_for(world["auditor"]).get("/exports/ocds/2025.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    package = json.loads(response.data)
    assert ocds.validation_errors(package) == []
    assert package["uri"] == "http://localhost/exports/ocds/2025.json"
    assert {release["contracts"][0]["id"] for release in package["releases"]} == {"OURS-1", "THEIRS-1"}


def test_a_full_reports_folder_answers_a_chinese_message_not_a_500(client_for, world, monkeypatch):
    def no_space(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.tempfile, "mkstemp", no_space)
    client = client_for(world["auditor"])
    response = client.get("/exports/audit-bundle.zip?year=2025")
    assert response.status_code == 302 and response.headers["Location"].endswith("/exports/?year=2025")
    page = client.get("/exports/?year=2025").get_data(as_text=True)
    assert f"审计包未能生成：{FULL_DISK}" in page
