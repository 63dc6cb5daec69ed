"""Local standards: typed values, the version in force on a day, differences, the import sheet."""
from dataclasses import dataclass
from datetime import date

import pytest

from oversight.domain.local_standards import (
    SHEET_HEADERS,
    SheetRejected,
    StandardInvalid,
    StandardTerms,
    differences,
    is_urban,
    month_ends,
    monthly_allowances,
    parse_days,
    parse_draft,
    parse_sheet,
    version_in_force,
)

TYPED = {
    "effective_from": "2026年1月1日", "reason": "县民政局通知", "poverty_line_fen": "880",
    "poverty_line_rural_fen": "７２０.５", "care_allowance_tier1_fen": "960", "care_allowance_tier2_fen": "580",
    "care_allowance_tier3_fen": "190", "spot_check_share_bp": "5%", "spot_check_floor": "5",
    "callback_share_bp": "12.5", "retrain_threshold_bp": "10", "recheck_threshold_bp": "30",
    "recheck_min_checks": "5", "holidays": "2026-02-15~2026-02-23、2026-01-01", "working_days": "2026/2/14\n2026-02-28",
}


def test_a_typed_version_reads_yuan_percent_and_date_ranges():
    draft = parse_draft(TYPED, year=2026)
    terms = draft.terms
    assert draft.effective_from == date(2026, 1, 1)
    assert (terms.poverty_line_fen, terms.poverty_line_rural_fen) == (88_000, 72_050)
    assert (terms.spot_check_share_bp, terms.callback_share_bp) == (500, 1250)
    assert terms.holidays == (date(2026, 1, 1), *(date(2026, 2, day) for day in range(15, 24)))
    assert terms.working_days == (date(2026, 2, 14), date(2026, 2, 28))


def test_every_wrong_field_is_named_in_chinese():
    typed = TYPED | {"effective_from": "2025-12-31", "poverty_line_fen": "八百", "spot_check_share_bp": "0",
                     "care_allowance_tier3_fen": "", "reason": " "}
    with pytest.raises(StandardInvalid) as refused:
        parse_draft(typed, year=2026)
    errors = refused.value.errors
    assert errors["生效日期"] == "应在 2026 年内"
    assert "金额格式不正确" in errors["城市低保标准（元/人/月）"]
    assert errors["抽查比例（%）"] == "应在 0.01% 到 100% 之间"
    assert errors["护理补贴三档 全自理（元/月）"] == "必须填写"
    assert "原因" in errors["变更原因"]


def test_a_calendar_must_hold_together():
    with pytest.raises(StandardInvalid) as refused:
        parse_draft(TYPED | {"working_days": "2026-02-16"}, year=2026)
    assert "同时列为节假日和调休上班日" in refused.value.errors["调休上班日"]
    with pytest.raises(StandardInvalid) as refused:
        parse_draft(TYPED | {"working_days": "2026-03-02"}, year=2026)
    assert "应为周六或周日" in refused.value.errors["调休上班日"]
    with pytest.raises(StandardInvalid) as refused:
        parse_draft(TYPED | {"care_allowance_tier2_fen": "1000"}, year=2026)
    assert "一档 ≥ 二档 ≥ 三档" in refused.value.errors["护理补贴一档 全护理（元/月）"]
    with pytest.raises(ValueError, match="结束日期早于开始日期"):
        parse_days("2026-02-23~2026-02-15")


def test_a_blank_field_keeps_the_previous_versions_value():
    first = parse_draft(TYPED, year=2026).terms
    second = parse_draft({"effective_from": "2026-07-01", "reason": "年中调标", "poverty_line_fen": "920"},
                         year=2026, previous=first)
    assert second.terms.poverty_line_fen == 92_000
    assert second.terms.poverty_line_rural_fen == first.poverty_line_rural_fen
    assert second.terms.holidays == first.holidays


@dataclass
class V:
    effective_from: date
    number: int


