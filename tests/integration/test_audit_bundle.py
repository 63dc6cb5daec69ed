"""The annual audit bundle: complete, masked, inert, and verifiable down to a single changed byte."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from oversight.exports import bundle
from oversight.extensions import db
from oversight.domain.audit_chain import CHANGED
from oversight.models import Area, AuditEvent, UploadBatch
from tests.exports_support import bundle_texts, make_evaluation, make_payment, make_review

INJECTION = '=HYPERLINK("http://evil.example/","点我")'


@pytest.fixture
def data(factory):
    """A 2025 contract with a subject, a record whose remark looks like a formula, reviews, an evaluation."""
    admin = factory.user("admin")
    contract = factory.contract()
    subject = factory.subject(name="王秀英")
    record = factory.record(factory.assignment(contract, subject), remark=INJECTION)
    db.session.add(UploadBatch(contract_id=contract.id, service_type="household_survey", filename="@cmd.csv",
                               sha256="0" * 64, size_bytes=10, stored_path="x", status="accepted",
                               uploaded_at=datetime(2025, 5, 11, 2, 0)))
    db.session.commit()
    for quarter in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        make_review(contract, quarter, record_ids=(record.id,))
    make_payment(contract, date(2025, 3, 1), 30_000_000)
    make_evaluation(contract, 2025, approver=admin)
    return {"admin": admin, "contract": contract, "subject": subject, "record": record}


def _build(path, data, full=False, user=None):
    return bundle.build_audit_bundle(2025, path, full=full, exported_by=user or data["admin"])


def _csv_rows(path, name) -> list[dict]:
    with zipfile.ZipFile(path) as archive:
        raw = archive.read(name)
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _rezip(source, target, change=None, drop=(), add=None):
    """Copy a bundle, changing some members' bytes (as a forger re-zipping would), dropping or adding some."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            if name in drop:
                continue
            content = old.read(name)
            new.writestr(name, (change or {}).get(name, lambda raw: raw)(content))
        for name, content in (add or {}).items():
            new.writestr(name, content)


def _flip_one_byte(raw: bytes) -> bytes:
    middle = len(raw) // 2
    return raw[:middle] + bytes([raw[middle] ^ 0x01]) + raw[middle + 1:]


def test_bundle_holds_every_table_as_xlsx_and_csv_and_verifies(tmp_path, data):
    path = tmp_path / "b.zip"
    result = _build(path, data)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read(bundle.MANIFEST))
    for table in bundle.TABLES:
        assert {f"records/{table.name}.csv", f"records/{table.name}.xlsx"} <= names
    assert {"audit_log/audit_events.jsonl", "audit_log/audit_events.csv", bundle.NOTE} <= names
    assert any(name.startswith("charts/") and name.endswith(".png") for name in names)
    assert len([name for name in names if name.startswith("reports/reviews/")]) == 4
    code = data["contract"].code
    assert {f"reports/evaluations/{code}_2025_r1.docx", f"reports/evaluations/{code}_2025_r1.pdf"} <= names
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == names - {bundle.MANIFEST}
    assert listed["records/completion_records.csv"]["rows"] == 1
    assert manifest["bundle_sha256"] == result.bundle_sha256 == bundle.bundle_digest(result.files)
    assert manifest["personal_data"] == "masked" and manifest["year"] == 2025
    found = bundle.verify_bundle(path)
    assert found.ok, found.problems
    assert found.files_checked == len(listed)
    assert found.events_checked == db.session.execute(select(func.count(AuditEvent.id))).scalar()


def test_records_outside_the_year_are_left_out(tmp_path, data, factory):
    factory.record(factory.assignment(data["contract"], due_date=date(2026, 2, 1)), service_date=date(2026, 1, 5))
    path = tmp_path / "b.zip"
    _build(path, data)
    assert [row["记录ID"] for row in _csv_rows(path, "records/completion_records.csv")] == [str(data["record"].id)]
    assert len(_csv_rows(path, "records/assignments.csv")) == 1


