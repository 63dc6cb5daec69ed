"""The audit bundle's procurement, payment-schedule, acceptance and field-app files: the year's rows,
digests in the manifest, masking (bidders' phones, recipients' representatives' names), the app's
photos and signatures listed by SHA-256, and verification failing on a changed byte in any of them."""
from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date, datetime

import pytest

from oversight.adapters.files import uploads_store
from oversight.exports import bundle
from oversight.extensions import db
from oversight.services.areas import home_county
from oversight.models import (
    AcceptanceMember,
    AppVisit,
    AuditEvent,
    ContractAcceptance,
    Installment,
    MediaFile,
    ProcurementLine,
    ProcurementProject,
    TenderBid,
    TenderEvaluator,
    TenderScore,
    TenderScoringItem,
    VisitMedia,
)
from oversight.services.accounts import create_user
from oversight.services.field_app import MEDIA_FOLDER
from tests.exports_support import bundle_texts
from tests.integration.test_audit_bundle import _csv_rows, _flip_one_byte, _rezip

NEW_TABLES = ("procurement_projects", "procurement_lines", "tender_bids", "tender_scoring_items",
              "tender_evaluators", "tender_scores", "installments", "contract_acceptances", "acceptance_members",
              "app_visits", "visit_media")
LOSER_PHONE = "13955551234"
RECIPIENT = "赵春兰"
RECIPIENT_2026 = "钱多多"
PHOTO = b"\xff\xd8\xff\xe0" + b"photo of the visit" * 20
SIGNATURE = b"\x89PNG\r\n\x1a\n" + b"signature strokes" * 10


def _project(code, term_start, term_end, contract=None, status="awarded"):
    project = ProcurementProject(county_id=home_county().id, code=code, title=f"{code} 家计调查服务", budget_line="社会救助服务",
                                 budget_fen=130_000_000, procurement_method="公开招标", status=status,
                                 awarded_on=date(2024, 12, 20) if contract else None, term_start=term_start,
                                 term_end=term_end, contract_id=contract.id if contract else None,
                                 evaluation={"ranking": [1, 2]} if contract else None)
    db.session.add(project)
    db.session.flush()
    return project


def _visit(user, record, key, media: list[tuple[str, bytes, str]]):
    visit = AppVisit(user_id=user.id, idempotency_key=key, request_sha256="a" * 64, assignment_id=record.assignment_id,
                     record_id=record.id, check_in_at=datetime(2025, 5, 10, 1, 0), check_out_at=datetime(2025, 5, 10, 2, 0),
                     longitude=114.9, latitude=25.8, accuracy_m=8.0, media=[])
    db.session.add(visit)
    db.session.flush()
    store = uploads_store()
    for kind, data, content_type in media:
        digest = hashlib.sha256(data).hexdigest()
        file = db.session.query(MediaFile).filter_by(uploaded_by_id=user.id, sha256=digest).one_or_none()
        if file is None:
            file = MediaFile(uploaded_by_id=user.id, kind=kind, sha256=digest, content_type=content_type,
                             size_bytes=len(data), stored_path=store.put_content(MEDIA_FOLDER, data, ".bin"))
            db.session.add(file)
            db.session.flush()
        db.session.add(VisitMedia(visit_id=visit.id, media_id=file.id, sha256=digest, kind=kind))
        visit.media = [*visit.media, {"kind": kind, "sha256": digest}]
    return visit


