"""The matching rules of independent evidence (issue 10.9): which contradictions are flagged."""
from datetime import date

import pandas as pd
import pytest

from oversight.adapters.tables.cells import EXCEL_ROW
from oversight.domain.evidence import (
    DeathRow,
    EconomicRow,
    Service,
    Survey,
    Tolerance,
    death_findings,
    economic_findings,
    households,
    matched_rows,
)
from oversight.domain.verification_files import validate_deaths, validate_economic
from tests.factories import valid_id_number

APPLICANT, SPOUSE, SON, STRANGER = (valid_id_number(n) for n in (1, 2, 3, 4))
CHECKED = date(2025, 8, 1)
TOLERANCE = Tolerance(percent=10, floor_fen=50_000)


def _survey(**values) -> Survey:
    fields = dict(record_id=7, subject_id=70, id_number=APPLICANT, township="梅林镇", service_date=date(2025, 7, 10),
                  annual_income_fen=2_400_000, financial_assets_fen=500_000, property_count=1, vehicle_count=0,
                  business_income_fen=None)
    return Survey(**{**fields, **values})


def _row(id_number=APPLICANT, **values) -> EconomicRow:
    return EconomicRow(id_number=id_number, name=values.pop("name", "钟桂兰"), checked_on=values.pop("checked_on", CHECKED),
                       **values)


def _kinds(findings) -> list[str]:
    return [finding.kind for finding in findings]


def test_the_tolerance_is_the_larger_of_the_share_and_the_floor():
    assert TOLERANCE.of(1_000_000) == 100_000  # 10 % of 10,000 yuan
    assert TOLERANCE.of(200_000) == 50_000  # 10 % would be 200 yuan: the 500-yuan floor
    with pytest.raises(ValueError):
        Tolerance(percent=120)


def test_income_below_the_data_beyond_tolerance_is_flagged_and_within_it_is_not():
    # 24,000 reported; data 26,000: short by 2,000, allowed 2,600 → no flag.
    assert economic_findings([_row(income_fen=2_600_000)], [_survey()], TOLERANCE, 180) == []
    # data 27,000: short by 3,000, allowed 2,700 → flagged, the figures in the reason.
    [finding] = economic_findings([_row(income_fen=2_700_000)], [_survey()], TOLERANCE, 180)
    assert (finding.kind, finding.record_id, finding.subject_id) == ("income_underreported", 7, 70)
    assert finding.details == {"reported_fen": 2_400_000, "evidence_fen": 2_700_000, "tolerance_fen": 270_000,
                               "checked_on": "2025-08-01", "members": 1}
    assert "24,000.00" in finding.reason and "27,000.00" in finding.reason and "少报 3,000.00 元" in finding.reason


def test_a_household_is_the_sum_of_its_members_rows():
    rows = [_row(income_fen=1_500_000, deposits_fen=100_000),
            _row(SPOUSE, name="李四", applicant_id_number=APPLICANT, income_fen=1_500_000, deposits_fen=700_000),
            _row(STRANGER, name="外人", income_fen=9_000_000)]
    assert households(rows)[APPLICANT].total("income_fen") == 3_000_000
    findings = economic_findings(rows, [_survey()], TOLERANCE, 180)
    assert _kinds(findings) == ["income_underreported", "assets_underreported"]
    assert "2 名家庭成员合计" in findings[0].reason
    assert matched_rows(rows, [_survey()]) == 2


def test_assets_above_deposits_are_no_contradiction():
    assert economic_findings([_row(deposits_fen=300_000)], [_survey(financial_assets_fen=500_000)], TOLERANCE, 180) == []


def test_counts_compare_exactly_and_a_blank_count_reads_as_none():
    rows = [_row(properties=2, vehicles=1)]
    findings = economic_findings(rows, [_survey(property_count=1, vehicle_count=None)], TOLERANCE, 180)
    assert _kinds(findings) == ["property_underreported", "vehicles_underreported"]
    assert "调查上报房产 1 套；核对平台显示 2 套" in findings[0].reason
    assert "调查未填写机动车数量（按 0 计）" in findings[1].reason
    assert economic_findings([_row(properties=1, vehicles=0)], [_survey()], TOLERANCE, 180) == []


def test_a_business_registration_without_business_income_is_flagged():
    assert _kinds(economic_findings([_row(businesses=1)], [_survey()], TOLERANCE, 180)) == ["business_unreported"]
    assert economic_findings([_row(businesses=1)], [_survey(business_income_fen=120_000)], TOLERANCE, 180) == []
    assert economic_findings([_row(businesses=0)], [_survey()], TOLERANCE, 180) == []


