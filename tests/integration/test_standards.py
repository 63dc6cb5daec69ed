"""Local standards kept on the page drive the rules: the next draw's defaults, the poverty-line
flag of the next import (on each record's service day, urban or rural), and due dates counted in
working days across the Spring Festival 2026; the import command; the care-allowance sheet."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from oversight.domain.local_standards import parse_draft
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import AuditEvent, CompletionRecord, LocalStandard, LocalStandardVersion
from oversight.services import standards
from oversight.services.areas import home_county
from oversight.services.calendar import add_working_days
from oversight.services.draws import SPOT_CHECK, draw_params, make_draws, standard_for
from tests.checks_support import add_records
from tests.completion_support import SURVEY, csv_bytes, good_row, upload, world  # noqa: F401  (fixture)

SPRING_2026_HOLIDAYS = "2026-01-01~2026-01-03、2026-02-15~2026-02-23"
SPRING_2026_WORKED = "2026-01-04、2026-02-14、2026-02-28"


def version_form(effective: str, **changes) -> dict:
    """What an admin types for a whole version (amounts in 元, shares in %)."""
    form = {"effective_from": effective, "reason": "县民政局关于调整城乡低保标准的通知",
            "poverty_line_fen": "700", "poverty_line_rural_fen": "600", "care_allowance_tier1_fen": "960",
            "care_allowance_tier2_fen": "580", "care_allowance_tier3_fen": "190", "spot_check_share_bp": "5",
            "spot_check_floor": "5", "callback_share_bp": "10", "retrain_threshold_bp": "10",
            "recheck_threshold_bp": "30", "recheck_min_checks": "5", "holidays": "", "working_days": ""}
    form.update(changes)
    return form


def post_version(client, year: int, **form):
    county = home_county().id
    page = f"/standards/{year}/new?county={county}"
    return client.post(page, form, token_from=page)


@pytest.fixture
def admin_client(factory, client_for):
    return client_for(factory.user("admin"))


def test_an_edit_on_the_page_is_a_new_version_and_the_history_shows_what_changed(factory, admin_client, client_for):
    assert post_version(admin_client, 2025, **version_form("2025-01-01")).status_code == 302
    response = post_version(admin_client, 2025, **version_form("2025-07-01", poverty_line_fen="820.5",
                                                                 reason="年中调标"))
    assert response.status_code == 302
    versions = db.session.execute(select(LocalStandardVersion).order_by(LocalStandardVersion.number)).scalars().all()
    assert [(v.number, v.effective_from, v.poverty_line_fen) for v in versions] == [
        (1, date(2025, 1, 1), 70_000), (2, date(2025, 7, 1), 82_050)]
    row = db.session.execute(select(LocalStandard)).scalar_one()
    assert row.poverty_line_fen == 82_050 and row.county_id == home_county().id
    page = client_for(factory.user("auditor")).get(f"/standards/?year=2025&county={home_county().id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "第 2 版" in text and "年中调标" in text
    assert "城市低保标准（元/人/月）</th>" in text and "<td>700.00</td><td>820.50</td>" in text
    events = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "LocalStandardVersion")).scalars().all()
    assert events == ["create", "create"]


def test_a_wrong_version_is_refused_in_chinese_and_nothing_is_stored(admin_client):
    response = post_version(admin_client, 2026, **version_form("2025-12-31", poverty_line_fen="八百",
                                                                 working_days="2026-02-16",
                                                                 holidays=SPRING_2026_HOLIDAYS))
    assert response.status_code == 303
    text = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "应在 2026 年内" in text and "金额格式不正确" in text
    assert db.session.execute(select(func.count()).select_from(LocalStandardVersion)).scalar_one() == 0


def test_only_the_admin_edits_and_contractors_do_not_see_the_page(factory, client_for):
    supervisor = client_for(factory.user("supervisor"))
    assert supervisor.get("/standards/").status_code == 200
    assert supervisor.get("/standards/2026/new").status_code == 403
    contractor = client_for(factory.user("contractor", factory.contractor()))
    assert contractor.get("/standards/").status_code in (403, 404)
    assert contractor.get("/standards/care-allowances/2026.xlsx").status_code in (403, 404)


def test_a_new_version_changes_the_next_draws_default_share_and_floor(factory, admin_client):
    contract = factory.contract(factory.contractor(workers=1))
    contract.sampling_rule = {"kind": "share"}
    db.session.commit()
    post_version(admin_client, 2025, **version_form("2025-01-01"))
    post_version(admin_client, 2025, **version_form("2025-05-01", spot_check_share_bp="20", spot_check_floor="2"))
    county = contract.county_id
    assert draw_params(contract, SPOT_CHECK, standard_for(county, date(2025, 4, 30))).floor == 5
    after = draw_params(contract, SPOT_CHECK, standard_for(county, date(2025, 5, 1)))
    assert (str(after.share), after.floor) == ("0.2", 2)
    add_records(contract, {0: 30}, first_day=date(2025, 1, 10))
    add_records(contract, {0: 30}, first_day=date(2025, 4, 10))
    first = make_draws(SPOT_CHECK, Quarter(2025, 1), today=date(2025, 4, 20), contract_id=contract.id).draws[0]
    second = make_draws(SPOT_CHECK, Quarter(2025, 2), today=date(2025, 7, 3), contract_id=contract.id).draws[0]
    assert (first.plan["n"], second.plan["n"]) == (5, 6)  # max(5 % of 30, 5) then max(20 % of 30, 2)


def test_the_poverty_line_in_force_on_each_service_day_flags_the_import_urban_or_rural(world, admin_client):  # noqa: F811
    # Row i is served on 2025-05-0{i+1}, 3 persons, 24,000 + 1,000·i a year: 666.67, 694.44, 722.22 a month.
    urban = world.assignments[SURVEY][1].subject
    urban.village = "梅林社区"
    db.session.commit()
    post_version(admin_client, 2025, **version_form("2025-01-01", poverty_line_fen="700", poverty_line_rural_fen="600"))
    post_version(admin_client, 2025, **version_form("2025-05-03", poverty_line_fen="1100", poverty_line_rural_fen="1000"))
    rows = [good_row(world, SURVEY, index, 调查结论="符合") for index in range(3)]
    upload(world, SURVEY, csv_bytes(SURVEY, rows))
    flags = {record.service_date: record.anomaly_flags for record in db.session.execute(select(CompletionRecord)).scalars()}
    assert flags[date(2025, 5, 1)] == [{"code": "eligible_above_line",
                                        "reason": "结论为符合，但人均月收入666.67元不低于低保标准600.00元"}]
    assert flags[date(2025, 5, 2)] == []  # urban: 694.44 < 700
    assert flags[date(2025, 5, 3)] == []  # the raised rural line of 3 May: 722.22 < 1,000


def test_due_dates_in_working_days_follow_the_calendar_of_the_version_in_force(admin_client):
    county = home_county().id
    post_version(admin_client, 2026, **version_form("2026-01-01", holidays=SPRING_2026_HOLIDAYS,
                                                     working_days=SPRING_2026_WORKED))
    # Thu 12 Feb 2026: 13th, Sat 14th (调休), 24th–27th, Sat 28th (调休), 2nd–4th March.
    assert add_working_days(county, date(2026, 2, 12), 10) == date(2026, 3, 4)
    # Thu 1 Jan is a holiday, Sun 4 Jan is worked: 31 Dec 2025 + 2 working days.
    assert add_working_days(county, date(2025, 12, 31), 2) == date(2026, 1, 5)
    post_version(admin_client, 2026, **version_form("2026-02-01", holidays=SPRING_2026_HOLIDAYS,
                                                     working_days="2026-01-04、2026-02-14", reason="取消2月28日调休"))
    assert add_working_days(county, date(2026, 2, 12), 10) == date(2026, 3, 5)
    # An event before the second version took effect still counts by the first (Sat 28th worked).
    assert add_working_days(county, date(2026, 1, 20), 25) == date(2026, 3, 2)
    # One after it counts by the second: 28 Feb is no longer worked (the first would give 28 Feb).
    assert add_working_days(county, date(2026, 2, 2), 15) == date(2026, 3, 2)


def test_the_appeal_window_and_a_reissued_notice_count_working_days_across_the_spring_festival(admin_client):
    from oversight.domain.appeals import appeal_deadline
    from oversight.services.calendar import working_calendar

    county = home_county().id
    post_version(admin_client, 2026, **version_form("2026-01-01", holidays=SPRING_2026_HOLIDAYS,
                                                     working_days=SPRING_2026_WORKED))
    assert appeal_deadline(date(2026, 2, 12), 10, working_calendar(county, date(2026, 2, 12))) == date(2026, 3, 4)
    # RECTIFICATION_REISSUE_DAYS 15 from Fri 13 Feb: Sat 14th, 24th–28th, 2nd–6th, 9th–12th March.
    assert add_working_days(county, date(2026, 2, 13), 15) == date(2026, 3, 12)


def test_the_import_command_takes_the_template_and_refuses_a_bad_file_whole(app, tmp_path):
    from oversight.exports.standards_sheet import standards_template

    runner = app.test_cli_runner()
    bad = tmp_path / "standards.csv"
    bad.write_text("年度,生效日期,城市低保标准（元/人/月）,变更原因\n"
                   "2027,2027-01-01,,首版\n"
                   "2027,2027-07-01,-5,年中\n", encoding="utf-8-sig")
    result = runner.invoke(args=["import-standards", str(bad)])
    assert result.exit_code != 0
    assert "第 2 行「农村低保标准（元/人/月）」：必须填写" in result.output
    assert "第 3 行「城市低保标准（元/人/月）」（-5）：金额不能为负数" in result.output
    assert "未导入任何内容" in result.output
    assert db.session.execute(select(func.count()).select_from(LocalStandard)).scalar_one() == 0
    good = tmp_path / "standards.xlsx"
    good.write_bytes(standards_template())
    result = runner.invoke(args=["import-standards", str(good)])
    assert result.exit_code == 0, result.output
    assert "2026 年地方标准第 1 版" in result.output
    terms = standards.terms_on(home_county().id, date(2026, 3, 1))
    assert (terms.poverty_line_fen, terms.poverty_line_rural_fen) == (88_000, 72_000)
    assert date(2026, 2, 14) in terms.working_days and date(2026, 2, 20) in terms.holidays


def test_the_care_allowance_sheet_lists_each_persons_tier_and_allowance_by_month(factory, client_for):
    county = home_county().id
    for effective, tier3 in (("2025-01-01", "190"), ("2025-07-01", "200")):
        draft = parse_draft(version_form(effective, care_allowance_tier3_fen=tier3), year=2025)
        standards.add_version(county, draft, None)
    db.session.commit()
    contract = factory.contract(factory.contractor(), service_types=("self_care_assessment",))
    person = factory.subject("person", name="李秀英")
    assignment = factory.assignment(contract, subject=person, service_type="self_care_assessment")
    factory.record(assignment, service_date=date(2025, 3, 10), eating=True, dressing=True, transfer=True,
                   toileting=True, walking=True, bathing=True, conclusion="具备生活自理能力", fails=0)
    factory.record(factory.assignment(contract, subject=person, service_type="self_care_assessment"),
                   service_date=date(2025, 10, 31))  # 部分丧失: 二档 from October
    factory.subject("person", name="王德明")  # 特困, never assessed: no tier, no allowance
    auditor = client_for(factory.user("auditor"))
    response = auditor.get(f"/standards/care-allowances/2025.xlsx?county={county}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = {row[1]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    li = rows["李秀英"]
    assert li[2] == person.masked_id_number
    assert [li[5 + 2 * m] for m in (1, 2, 5, 6, 9)] == [None, "三档 全自理", "三档 全自理", "三档 全自理", "二档 半护理"]
    assert [li[6 + 2 * m] for m in (2, 5, 6, 9)] == [190, 190, 200, 580]
    assert li[29] == 190 * 4 + 200 * 3 + 580 * 3
    assert rows["王德明"][29] == 0
    assert rows["合计"][29] == li[29]
    event = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "FinanceExport")).scalar_one()
    assert event.action == "export" and event.changes["persons"] == 2
    page = auditor.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert "三档 全自理，护理补贴 190.00 元/月" in page
    subject_page = client_for(factory.user("supervisor")).get(f"/subjects/{person.id}").get_data(as_text=True)
    assert "二档 半护理，护理补贴 580.00 元/月" in subject_page