def test_id_numbers_and_phones_are_masked_everywhere(tmp_path, data):
    path = tmp_path / "b.zip"
    _build(path, data)
    subject = data["subject"]
    for name, text in bundle_texts(path).items():
        assert subject.id_number not in text, name
        assert subject.phone not in text, name
    row = _csv_rows(path, "records/assignments.csv")[0]
    assert row["身份证号"] == subject.masked_id_number and row["服务对象"] == "王秀英"
    assert _csv_rows(path, "records/completion_records.csv")[0]["身份证号"] == subject.masked_id_number


def test_an_admin_may_export_the_full_values(tmp_path, data):
    path = tmp_path / "full.zip"
    _build(path, data, full=True)
    assert _csv_rows(path, "records/assignments.csv")[0]["身份证号"] == data["subject"].id_number
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read(bundle.MANIFEST))["personal_data"] == "full"
        assert "完整的身份证号" in archive.read(bundle.NOTE).decode("utf-8")


@pytest.mark.parametrize("role", ["supervisor", "auditor", None])
def test_a_full_bundle_is_refused_to_anyone_but_an_admin(tmp_path, data, factory, role):
    user = factory.user(role) if role else None
    with pytest.raises(bundle.BundleRefused):
        bundle.build_audit_bundle(2025, tmp_path / "b.zip", full=True, exported_by=user)


def test_a_formula_looking_cell_is_exported_inert_in_csv_and_xlsx(tmp_path, data):
    path = tmp_path / "b.zip"
    _build(path, data)
    assert _csv_rows(path, "records/completion_records.csv")[0]["备注"] == "'" + INJECTION
    assert _csv_rows(path, "records/upload_batches.csv")[0]["文件名"] == "'@cmd.csv"
    with zipfile.ZipFile(path) as archive:
        sheet = load_workbook(io.BytesIO(archive.read("records/completion_records.xlsx"))).active
    headers = [cell.value for cell in sheet[1]]
    remark = sheet.cell(2, headers.index("备注") + 1)
    assert remark.data_type == "s" and remark.value == "'" + INJECTION


@pytest.mark.parametrize("member", ["records/completion_records.csv", "records/contracts.xlsx",
                                    "audit_log/audit_events.jsonl", bundle.NOTE])
def test_a_single_changed_byte_in_a_file_is_named(tmp_path, data, member):
    path, forged = tmp_path / "b.zip", tmp_path / "forged.zip"
    _build(path, data)
    _rezip(path, forged, change={member: _flip_one_byte})
    found = bundle.verify_bundle(forged)
    assert not found.ok
    assert f"文件内容与清单中的 SHA-256 不符：{member}" in found.problems


def test_a_changed_manifest_fails_as_a_whole(tmp_path, data):
    path, forged = tmp_path / "b.zip", tmp_path / "forged.zip"
    _build(path, data)

    def drop_a_file(raw: bytes) -> bytes:
        manifest = json.loads(raw)
        manifest["files"] = [entry for entry in manifest["files"] if entry["path"] != "records/payment_records.csv"]
        return json.dumps(manifest).encode()

    _rezip(path, forged, change={bundle.MANIFEST: drop_a_file})
    problems = bundle.verify_bundle(forged).problems
    assert "清单之外多出的文件：records/payment_records.csv" in problems
    assert "清单的整包摘要 bundle_sha256 与文件列表不符（清单被改动）" in problems


def test_missing_and_extra_files_are_named(tmp_path, data):
    path, forged = tmp_path / "b.zip", tmp_path / "forged.zip"
    _build(path, data)
    _rezip(path, forged, drop=("records/payment_records.xlsx",), add={"records/extra.csv": b"x"})
    problems = bundle.verify_bundle(forged).problems
    assert problems == ["缺少文件：records/payment_records.xlsx", "清单之外多出的文件：records/extra.csv"]


