"""Importing verification data (issue 10.9): all or nothing, row/column/why, flags that feed the next draw."""
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from oversight.adapters.files import uploads_store
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import AuditEvent, EvidenceFlag, VerificationImport
from oversight.services.draws import SPOT_CHECK, make_draws, verify_stored_draw
from oversight.services.verification import import_verification

from tests.checks_support import AFTER_Q3, add_records

TODAY = date(2025, 10, 15)
ECONOMIC = ["身份证号", "姓名", "申请人身份证号", "核对日期", "户籍乡镇", "机动车数量", "房产数量", "工商登记数量",
            "存款(元)", "年收入(元)"]
DEATH = ["身份证号", "姓名", "死亡日期", "数据来源"]


def xlsx(headers, rows) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(headers)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def economic_row(record, **values) -> list:
    """A 核对平台 row for the household of `record` (a survey), by default agreeing with it."""
    subject = record.assignment.subject
    row = {"身份证号": subject.id_number, "姓名": subject.name, "申请人身份证号": "", "核对日期": "2025-09-20",
           "户籍乡镇": subject.township, "机动车数量": record.vehicle_count or 0, "房产数量": record.property_count or 0,
           "工商登记数量": 0, "存款(元)": record.financial_assets_fen / 100, "年收入(元)": record.annual_income_fen / 100,
           **values}
    return [row[header] for header in ECONOMIC]


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def surveys(factory):
    """A contract whose Q3 2025 surveys report 24,000 yuan income and 5,000 yuan assets each."""
    contract = factory.contract(factory.contractor(workers=2))
    records = add_records(contract, {0: 20, 1: 20})
    return {"contract": contract, "records": records, "supervisor": factory.user("supervisor")}


def run(kind, data, user, name="核对.xlsx"):
    outcome = import_verification(kind, data, name, user, TODAY, uploads_store())
    db.session.commit()
    return outcome


def test_a_good_file_flags_each_contradiction_once_and_is_audited(surveys):
    first, second, third = surveys["records"][:3]
    data = xlsx(ECONOMIC, [economic_row(first, **{"年收入(元)": 36000}),  # 12,000 more than reported
                           economic_row(second, **{"年收入(元)": 25000}),  # within tolerance
                           economic_row(third, **{"房产数量": 2, "工商登记数量": 1})])
    outcome = run("economic", data, surveys["supervisor"])
    entry = outcome.verification_import
    assert (entry.status, entry.rows_total, entry.rows_matched, entry.flags_raised) == ("accepted", 3, 3, 3)
    flags = db.session.execute(select(EvidenceFlag).order_by(EvidenceFlag.id)).scalars().all()
    assert [(f.record_id, f.kind) for f in flags] == [
        (first.id, "income_underreported"), (third.id, "property_underreported"), (third.id, "business_unreported")]
    assert all(f.status == "open" and f.contract_id == surveys["contract"].id and f.import_id == entry.id
               and f.service_type == "household_survey" for f in flags)
    assert flags[0].details["evidence_fen"] == 3_600_000 and flags[0].subject_id == first.assignment.subject_id
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "import",
                                                        AuditEvent.object_type == "VerificationImport")).scalar_one()
    assert event.changes["flags"] == 3 and event.changes["rows"] == 3
    assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "EvidenceFlag", AuditEvent.action == "create")).scalar_one() == 3

    # The same file again is refused, naming the earlier import; a new file with the same
    # contradiction adds no second flag.
    again = run("economic", data, surveys["supervisor"]).verification_import
    assert again.status == "rejected" and f"导入 #{entry.id}" in again.message and again.flags_raised == 0
    newer = run("economic", xlsx(ECONOMIC, [economic_row(first, **{"年收入(元)": 40000})]), surveys["supervisor"])
    assert (newer.verification_import.flags_raised, newer.verification_import.flags_known) == (0, 1)
    assert count(EvidenceFlag) == 3


