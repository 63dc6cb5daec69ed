"""Anomaly flags on accepted completion records: each red flag, its thresholds, and its reasons."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from oversight.domain.anomalies import (
    AnomalyContext,
    AppVisitFacts,
    Flag,
    anomaly_flags,
    app_visit_flags,
    hamming,
    has_flags,
)
from oversight.domain.vocabulary import AnomalyFlag

DAY = dt.date(2024, 3, 5)
ASSIGNMENTS = pd.DataFrame({
    "assignment_id": [1, 2, 3, 4, 5, 6],
    "id_number": ["A", "B", "C", "D", "E", "F"],
    "township": ["城关镇", "城关镇", "城关镇", "北山乡", "北山乡", "北山乡"],
})
CENTRES = {"城关镇": (116.40, 39.90), "北山乡": (116.40, 40.20)}


def visits(*rows: dict, **common) -> pd.DataFrame:
    """Survey records with sensible defaults; each row overrides some fields."""
    base = {"assignment_id": 1, "service_date": DAY, "start_time": "09:00", "end_time": "09:30",
            "duration_minutes": 30, "worker_no": "W01", "longitude": np.nan, "latitude": np.nan,
            "household_size": 3, "annual_income_fen": 3_600_000, "financial_assets_fen": 50_000,
            "survey_conclusion": "需复核", "per_capita_monthly_income_fen": 100_000}
    frame = pd.DataFrame([{**base, **common, **row} for row in rows])
    return frame.set_axis(range(10, 10 + len(frame)))


def codes(flags: pd.Series) -> dict[int, list[str]]:
    return {row: [flag.code for flag in items] for row, items in flags.items() if items}


def context(**settings) -> AnomalyContext:
    return AnomalyContext(ASSIGNMENTS, **settings)


def test_clean_records_carry_no_flags_and_keep_their_index():
    records = visits({"assignment_id": 1}, {"assignment_id": 2, "start_time": "10:00", "end_time": "10:40",
                                            "annual_income_fen": 1_200_000})
    flags = anomaly_flags(records, context())
    assert list(flags.index) == [10, 11]
    assert flags.tolist() == [(), ()]
    assert has_flags(flags).tolist() == [False, False]


def test_a_visit_shorter_than_ten_minutes_is_flagged():
    flags = anomaly_flags(visits({"end_time": "09:09", "duration_minutes": 9}, {"assignment_id": 2,
                          "start_time": "10:00", "end_time": "10:10", "duration_minutes": 10, "household_size": 2}),
                          context())
    assert flags[10] == (Flag("short_visit", "服务时长仅9分钟（少于10分钟）"),)
    assert flags[11] == ()


def test_visits_outside_six_to_twenty_two_are_flagged():
    flags = anomaly_flags(visits({"start_time": "05:50", "end_time": "06:30"},
                                 {"assignment_id": 2, "start_time": "21:40", "end_time": "22:10", "household_size": 2,
                                  "worker_no": "W02"},
                                 {"assignment_id": 3, "start_time": "06:00", "end_time": "22:00", "household_size": 4,
                                  "worker_no": "W03"}),
                          context())
    assert codes(flags) == {10: ["odd_hours"], 11: ["odd_hours"]}
    assert flags[10][0].reason == "服务时间05:50–06:30不在06:00–22:00之内"


def test_one_worker_at_overlapping_times_is_flagged_on_both_visits_but_back_to_back_is_not():
    records = visits({"start_time": "09:00", "end_time": "10:00"},
                     {"assignment_id": 2, "start_time": "09:30", "end_time": "09:50", "household_size": 2},
                     {"assignment_id": 3, "start_time": "10:00", "end_time": "10:30", "household_size": 4},
                     {"assignment_id": 4, "start_time": "09:30", "end_time": "10:00", "worker_no": "W02",
                      "household_size": 5})
    flags = anomaly_flags(records, context())
    assert codes(flags) == {10: ["overlap"], 11: ["overlap"]}
    assert flags[11][0].reason == "服务人员W01同日另有服务与本次（09:30–09:50）时间重叠"


def test_overlap_with_a_stored_visit_is_flagged():
    stored = pd.DataFrame({"worker_no": ["W01", "W01"], "service_date": [DAY, DAY - dt.timedelta(days=1)],
                           "start_time": [dt.time(8, 0), "09:00"], "end_time": ["09:10", "10:00"]})
    flags = anomaly_flags(visits({}), context(existing=stored))
    assert codes(flags) == {10: ["overlap"]}


def test_a_worker_with_too_many_visits_in_a_day_is_flagged():
    rows = [{"assignment_id": 1 + i % 6, "start_time": f"{8 + i}:00", "end_time": f"{8 + i}:30",
             "household_size": 1 + i} for i in range(4)]
    flags = anomaly_flags(visits(*rows), context(max_visits_per_day=3))
    assert all(codes(flags)[row] == ["busy_day"] for row in range(10, 14))
    assert flags[10][0].reason == "服务人员当天共有4次服务（超过3次）"


def test_coordinates_far_from_the_subjects_township_are_flagged():
    records = visits({"longitude": 116.40, "latitude": 39.95},
                     {"assignment_id": 4, "start_time": "13:00", "end_time": "13:30", "longitude": 116.40,
                      "latitude": 39.90, "household_size": 2})
    flags = anomaly_flags(records, context(township_centres=CENTRES))
    assert codes(flags) == {11: ["far_from_township"]}
    assert flags[11][0].reason == "坐标距北山乡中心约33.4公里（超过15公里）"
    assert codes(anomaly_flags(records, context(township_centres=CENTRES, max_distance_km=40))) == {}
    assert codes(anomaly_flags(records, context())) == {}


def test_travelling_faster_than_plausible_between_visits_is_flagged():
    records = visits({"longitude": 116.40, "latitude": 39.90, "end_time": "09:30"},
                     {"assignment_id": 2, "start_time": "09:40", "end_time": "10:10", "longitude": 116.40,
                      "latitude": 40.20, "household_size": 2},
                     {"assignment_id": 3, "start_time": "11:00", "end_time": "11:30", "longitude": 116.40,
                      "latitude": 40.25, "household_size": 4})
    flags = anomaly_flags(records, context())
    assert codes(flags) == {11: ["fast_travel"]}
    assert flags[11][0].reason == "与上一次服务（09:30结束）相距约33.4公里，间隔仅10分钟"


def test_identical_answers_across_households_of_one_worker_are_flagged():
    same = {"household_size": 4, "annual_income_fen": 2_400_000, "financial_assets_fen": 10_000}
    records = visits({**same}, {**same, "assignment_id": 2, "start_time": "11:00", "end_time": "11:30"},
                     {**same, "assignment_id": 3, "worker_no": "W02"},
                     {**same, "assignment_id": 1, "start_time": "14:00", "end_time": "14:30",
                      "service_date": DAY + dt.timedelta(days=1)})
    flags = anomaly_flags(records, context())
    assert codes(flags) == {10: ["identical_answers"], 11: ["identical_answers"], 13: ["identical_answers"]}
    assert flags[11][0].reason == "与同一服务人员调查的另外1户家庭人口、收入和资产完全相同"


def test_households_with_nothing_at_all_are_not_called_identical():
    nothing = {"annual_income_fen": 0, "financial_assets_fen": 0, "per_capita_monthly_income_fen": 0}
    records = visits({**nothing}, {**nothing, "assignment_id": 2, "start_time": "11:00", "end_time": "11:30"})
    assert codes(anomaly_flags(records, context())) == {}


@pytest.mark.parametrize(("conclusion", "income", "code"), [
    ("符合", 80_000, "eligible_above_line"), ("符合", 79_999, None), ("不符合", 39_999, "ineligible_below_line"),
    ("不符合", 40_000, None), ("需复核", 0, None),
])
def test_conclusions_at_odds_with_the_poverty_line_are_flagged(conclusion, income, code):
    records = visits({"survey_conclusion": conclusion, "per_capita_monthly_income_fen": income})
    flags = anomaly_flags(records, context(poverty_line_fen=80_000))
    assert codes(flags) == ({10: [code]} if code else {})


def test_poverty_line_reasons_name_the_amounts():
    records = visits({"survey_conclusion": "符合", "per_capita_monthly_income_fen": 123_456},
                     {"assignment_id": 2, "survey_conclusion": "不符合", "per_capita_monthly_income_fen": 100,
                      "start_time": "11:00", "end_time": "11:30", "household_size": 2})
    flags = anomaly_flags(records, context(poverty_line_fen=80_000, far_below_share=0.6))
    assert flags[10][0].reason == "结论为符合，但人均月收入1,234.56元不低于低保标准800.00元"
    assert flags[11][0].reason == "结论为不符合，但人均月收入1.00元低于低保标准的60%（480.00元）"


def test_a_changed_self_care_conclusion_is_flagged():
    records = pd.DataFrame({"assignment_id": [1, 2, 3], "service_date": [DAY] * 3,
                            "start_time": ["09:00", "10:00", "11:00"], "end_time": ["09:30", "10:30", "11:30"],
                            "duration_minutes": [30] * 3, "worker_no": ["W01"] * 3, "longitude": np.nan,
                            "latitude": np.nan, "conclusion": ["完全丧失生活自理能力", "具备生活自理能力",
                                                               "具备生活自理能力"]})
    flags = anomaly_flags(records, context(previous_conclusions={"A": "部分丧失生活自理能力",
                                                                 "B": "具备生活自理能力"}))
    assert codes(flags) == {0: ["conclusion_changed"]}
    assert flags[0][0].reason == "评估结论由「部分丧失生活自理能力」变为「完全丧失生活自理能力」"


def test_an_unsigned_care_visit_is_flagged():
    records = pd.DataFrame({"assignment_id": [5, 6], "service_date": [DAY] * 2, "start_time": ["09:00", "10:00"],
                            "end_time": ["09:30", "10:30"], "duration_minutes": [30, 30], "worker_no": ["W01"] * 2,
                            "longitude": np.nan, "latitude": np.nan, "care_items": ["生活照料"] * 2,
                            "signed": [True, False]})
    assert codes(anomaly_flags(records, context())) == {1: ["unsigned"]}


def test_several_flags_on_one_record_and_their_stored_form():
    flags = anomaly_flags(visits({"start_time": "05:00", "end_time": "05:06", "duration_minutes": 6}), context())
    assert codes(flags) == {10: ["short_visit", "odd_hours"]}
    assert flags[10][0].as_dict() == {"code": "short_visit", "reason": "服务时长仅6分钟（少于10分钟）"}
    assert set(codes(flags)[10]) <= set(AnomalyFlag)


# --- visits recorded in the app ---------------------------------------------------------------


RECEIVED = dt.datetime(2025, 6, 10, 2, 30)


def _facts(**changes) -> AppVisitFacts:
    values = dict(check_in_day=dt.date(2025, 6, 10), window=(dt.date(2025, 6, 1), dt.date(2025, 6, 30)),
                  device_sent_at=RECEIVED - dt.timedelta(minutes=1), received_at=RECEIVED)
    return AppVisitFacts(**{**values, **changes})


def _codes(facts: AppVisitFacts) -> list[str]:
    return [flag.code for flag in app_visit_flags(facts)]


def test_a_plain_app_visit_has_no_flag_of_its_own():
    assert app_visit_flags(_facts()) == ()
    assert app_visit_flags(_facts(device_sent_at=None)) == ()  # an app that does not say


@pytest.mark.parametrize(("minutes", "flagged"), [(10, False), (11, True), (-90, True)])
def test_a_device_clock_far_from_the_servers_is_flagged(minutes, flagged):
    facts = _facts(device_sent_at=RECEIVED + dt.timedelta(minutes=minutes))
    assert _codes(facts) == (["device_clock"] if flagged else [])


@pytest.mark.parametrize(("day", "flagged"), [(dt.date(2025, 6, 1), False), (dt.date(2025, 6, 30), False),
                                              (dt.date(2025, 5, 31), True), (dt.date(2025, 7, 1), True)])
def test_a_check_in_outside_the_service_period_is_flagged(day, flagged):
    flags = app_visit_flags(_facts(check_in_day=day))
    assert [flag.code for flag in flags] == (["outside_window"] if flagged else [])
    if flagged:
        assert flags[0].reason == f"签到日期{day:%Y-%m-%d}不在任务服务期（2025-06-01至2025-06-30）之内"


def test_a_reused_photo_and_a_near_identical_one_are_flagged_once_each():
    photos = {"a" * 64: "ffff0000ffff0000", "b" * 64: "0f0f0f0f0f0f0f0f", "c" * 64: None}
    facts = _facts(photos=photos, used_elsewhere=frozenset({"a" * 64}),
                   similar_elsewhere=("0f0f0f0f0f0f0f0e", "ffff0000ffff0000"))
    flags = app_visit_flags(facts)
    assert [flag.code for flag in flags] == ["reused_photo", "similar_photo"]
    assert flags[0].reason.startswith("1张照片已在其他服务记录中使用过")
    assert flags[1].reason.startswith("1张照片与其他服务记录的照片几乎相同")  # b only: a is reused already
    far = _facts(photos={"b" * 64: "0f0f0f0f0f0f0f0f"}, similar_elsewhere=("f0f0f0f0f0f0f0f0",))
    assert app_visit_flags(far) == ()
    assert hamming("0f", "0e") == 1 and hamming("ff", "00") == 8