def test_an_edited_audit_event_breaks_the_chain_even_with_the_manifest_rehashed(tmp_path, data):
    path, forged = tmp_path / "b.zip", tmp_path / "forged.zip"
    _build(path, data)
    with zipfile.ZipFile(path) as archive:
        lines = archive.read(bundle.AUDIT_JSONL).decode("utf-8").splitlines()
        manifest = json.loads(archive.read(bundle.MANIFEST))
    event = json.loads(lines[3])
    event["actor"] = "someone-else"
    lines[3] = json.dumps(event, ensure_ascii=False, sort_keys=True)
    log = ("\n".join(lines) + "\n").encode("utf-8")
    files = [bundle.BundleFile(**entry) for entry in manifest["files"]]
    for entry in files:
        if entry.path == bundle.AUDIT_JSONL:
            entry.sha256 = hashlib.sha256(log).hexdigest()
    manifest["files"] = [entry.__dict__ for entry in files]
    manifest["bundle_sha256"] = bundle.bundle_digest(files)
    _rezip(path, forged, change={bundle.AUDIT_JSONL: lambda _: log,
                                 bundle.MANIFEST: lambda _: json.dumps(manifest).encode()})
    problems = bundle.verify_bundle(forged).problems
    area = db.session.get(Area, event["county_id"]) if event["county_id"] else None
    chain = f"{area.name}（{area.code}）审计链" if area else "市级审计链"
    assert problems == [f"审计日志哈希链断裂：{chain}，事件 #{event['id']}：{CHANGED}"]


def test_something_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "b.zip"
    path.write_bytes(b"not a zip at all")
    assert bundle.verify_bundle(path).problems[0].startswith("无法作为 zip 文件打开")


# --- the commands -------------------------------------------------------------------------------


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def test_export_command_writes_a_bundle_that_verify_bundle_accepts(app, tmp_path, data):
    out = tmp_path / "audit-2025.zip"
    exported = _cli(app, "export-audit", "--year", 2025, "--out", out, "--as-user", data["admin"].username)
    assert exported.exit_code == 0, exported.output
    event = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (event.action, event.object_type, event.object_id, event.actor) == (
        "export", "AuditBundle", "2025", data["admin"].username)
    assert event.changes["zip_sha256"] == bundle.file_sha256(out)
    verified = _cli(app, "verify-bundle", out)
    assert verified.exit_code == 0, verified.output
    assert "审计包完整" in verified.output and f"审计日志事件 #{event.id}" in verified.output
    with zipfile.ZipFile(out) as archive:
        last = json.loads(archive.read(bundle.AUDIT_JSONL).decode("utf-8").splitlines()[-1])
    assert last["id"] == event.id - 1


def test_verify_bundle_fails_on_a_single_changed_byte_anywhere_in_the_file(app, tmp_path, data):
    out = tmp_path / "audit-2025.zip"
    assert _cli(app, "export-audit", "--year", 2025, "--out", out).exit_code == 0
    original = out.read_bytes()
    # A time stamp in the first local header (bytes 10-13) is covered by no file hash, only by the zip's own.
    offsets = sorted({10, 11, len(original) - 1, *range(0, len(original), len(original) // 40)})
    for offset in offsets:
        forged = tmp_path / f"forged-{offset}.zip"
        forged.write_bytes(original[:offset] + bytes([original[offset] ^ 0x20]) + original[offset + 1:])
        verified = _cli(app, "verify-bundle", forged)
        assert verified.exit_code == 1, (offset, verified.output)
        assert "校验失败" in verified.output
        forged.unlink()


def test_full_export_from_the_command_line_needs_an_admin(app, tmp_path, data, factory):
    out = tmp_path / "full.zip"
    nobody = _cli(app, "export-audit", "--year", 2025, "--out", out, "--full")
    assert nobody.exit_code != 0 and "系统管理员" in nobody.output
    supervisor = factory.user("supervisor")
    refused = _cli(app, "export-audit", "--year", 2025, "--out", out, "--full", "--as-user", supervisor.username)
    assert refused.exit_code != 0 and "只有系统管理员" in refused.output
    assert not out.exists() and not list(tmp_path.glob(".full.zip.*"))
    done = _cli(app, "export-audit", "--year", 2025, "--out", out, "--full", "--as-user", data["admin"].username)
    assert done.exit_code == 0, done.output
    event = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (event.action, event.changes["personal_data"]) == ("view_personal_data", "full")