def test_one_bad_row_imports_nothing_and_names_row_column_and_why(surveys):
    first, second = surveys["records"][:2]
    data = xlsx(ECONOMIC, [economic_row(first, **{"年收入(元)": 36000}),
                           economic_row(second, **{"核对日期": "2025-13-01"}),
                           economic_row(second, **{"身份证号": "360704195001010011"})])
    outcome = run("economic", data, surveys["supervisor"])
    entry = outcome.verification_import
    assert entry.status == "rejected" and count(EvidenceFlag) == 0
    assert [(e.row, e.column, e.reason) for e in outcome.errors] == [
        (3, "核对日期", "日期不存在"),
        (4, "身份证号", "身份证号校验位错误")]
    assert entry.error_count == 2 and entry.errors[1] == {"row": 4, "column": "身份证号",
                                                          "value": "360704195001010011", "reason": "身份证号校验位错误"}
    assert "未导入任何数据" in entry.message
    marked = openpyxl.load_workbook(io.BytesIO(uploads_store().get(entry.error_report_path))).active
    red = {(cell.row, cell.column) for row in marked.iter_rows() for cell in row
           if cell.fill is not None and cell.fill.fill_type == "solid"}
    assert red == {(3, 4), (4, 1)}


def test_an_unreadable_file_fails_and_flags_nothing(surveys):
    entry = run("death", b"\x00\x01 not a table", surveys["supervisor"]).verification_import
    assert entry.status == "failed" and "无法读取" in entry.message and count(EvidenceFlag) == 0


def test_a_death_record_flags_the_visits_logged_after_it(factory):
    contract = factory.contract(factory.contractor(workers=1), service_types=("care_visit",))
    records = add_records(contract, {0: 3}, service_type="care_visit", visits_per_subject=3)
    person = records[0].assignment.subject
    theirs = [r for r in records if r.assignment.subject_id == person.id]
    died = theirs[0].service_date
    data = xlsx(DEATH, [[person.id_number, person.name, died.isoformat(), "殡葬火化记录"]])
    entry = run("death", data, factory.user("supervisor")).verification_import
    assert (entry.status, entry.rows_matched, entry.flags_raised) == ("accepted", 1, 2)
    flagged = db.session.execute(select(EvidenceFlag.record_id).order_by(EvidenceFlag.record_id)).scalars().all()
    assert flagged == sorted(r.id for r in theirs if r.service_date > died)


def test_the_tolerance_comes_from_the_settings(app, surveys):
    app.config["EVIDENCE_TOLERANCE_PERCENT"] = 60
    first = surveys["records"][0]
    entry = run("economic", xlsx(ECONOMIC, [economic_row(first, **{"年收入(元)": 36000})]),
                surveys["supervisor"]).verification_import
    assert entry.status == "accepted" and entry.flags_raised == 0


def test_contractors_may_not_import(factory, surveys):
    from oversight.services.verification import VerificationRefused

    contractor_user = factory.user("contractor", db.session.get(type(surveys["contract"].contractor),
                                                                 surveys["contract"].contractor_id))
    with pytest.raises(VerificationRefused):
        import_verification("economic", xlsx(ECONOMIC, []), "x.xlsx", contractor_user, TODAY, uploads_store())
    assert count(VerificationImport) == 0


def test_flags_feed_the_targeted_stratum_of_the_next_spot_check_draw(factory, surveys):
    contract = surveys["contract"]
    in_quarter = surveys["records"][5]
    earlier = add_records(contract, {0: 2}, first_day=date(2025, 4, 10))[0]  # its quarter drawn already
    later = add_records(contract, {1: 1}, first_day=date(2025, 10, 2))[0]
    data = xlsx(ECONOMIC, [economic_row(r, **{"年收入(元)": 90000, "核对日期": "2025-09-01"})
                           for r in (in_quarter, earlier, later)])
    assert run("economic", data, surveys["supervisor"]).verification_import.flags_raised == 3

    outcome = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="evidence")
    db.session.commit()
    draw = outcome.draws[0]
    targeted = sorted(item.record_id for item in draw.items if item.stratum == "targeted")
    assert targeted == sorted([in_quarter.id, earlier.id])
    assert draw.strata["targeted"] == {"population": 2, "sample": 2}
    assert earlier.id in [row[0] for row in draw.population]
    flags = {f.record_id: f for f in db.session.execute(select(EvidenceFlag)).scalars()}
    assert (flags[in_quarter.id].status, flags[in_quarter.id].targeted_draw_id) == ("targeted", draw.id)
    assert (flags[earlier.id].status, flags[earlier.id].targeted_draw_id) == ("targeted", draw.id)
    assert (flags[later.id].status, flags[later.id].targeted_draw_id) == ("open", None)
    # The draw re-computes from its row, and the earlier record is not reported as removed.
    check = verify_stored_draw(draw)
    assert check.matches and check.removed_since == () and check.added_since == ()