def test_the_version_in_force_is_the_latest_taking_effect_by_the_day():
    versions = [V(date(2026, 1, 1), 1), V(date(2026, 7, 1), 2), V(date(2026, 7, 1), 3), V(date(2026, 10, 1), 4)]
    assert version_in_force(versions, date(2025, 12, 31)) is None
    assert version_in_force(versions, date(2026, 6, 30)).number == 1
    assert version_in_force(versions, date(2026, 7, 1)).number == 3
    assert version_in_force(versions, date(2026, 12, 31)).number == 4


def test_differences_name_the_fields_in_chinese_and_the_dates_added_and_removed():
    first = parse_draft(TYPED, year=2026).terms
    second = parse_draft(TYPED | {"effective_from": "2026-07-01", "poverty_line_fen": "920",
                                  "working_days": "2026-02-14、2026-05-09"}, year=2026).terms
    changed = {change.label: change for change in differences(first, second)}
    assert set(changed) == {"城市低保标准（元/人/月）", "调休上班日"}
    assert (changed["城市低保标准（元/人/月）"].before, changed["城市低保标准（元/人/月）"].after) == ("880.00", "920.00")
    assert changed["调休上班日"].added == ("2026-05-09",) and changed["调休上班日"].removed == ("2026-02-28",)
    assert len(differences(None, first)) == 13


def test_a_sheet_with_any_error_is_refused_whole_naming_row_and_column():
    headers = list(SHEET_HEADERS)
    good = {"年度": "2026", "生效日期": "2026-01-01", "城市低保标准（元/人/月）": "880", "农村低保标准（元/人/月）": "720",
            "护理补贴一档 全护理（元/月）": "960", "护理补贴二档 半护理（元/月）": "580",
            "护理补贴三档 全自理（元/月）": "190", "抽查比例（%）": "5", "最少抽查份数": "5", "回访比例（%）": "10",
            "再培训阈值（差错率 %）": "10", "定向复查阈值（差错率 %）": "30", "定向复查的最少抽查数": "5",
            "法定节假日": "", "调休上班日": "", "变更原因": "通知"}
    later = {"年度": "2026", "生效日期": "2026-07-01", "城市低保标准（元/人/月）": "920", "变更原因": "年中调标"}
    drafts = parse_sheet(headers, [(2, good), (3, later)])
    assert [draft.terms.poverty_line_fen for draft in drafts] == [88_000, 92_000]
    assert drafts[1].terms.care_allowance_tier1_fen == 96_000  # blank keeps the row above
    with pytest.raises(SheetRejected) as refused:
        parse_sheet(headers, [(2, good), (3, later | {"城市低保标准（元/人/月）": "-5"}), (4, later | {"年度": "26"})])
    assert [str(error) for error in refused.value.errors] == [
        "第 3 行「城市低保标准（元/人/月）」（-5）：金额不能为负数",
        "第 4 行「年度」（26）：应为四位年份，如 2026",
    ]
    with pytest.raises(SheetRejected, match="表头「生效日期」：缺少该列"):
        parse_sheet(["年度", "变更原因"], [(2, {"年度": "2026"})])


def test_urban_subjects_live_in_a_community_or_a_street_office():
    assert is_urban("梅林街道", "章贡社区") and is_urban("梅林街道", "")
    assert not is_urban("梅林镇", "田村村") and is_urban("梅林镇", "梅林社区")


def test_each_month_reads_the_tier_and_the_standard_in_force_at_its_end():
    low = StandardTerms(80_000, 70_000, 90_000, 50_000, 15_000)
    high = StandardTerms(80_000, 70_000, 96_000, 58_000, 19_000)
    terms_at = {end: (low if end < date(2026, 7, 1) else high) for end in month_ends(2026)}
    assessments = [(date(2026, 3, 10), "具备生活自理能力"), (date(2026, 8, 31), "完全丧失生活自理能力")]
    months = monthly_allowances(assessments, 2026, terms_at)
    assert [m.tier for m in months[:3]] == [None, None, "三档 全自理"]
    # March to June at the first standard, July at the second; assessed again on 31 August: 一档 from August.
    assert [m.allowance_fen for m in months[2:9]] == [15_000, 15_000, 15_000, 15_000, 19_000, 96_000, 96_000]
    assert months[7].tier == "一档 全护理"
