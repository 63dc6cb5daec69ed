"""Every kind of file round-trips through an S3 bucket when the app is set to FILE_STORE=s3: the
original log imported from the bucket, its error copy, register sheets, verification files,
attachments and the audit bundle, each downloaded back from the bucket; nothing lands on the disk."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from oversight.adapters.files import uploads_store
from oversight.exports import bundle
from oversight.extensions import db
from oversight.models import Attachment, AuditEvent, CompletionRecord, UploadBatch, VerificationImport
from tests.attachment_support import JPEG, PDF, attachment_owners
from tests.checks_support import add_records
from tests.completion_support import SURVEY, csv_bytes, good_row, world  # noqa: F401  (fixture)
from tests.exports_support import download_bundle, make_review
from tests.integration.test_verification import ECONOMIC, economic_row, xlsx
from tests.s3_support import PREFIX, client_of, object_names, s3_endpoint, s3_settings  # noqa: F401  (fixtures)
from tests.web.test_bulk_import import GOOD_ROWS, HEADERS, _xlsx as sheet_xlsx


@pytest.fixture
def s3_app(app, s3_settings):
    """The test's app, keeping its files in the test's bucket; UPLOADS_DIR and REPORTS_DIR must stay empty."""
    app.config.update(s3_settings)
    yield app
    for setting in ("UPLOADS_DIR", "REPORTS_DIR"):
        assert files_under(app.config[setting]) == [], f"{setting} got files although the store is S3"


def files_under(folder: str) -> list[str]:
    from pathlib import Path

    return sorted(str(path) for path in Path(folder).rglob("*") if path.is_file())


def bucket(app) -> list[str]:
    """The keys in the bucket, as the app's records name them."""
    settings = app.config
    return [name.removeprefix(PREFIX) for name in object_names(client_of(settings), settings["S3_BUCKET"])]


def stored_bytes(app, key: str) -> bytes:
    return client_of(app.config).get_object(Bucket=app.config["S3_BUCKET"], Key=PREFIX + key)["Body"].read()


def post_file(client, url, fields: dict, data: bytes, filename: str, field: str = "file"):
    return client.post(url, {**fields, field: (io.BytesIO(data), filename)}, token_from=url,
                       content_type="multipart/form-data")


def test_an_uploaded_log_is_kept_in_the_bucket_imported_from_it_and_downloaded_back(s3_app, client_for, world, factory):
    s3_app.config["IMPORT_SYNC"] = True
    client = client_for(factory.user("contractor", world.contractor))
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(2)])
    url = f"/uploads/contracts/{world.contract.id}/new"
    assert post_file(client, url, {"service_type": SURVEY}, data, "五月.csv").status_code == 302
    batch = db.session.execute(select(UploadBatch)).scalar_one()
    assert batch.stored_path == f"logs/{hashlib.sha256(data).hexdigest()}.csv"
    assert bucket(s3_app) == [batch.stored_path] and stored_bytes(s3_app, batch.stored_path) == data
    assert (batch.status, batch.rows_accepted) == ("accepted", 2)
    assert len(db.session.execute(select(CompletionRecord)).all()) == 2
    original = client.get(f"/uploads/batches/{batch.id}/original")
    assert original.status_code == 200 and original.data == data
    assert "attachment" in original.headers["Content-Disposition"]


def test_a_rejected_logs_error_copy_is_stored_in_the_bucket_and_downloaded_back(s3_app, client_for, world, factory):
    s3_app.config["IMPORT_SYNC"] = True
    client = client_for(factory.user("contractor", world.contractor))
    rows = [good_row(world, SURVEY, 0, 家庭人口数="三"), *[good_row(world, SURVEY, i) for i in (1, 2)]]
    url = f"/uploads/contracts/{world.contract.id}/new"
    post_file(client, url, {"service_type": SURVEY}, csv_bytes(SURVEY, rows), "五月.csv")
    batch = db.session.execute(select(UploadBatch)).scalar_one()
    assert batch.status == "rejected"
    assert bucket(s3_app) == sorted([batch.stored_path, f"logs/errors/{batch.id}.json", batch.error_report_path])
    copy = client.get(f"/uploads/batches/{batch.id}/errors.xlsx")
    assert copy.status_code == 200 and copy.data == stored_bytes(s3_app, batch.error_report_path)
    sheet = load_workbook(io.BytesIO(copy.data)).worksheets[0]
    assert sheet.cell(2, 11).value == "三" and sheet.cell(2, 11).fill.fill_type == "solid"
    assert sheet.cell(3, 11).fill.fill_type != "solid"