@pytest.fixture
def data(factory):
    """A 2025 contract awarded by a tender with a losing bidder, its schedule, acceptance and one app visit;
    the same kinds of rows for other years, which must stay out."""
    admin = factory.user("admin")
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    loser = factory.contractor(name="落选社会工作服务中心")
    loser.contact_phone = LOSER_PHONE
    record = factory.record(factory.assignment(contract, factory.subject(name="王秀英")))
    later = factory.record(factory.assignment(contract, due_date=date(2026, 2, 1)), service_date=date(2026, 1, 5))
    worker = create_user("app-worker", factory.PASSWORD, "field_worker", "外勤社工", contract.contractor_id,
                         record.worker_id)

    project = _project("CG-2025-001", date(2025, 1, 1), date(2025, 12, 31), contract)
    db.session.add(ProcurementLine(project_id=project.id, service_type="household_survey", annual_target=100))
    items = [TenderScoringItem(project_id=project.id, sequence=1, name="服务方案", max_points_centi=4000),
             TenderScoringItem(project_id=project.id, sequence=2, name="履约评价", max_points_centi=3000,
                               technical=False, past_performance=True)]
    members = [TenderEvaluator(project_id=project.id, sequence=1, name="孙评委"),
               TenderEvaluator(project_id=project.id, sequence=2, name="周评委")]
    bids = [TenderBid(project_id=project.id, contractor_id=contract.contractor_id, price_fen=118_000_000, awarded=True),
            TenderBid(project_id=project.id, contractor_id=loser.id, price_fen=125_000_050)]
    db.session.add_all([*items, *members, *bids])
    db.session.flush()
    db.session.add_all([TenderScore(project_id=project.id, evaluator_id=member.id, bid_id=bid.id, item_id=item.id,
                                    points_centi=2500 + 100 * number, entered_by_id=admin.id)
                        for number, (member, bid, item) in enumerate(
                            (m, b, i) for m in members for b in bids for i in items)])
    old = _project("CG-2023-009", date(2023, 1, 1), date(2023, 12, 31), status="cancelled")
    db.session.add(TenderEvaluator(project_id=old.id, sequence=1, name="旧项目评委"))

    db.session.add_all([
        Installment(contract_id=contract.id, sequence=1, kind="advance", title="预付款", amount_fen=36_000_000,
                    condition="date", due_on=date(2025, 2, 1), paid_on=date(2025, 2, 3), paid_fen=36_000_000),
        Installment(contract_id=contract.id, sequence=2, kind="performance", title="2025年履约绩效款",
                    condition="evaluation", year=2025),
        Installment(contract_id=contract.id, sequence=3, kind="progress", title="2024年进度款", share_bp=1000,
                    condition="acceptance", year=2024),
    ])
    acceptance = ContractAcceptance(contract_id=contract.id, year=2025, status="concluded", conclusion="qualified",
                                    opinion="服务完成，同意验收", accepted_on=date(2026, 1, 15), concluded_by_id=admin.id,
                                    concluded_at=datetime(2026, 1, 15, 2, 0))
    next_year = ContractAcceptance(contract_id=contract.id, year=2026)
    db.session.add_all([acceptance, next_year])
    db.session.flush()
    db.session.add_all([
        AcceptanceMember(acceptance_id=acceptance.id, name="吴组长", role="leader", organisation="赣县区民政局"),
        AcceptanceMember(acceptance_id=acceptance.id, name="郑专家", role="expert", organisation="赣南师范大学"),
        AcceptanceMember(acceptance_id=acceptance.id, name=RECIPIENT, role="recipient", organisation="梅林镇"),
        AcceptanceMember(acceptance_id=next_year.id, name=RECIPIENT_2026, role="recipient"),
    ])

    visit = _visit(worker, record, "k-2025", [("photo", PHOTO, "image/jpeg"), ("signature", SIGNATURE, "image/png")])
    _visit(worker, later, "k-2026", [("photo", b"\xff\xd8\xff\xe0 a 2026 photo", "image/jpeg")])
    db.session.commit()
    return {"admin": admin, "contract": contract, "loser": loser, "record": record, "visit": visit,
            "project": project, "acceptance": acceptance}


def _build(path, data, full=False):
    return bundle.build_audit_bundle(2025, path, full=full, exported_by=data["admin"])


def test_the_new_record_files_hold_the_years_rows_with_their_digests_and_verify(tmp_path, data):
    path = tmp_path / "b.zip"
    _build(path, data)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(bundle.MANIFEST))
        listed = {entry["path"]: entry for entry in manifest["files"]}
        for name in NEW_TABLES:
            for member in (f"records/{name}.csv", f"records/{name}.xlsx"):
                assert listed[member]["sha256"] == hashlib.sha256(archive.read(member)).hexdigest(), member
    rows = {name: _csv_rows(path, f"records/{name}.csv") for name in NEW_TABLES}
    assert {name: len(found) for name, found in rows.items()} == {
        "procurement_projects": 1, "procurement_lines": 1, "tender_bids": 2, "tender_scoring_items": 2,
        "tender_evaluators": 2, "tender_scores": 8, "installments": 2, "contract_acceptances": 1,
        "acceptance_members": 3, "app_visits": 1, "visit_media": 2}
    assert all(listed[f"records/{name}.csv"]["rows"] == len(found) for name, found in rows.items())

    (project,) = rows["procurement_projects"]
    assert (project["项目编号"], project["生成的合同编号"], project["状态"]) == (
        "CG-2025-001", data["contract"].code, "已定标，合同已生成")
    bids = {row["投标机构"]: row for row in rows["tender_bids"]}
    assert bids["落选社会工作服务中心"]["投标报价(元)"] == "1250000.50"  # a losing price is the auditor's to see
    assert (bids["落选社会工作服务中心"]["中标"], bids["落选社会工作服务中心"]["有效"]) == ("否", "是")
    assert sorted(row["所属年度"] or row["约定日期"] for row in rows["installments"]) == ["2025", "2025-02-01"]
    assert rows["contract_acceptances"][0]["验收结论"] == "合格"

    (visit,) = rows["app_visits"]
    assert visit["服务记录ID"] == str(data["record"].id)
    media = {row["SHA-256"]: row for row in rows["visit_media"]}
    assert {sha: (row["类型"], row["字节数"], row["服务记录ID"]) for sha, row in media.items()} == {
        hashlib.sha256(PHOTO).hexdigest(): ("现场照片", str(len(PHOTO)), str(data["record"].id)),
        hashlib.sha256(SIGNATURE).hexdigest(): ("对象签名", str(len(SIGNATURE)), str(data["record"].id))}
    section = manifest["media"]
    assert section["count"] == 2 and section["sha256"] == bundle.media_digest(section["items"])
    assert {(item["sha256"], item["kind"], item["bytes"], item["record_id"], item["visit_id"])
            for item in section["items"]} == {
        (hashlib.sha256(PHOTO).hexdigest(), "photo", len(PHOTO), data["record"].id, data["visit"].id),
        (hashlib.sha256(SIGNATURE).hexdigest(), "signature", len(SIGNATURE), data["record"].id, data["visit"].id)}
    with zipfile.ZipFile(path) as archive:  # the images themselves stay in the store
        assert not [name for name in archive.namelist() if name.startswith(MEDIA_FOLDER)]
        assert PHOTO not in b"".join(archive.read(name) for name in archive.namelist())

    found = bundle.verify_bundle(path)
    assert found.ok, found.problems
    assert len(found.media) == 2 and found.files_checked == len(listed)