def test_members_registered_elsewhere_or_listed_in_another_household_are_flagged():
    member_elsewhere = [_row(township="梅林镇"), _row(SON, name="钟小明", applicant_id_number=APPLICANT, township="江口镇")]
    [finding] = economic_findings(member_elsewhere, [_survey()], TOLERANCE, 180)
    assert finding.kind == "registered_elsewhere"
    assert "钟小明（360704********" in finding.reason and "户籍登记在江口镇" in finding.reason
    assert SON not in finding.reason  # ID numbers only masked
    applicant_elsewhere = [_row(applicant_id_number=STRANGER)]
    [finding] = economic_findings(applicant_elsewhere, [_survey()], TOLERANCE, 180)
    assert finding.kind == "registered_elsewhere" and "属于另一申请家庭" in finding.reason
    assert economic_findings([_row(township="梅林镇")], [_survey()], TOLERANCE, 180) == []


def test_data_checked_far_from_the_survey_is_not_compared():
    rows = [_row(income_fen=9_000_000, township="江口镇", checked_on=date(2026, 6, 1))]
    assert economic_findings(rows, [_survey()], TOLERANCE, 180) == []
    assert len(economic_findings(rows, [_survey()], TOLERANCE, 400)) == 2


def test_a_record_after_the_death_is_flagged_and_one_on_the_day_is_not():
    deaths = [DeathRow(APPLICANT, "曾凡荣", date(2025, 7, 20), "公安户籍注销")]
    services = [Service(1, 10, APPLICANT, "care_visit", date(2025, 7, 20)),
                Service(2, 10, APPLICANT, "care_visit", date(2025, 8, 3)),
                Service(3, 11, SPOUSE, "care_visit", date(2025, 8, 3)),
                Service(4, 12, APPLICANT, "household_survey", date(2025, 9, 1))]
    findings = death_findings(deaths, services)
    assert [(f.kind, f.record_id) for f in findings] == [("service_after_death", 2), ("service_after_death", 4)]
    assert "照料护理记录的服务日期 2025-08-03 晚于服务对象曾凡荣的死亡日期 2025-07-20" in findings[0].reason
    assert "公安户籍注销" in findings[0].reason and "户主曾凡荣" in findings[1].reason


def _table(rows):
    table = pd.DataFrame(rows).fillna("").astype(str)
    table.index = pd.RangeIndex(2, 2 + len(rows), name=EXCEL_ROW)
    return table


def test_an_economic_file_yields_typed_rows_and_names_every_bad_cell():
    good = _table([{"身份证号": APPLICANT, "姓名": "钟桂兰", "申请人身份证号": "", "核对日期": "2025年8月1日",
                    "户籍乡镇": "梅林镇", "机动车数量": "1", "存款(元)": "1,234.50", "年收入(元)": "36000"},
                   {"身份证号": SON, "姓名": "钟小明", "申请人身份证号": APPLICANT, "核对日期": "2025-08-01",
                    "户籍乡镇": "", "机动车数量": "", "存款(元)": "", "年收入(元)": ""}])
    result = validate_economic(good, date(2025, 9, 1))
    assert result.errors == []
    assert result.rows.to_dict("records")[0] == {
        "id_number": APPLICANT, "name": "钟桂兰", "applicant_id_number": None, "checked_on": CHECKED,
        "township": "梅林镇", "vehicles": 1, "properties": None, "businesses": None, "deposits_fen": 123_450,
        "income_fen": 3_600_000}
    assert result.rows["applicant_id_number"].tolist() == [None, APPLICANT]
    bad = _table([{"身份证号": APPLICANT, "姓名": "钟桂兰", "核对日期": "2025-10-01", "房产数量": "-1", "存款(元)": "abc"},
                  {"身份证号": APPLICANT, "姓名": "钟桂兰", "核对日期": "2025-08-01", "房产数量": "", "存款(元)": ""}])
    result = validate_economic(bad, date(2025, 9, 1))
    assert result.rows is None
    assert {(e.row, e.column): e.reason for e in result.errors} == {
        (2, "核对日期"): "日期不能晚于今天", (2, "房产数量"): "应为0到99之间的整数",
        (2, "存款(元)"): "应为金额数字（元，如 1234.50）", (3, "身份证号"): "与第2行是同一人，每人只能有一行"}


def test_a_death_file_refuses_a_death_before_birth_or_in_the_future_and_missing_columns():
    table = _table([{"身份证号": APPLICANT, "姓名": "钟桂兰", "死亡日期": "1949-12-31"},
                    {"身份证号": SON, "姓名": "钟小明", "死亡日期": "2030-01-01"},
                    {"身份证号": SPOUSE, "姓名": "李四", "死亡日期": "2025-07-20"}])
    result = validate_deaths(table, date(2025, 9, 1))
    assert {(e.row, e.column): e.reason for e in result.errors} == {
        (2, "死亡日期"): "早于身份证号中的出生日期 1950-01-01", (3, "死亡日期"): "日期不能晚于今天"}
    missing = validate_deaths(_table([{"身份证号": APPLICANT, "姓名": "钟桂兰"}]), date(2025, 9, 1))
    assert [e.reason for e in missing.errors] == ["缺少必需的列：死亡日期"]