def test_an_attachment_goes_to_the_bucket_and_comes_back_as_a_download(s3_app, client_for, factory):
    from oversight.exports.bundle import stored_attachment_problems

    owners = attachment_owners(factory)
    notice, client = owners["notice"], client_for(owners["contractor"])
    url = f"/spot-checks/notices/{notice.id}"
    page = client.post(f"{url}/respond", {"response": "已整改", "attachments": [
        (io.BytesIO(JPEG), "入户照片.jpg"), (io.BytesIO(PDF), "整改报告.pdf")]},
        token_from=url, content_type="multipart/form-data", follow_redirects=True)
    assert "已提交整改情况" in page.get_data(as_text=True)
    photo, report = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars()
    assert bucket(s3_app) == sorted([photo.stored_path, report.stored_path])
    assert hashlib.sha256(JPEG).hexdigest() in photo.stored_path
    for attachment, data in ((photo, JPEG), (report, PDF)):
        download = client_for(owners["auditor"]).get(f"/attachments/{attachment.id}")
        assert download.status_code == 200 and download.data == data
        assert download.headers["X-Content-Type-Options"] == "nosniff"
    listed = [{"id": photo.id, "filename": photo.filename, "sha256": photo.sha256}]
    assert stored_attachment_problems(listed, uploads_store()) == []  # verify-bundle reads the bucket
    client_of(s3_app.config).put_object(Bucket=s3_app.config["S3_BUCKET"], Key=PREFIX + photo.stored_path, Body=PNG_SWAP)
    assert "内容与包中所列的 SHA-256 不符" in stored_attachment_problems(listed, uploads_store())[0]


PNG_SWAP = b"\x89PNG\r\n\x1a\n another picture"


def test_register_sheets_and_their_error_copies_go_to_the_bucket(s3_app, client_for, factory):
    client = client_for(factory.user("supervisor"))
    good = sheet_xlsx(HEADERS, GOOD_ROWS)
    assert "已导入服务对象 2 条" in post_file(client, "/imports/", {"kind": "subjects"}, good, "对象.xlsx").get_data(as_text=True)
    kept = f"imports/{hashlib.sha256(good).hexdigest()}.xlsx"
    assert bucket(s3_app) == [kept] and stored_bytes(s3_app, kept) == good
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "import")).scalar_one()
    assert event.changes["sha256"] in kept  # the audit event finds the sheet that was imported
    bad = sheet_xlsx(HEADERS, [["家庭", "李四", "360704195001010011", "梅林镇", "华坪村", "低保", "", 2]])
    page = post_file(client, "/imports/", {"kind": "subjects"}, bad, "对象.xlsx").get_data(as_text=True)
    report = f"import-errors/{hashlib.sha256(bad).hexdigest()[:16]}.xlsx"
    assert f'/imports/errors/{report.split("/")[1]}' in page and bucket(s3_app) == sorted([kept, report])
    copy = client.get(f"/imports/errors/{report.split('/')[1]}")
    assert copy.status_code == 200 and copy.data == stored_bytes(s3_app, report)
    assert client.get(f"/imports/errors/{'0' * 16}.xlsx").status_code == 404


def test_a_verification_file_and_its_error_copy_go_to_the_bucket(s3_app, client_for, factory):
    contract = factory.contract(factory.contractor(workers=1))
    record = add_records(contract, {0: 1})[0]
    client = client_for(factory.user("supervisor"))
    data = xlsx(ECONOMIC, [economic_row(record, **{"存款(元)": "很多"})])
    response = post_file(client, "/verification/", {"kind": "economic"}, data, "核对.xlsx")
    assert response.status_code == 302
    entry = db.session.execute(select(VerificationImport)).scalar_one()
    assert bucket(s3_app) == sorted([entry.stored_path, entry.error_report_path])
    assert stored_bytes(s3_app, entry.stored_path) == data
    copy = client.get(f"/verification/imports/{entry.id}/errors.xlsx")
    assert copy.status_code == 200 and copy.data == stored_bytes(s3_app, entry.error_report_path)


def test_the_audit_bundle_is_kept_in_the_bucket_and_downloaded_from_it(s3_app, client_for, factory, tmp_path):
    make_review(factory.contract(factory.contractor()), "2025Q1")
    db.session.commit()
    response = download_bundle(client_for(factory.user("auditor")), 2025)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    downloaded = response.data
    response.close()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).scalar_one()
    key = f"reports/{bundle.BUNDLE_FOLDER}/{event.changes['zip_sha256']}.zip"
    assert bucket(s3_app) == [key] and stored_bytes(s3_app, key) == downloaded
    assert hashlib.sha256(downloaded).hexdigest() == event.changes["zip_sha256"]
    path = tmp_path / "bundle.zip"
    path.write_bytes(downloaded)
    assert bundle.verify_bundle(path).ok
    assert "manifest.json" in zipfile.ZipFile(path).namelist()