def test_bidders_phones_and_recipients_representatives_names_are_masked_everywhere(tmp_path, data):
    path = tmp_path / "b.zip"
    _build(path, data)
    for name, text in bundle_texts(path).items():
        assert LOSER_PHONE not in text and data["contract"].contractor.contact_phone not in text, name
        assert RECIPIENT not in text and RECIPIENT_2026 not in text, name
    names = {row["角色"]: row["姓名"] for row in _csv_rows(path, "records/acceptance_members.csv")}
    assert names == {"组长": "吴组长", "专家": "郑专家", "服务对象代表": "赵**"}  # officials act in office
    logged = [event.changes["name"] for event in db.session.query(AuditEvent).filter_by(
        object_type="AcceptanceMember", action="create").order_by(AuditEvent.id)]
    assert logged == ["吴组长", "郑专家", "赵**", "钱**"]  # the log itself holds the mask, so the bundle's copy can
    assert {row["联系电话"] for row in _csv_rows(path, "records/tender_bids.csv")} == {"139****1234", "139****0001"}


def test_an_admins_full_bundle_holds_them_unmasked(tmp_path, data):
    path = tmp_path / "full.zip"
    _build(path, data, full=True)
    names = {row["角色"]: row["姓名"] for row in _csv_rows(path, "records/acceptance_members.csv")}
    assert names["服务对象代表"] == RECIPIENT
    assert LOSER_PHONE in {row["联系电话"] for row in _csv_rows(path, "records/tender_bids.csv")}
    assert bundle.verify_bundle(path).ok


@pytest.mark.parametrize("member", ["records/tender_bids.csv", "records/installments.xlsx",
                                    "records/acceptance_members.csv", "records/visit_media.csv",
                                    "records/app_visits.xlsx"])
def test_a_changed_byte_in_a_new_file_fails_verification(tmp_path, data, member):
    path, forged = tmp_path / "b.zip", tmp_path / "forged.zip"
    _build(path, data)
    _rezip(path, forged, change={member: _flip_one_byte})
    assert f"文件内容与清单中的 SHA-256 不符：{member}" in bundle.verify_bundle(forged).problems


def _change_media_list(path, forged, change, *, redigest: bool):
    def edit(raw: bytes) -> bytes:
        manifest = json.loads(raw)
        change(manifest["media"]["items"])
        if redigest:
            manifest["media"]["sha256"] = bundle.media_digest(manifest["media"]["items"])
        return json.dumps(manifest, ensure_ascii=False).encode("utf-8")

    _rezip(path, forged, change={bundle.MANIFEST: edit})
    return bundle.verify_bundle(forged).problems


def test_a_changed_media_list_fails_against_its_digest_and_against_the_table(tmp_path, data):
    path = tmp_path / "b.zip"
    _build(path, data)

    def swap_signature(items):
        signature = next(item for item in items if item["kind"] == "signature")
        signature["sha256"] = "0" * 64

    mismatch = f"照片或签名 #{next(i.id for i in db.session.query(VisitMedia) if i.kind == 'signature')} 在清单与 " \
               f"{bundle.MEDIA_CSV} 中的 SHA-256、字节数、类型或服务记录不一致"
    assert _change_media_list(path, tmp_path / "f1.zip", swap_signature, redigest=False) == [
        "清单中的照片与签名列表与其摘要或数量不符（列表被改动）", mismatch]
    assert _change_media_list(path, tmp_path / "f2.zip", swap_signature, redigest=True) == [mismatch]


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def test_verify_bundle_checks_the_listed_media_are_still_in_the_store(app, tmp_path, data):
    out = tmp_path / "audit-2025.zip"
    assert _cli(app, "export-audit", "--year", 2025, "--out", out).exit_code == 0
    verified = _cli(app, "verify-bundle", out)
    assert verified.exit_code == 0, verified.output
    assert "APP照片与签名 2 个" in verified.output
    signature = db.session.query(MediaFile).filter_by(kind="signature").one()
    uploads_store().put(signature.stored_path, b"another signature")
    verified = _cli(app, "verify-bundle", out)
    assert verified.exit_code == 1
    assert "的存储文件已丢失或内容与包中所列的 SHA-256 不符" in verified.output
