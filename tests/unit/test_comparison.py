"""Comparison of a spot check against the contractor's record, and worker flags."""
from decimal import Decimal

import pytest

from oversight.domain.comparison import (
    CARE_VISIT,
    HOUSEHOLD_SURVEY,
    RECHECK,
    RETRAIN,
    SELF_CARE_ASSESSMENT,
    ComparisonError,
    ErrorCount,
    NothingToCompare,
    compare_record,
    money_tolerance_fen,
    tally,
    tally_by_field,
    recheck_warranted,
    worker_flags,
)
from oversight.domain.self_care import CONCLUSION_FULL, CONCLUSION_PARTIAL, ITEM_KEYS
from oversight.domain.statistics import wilson_interval

SURVEY = {
    "household_size": 3,
    "annual_income_fen": 1_000_000,
    "financial_assets_fen": 200_000,
    "survey_conclusion": "符合",
}
ALL_MET = {key: True for key in ITEM_KEYS}


def survey(**changes):
    return {**SURVEY, **changes}


def items(**changes):
    return {**ALL_MET, **changes}


def field(comparison, key):
    return next(item for item in comparison.fields if item.key == key)


def income_matches(reported_fen, rechecked_fen):
    comparison = compare_record(
        HOUSEHOLD_SURVEY, {"annual_income_fen": reported_fen}, {"annual_income_fen": rechecked_fen}
    )
    return field(comparison, "annual_income_fen").matches


# --- household survey: money tolerance -------------------------------------------------------


def test_tolerance_is_ten_percent_of_the_reported_amount_above_5000_yuan():
    assert money_tolerance_fen(1_000_000) == 100_000


def test_tolerance_is_500_yuan_below_5000_yuan():
    assert money_tolerance_fen(200_000) == 50_000
    assert money_tolerance_fen(0) == 50_000


def test_both_tolerances_coincide_at_5000_yuan():
    assert money_tolerance_fen(500_000) == 50_000


@pytest.mark.parametrize(
    ("rechecked", "matches"),
    [
        (1_100_000, True),  # exactly +10 %
        (1_100_001, False),  # one fen beyond
        (900_000, True),  # exactly −10 %
        (899_999, False),
    ],
)
def test_income_of_10000_yuan_matches_within_ten_percent_exactly(rechecked, matches):
    assert income_matches(1_000_000, rechecked) is matches


@pytest.mark.parametrize(
    ("rechecked", "matches"),
    [
        (250_000, True),  # exactly +500 yuan
        (250_001, False),
        (150_000, True),  # exactly −500 yuan
        (149_999, False),
    ],
)
def test_income_of_2000_yuan_matches_within_500_yuan_exactly(rechecked, matches):
    assert income_matches(200_000, rechecked) is matches


def test_zero_income_matches_up_to_500_yuan():
    assert income_matches(0, 50_000) is True
    assert income_matches(0, 50_001) is False


def test_ten_percent_is_rounded_down_to_the_fen_which_is_exact_for_whole_fen_differences():
    # 10 % of 10,000.05 yuan is 1,000.005 yuan: a difference of 1,000.00 passes, 1,000.01 does not.
    assert money_tolerance_fen(1_000_005) == 100_000
    assert income_matches(1_000_005, 1_100_005) is True
    assert income_matches(1_000_005, 1_100_006) is False


def test_tolerance_is_measured_from_the_reported_value_not_the_rechecked_one():
    # 100,000 fen apart: within 10 % of 1,000,000 reported, beyond 10 % of 900,000 reported (90,000).
    assert income_matches(1_000_000, 900_000) is True
    assert income_matches(900_000, 1_000_000) is False


def test_financial_assets_use_the_same_tolerance():
    comparison = compare_record(
        HOUSEHOLD_SURVEY, survey(financial_assets_fen=200_000), survey(financial_assets_fen=250_001)
    )
    assert field(comparison, "financial_assets_fen").matches is False
    assert field(comparison, "annual_income_fen").matches is True


def test_money_note_states_the_tolerance_and_the_difference_in_yuan():
    comparison = compare_record(
        HOUSEHOLD_SURVEY, {"annual_income_fen": 123_456_789}, {"annual_income_fen": 123_456_000}
    )
    assert field(comparison, "annual_income_fen").note == (
        "允许误差±123,456.78元（以上报值为基准，10%与500元取较大者），实际相差7.89元"
    )


# --- household survey: verdicts --------------------------------------------------------------


def test_identical_survey_passes_with_no_error():
    comparison = compare_record(HOUSEHOLD_SURVEY, SURVEY, SURVEY)
    assert comparison.passed
    assert (comparison.compared, comparison.differing) == (4, 0)
    assert comparison.error_rate == Decimal("0.0000")
    assert comparison.reason == "合格"


def test_household_size_must_match_exactly():
    comparison = compare_record(HOUSEHOLD_SURVEY, SURVEY, survey(household_size=4))
    assert field(comparison, "household_size").matches is False
    assert comparison.passed  # one non-critical field may differ


def test_one_other_field_differing_still_passes_and_counts_in_the_error_rate():
    comparison = compare_record(HOUSEHOLD_SURVEY, SURVEY, survey(annual_income_fen=1_200_000))
    assert comparison.passed
    assert (comparison.compared, comparison.differing) == (4, 1)
    assert comparison.error_rate == Decimal("0.2500")


def test_two_other_fields_differing_fail():
    comparison = compare_record(
        HOUSEHOLD_SURVEY, SURVEY, survey(household_size=4, annual_income_fen=1_200_000)
    )
    assert not comparison.passed
    assert comparison.reason == "不合格：2个非关键字段不一致（家庭人口数、家庭年收入）"
    assert comparison.error_rate == Decimal("0.5000")


def test_a_different_survey_conclusion_fails_on_its_own():
    comparison = compare_record(HOUSEHOLD_SURVEY, SURVEY, survey(survey_conclusion="不符合"))
    assert not comparison.passed
    assert [item.key for item in comparison.critical_differences] == ["survey_conclusion"]
    assert comparison.reason == "不合格：关键字段不一致（调查结论）"


def test_fields_have_chinese_labels_and_criticality():
    comparison = compare_record(HOUSEHOLD_SURVEY, SURVEY, SURVEY)
    assert [(item.key, item.label, item.critical) for item in comparison.fields] == [
        ("household_size", "家庭人口数", False),
        ("annual_income_fen", "家庭年收入", False),
        ("financial_assets_fen", "家庭金融资产", False),
        ("survey_conclusion", "调查结论", True),
    ]


def test_fields_missing_on_either_side_are_listed_but_not_compared():
    reported = {"household_size": 3, "annual_income_fen": 1_000_000}
    rechecked = {"household_size": 3, "financial_assets_fen": 1, "survey_conclusion": None}
    comparison = compare_record(HOUSEHOLD_SURVEY, reported, rechecked)
    assert (comparison.compared, comparison.differing) == (1, 0)
    assert field(comparison, "annual_income_fen").note == "复核未记录此项，未比对"
    assert field(comparison, "financial_assets_fen").note == "上报记录无此项，未比对"
    assert field(comparison, "survey_conclusion").note == "双方均无此项，未比对"
    assert field(comparison, "survey_conclusion").matches is None


def test_keys_outside_the_service_type_are_ignored():
    comparison = compare_record(HOUSEHOLD_SURVEY, survey(worker_no="W01"), survey(remark="x"))
    assert [item.key for item in comparison.fields] == list(SURVEY)


def test_nothing_in_common_cannot_be_compared():
    with pytest.raises(NothingToCompare):
        compare_record(HOUSEHOLD_SURVEY, {"household_size": 3}, {"annual_income_fen": 1})


def test_unknown_service_type_is_refused():
    with pytest.raises(ComparisonError, match="未知的服务类型"):
        compare_record("cleaning", {}, {})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("household_size", "3"),
        ("annual_income_fen", 1000.0),
        ("annual_income_fen", True),
        ("survey_conclusion", 1),
    ],
)
def test_values_of_the_wrong_type_are_refused(key, value):
    with pytest.raises(ComparisonError):
        compare_record(HOUSEHOLD_SURVEY, SURVEY, survey(**{key: value}))


# --- self-care assessment --------------------------------------------------------------------


def test_same_items_pass_with_seven_fields_compared():
    comparison = compare_record(SELF_CARE_ASSESSMENT, ALL_MET, ALL_MET)
    assert comparison.passed
    assert comparison.compared == 7
    assert field(comparison, "conclusion").reported == CONCLUSION_FULL


def test_one_item_differing_within_the_same_conclusion_passes():
    # 1 and 2 items not met are both 部分丧失生活自理能力.
    comparison = compare_record(SELF_CARE_ASSESSMENT, items(eating=False), items(eating=False, bathing=False))
    assert comparison.passed
    assert (comparison.compared, comparison.differing) == (7, 1)
    assert comparison.error_rate == Decimal("0.1429")  # 1/7
    assert field(comparison, "conclusion").matches is True


def test_an_item_that_changes_the_conclusion_fails():
    comparison = compare_record(SELF_CARE_ASSESSMENT, ALL_MET, items(bathing=False))
    conclusion = field(comparison, "conclusion")
    assert (conclusion.reported, conclusion.rechecked) == (CONCLUSION_FULL, CONCLUSION_PARTIAL)
    assert conclusion.critical and conclusion.matches is False
    assert not comparison.passed
    assert comparison.differing == 2  # the item and the conclusion


def test_two_items_differing_fail_even_with_the_same_conclusion():
    comparison = compare_record(SELF_CARE_ASSESSMENT, items(eating=False), items(dressing=False))
    assert field(comparison, "conclusion").matches is True
    assert not comparison.passed


def test_a_stated_conclusion_is_ignored_in_favour_of_the_computed_one():
    reported = {**ALL_MET, "conclusion": "完全丧失生活自理能力"}
    comparison = compare_record(SELF_CARE_ASSESSMENT, reported, ALL_MET)
    assert field(comparison, "conclusion").reported == CONCLUSION_FULL
    assert comparison.passed


def test_conclusion_is_not_compared_when_an_item_is_missing():
    rechecked = {key: True for key in ITEM_KEYS[:5]}
    comparison = compare_record(SELF_CARE_ASSESSMENT, ALL_MET, rechecked)
    conclusion = field(comparison, "conclusion")
    assert conclusion.matches is None
    assert conclusion.note == "六项未全部记录，无法计算结论，未比对"
    assert comparison.compared == 5


def test_self_care_items_must_be_booleans():
    with pytest.raises(ComparisonError):
        compare_record(SELF_CARE_ASSESSMENT, items(eating="能"), ALL_MET)


# --- care visit ------------------------------------------------------------------------------


def test_care_items_compare_as_sets():
    reported = {"visit_happened": True, "care_items": ["生活照料", "精神慰藉"]}
    rechecked = {"visit_happened": True, "care_items": {"精神慰藉", "生活照料"}}
    comparison = compare_record(CARE_VISIT, reported, rechecked)
    assert comparison.passed and comparison.differing == 0
    assert comparison.as_dict()["fields"][1]["reported"] == ["生活照料", "精神慰藉"]


def test_different_care_items_are_one_other_field_and_pass():
    reported = {"visit_happened": True, "care_items": ["生活照料", "精神慰藉"]}
    rechecked = {"visit_happened": True, "care_items": ["生活照料", "送医陪护"]}
    comparison = compare_record(CARE_VISIT, reported, rechecked)
    care_items = field(comparison, "care_items")
    assert care_items.matches is False
    assert care_items.note == "须完全一致；复核未见：精神慰藉；复核多出：送医陪护"
    assert comparison.passed


def test_a_visit_that_did_not_happen_fails():
    reported = {"visit_happened": True, "care_items": ["生活照料"]}
    comparison = compare_record(CARE_VISIT, reported, {"visit_happened": False})
    assert not comparison.passed
    assert (comparison.compared, comparison.differing) == (1, 1)
    assert comparison.error_rate == Decimal("1.0000")


def test_care_items_given_as_one_string_are_refused():
    with pytest.raises(ComparisonError):
        compare_record(CARE_VISIT, {"care_items": "生活照料"}, {"care_items": ["生活照料"]})


# --- counts and worker flags -----------------------------------------------------------------


def test_counts_add_up_over_records_and_per_field():
    comparisons = [
        compare_record(HOUSEHOLD_SURVEY, SURVEY, SURVEY),
        compare_record(HOUSEHOLD_SURVEY, SURVEY, survey(household_size=5)),
        compare_record(HOUSEHOLD_SURVEY, {"household_size": 3}, {"household_size": 2}),
    ]
    assert tally(comparisons) == ErrorCount(differing=2, compared=9)
    assert tally(comparisons).rate == Decimal("0.2222")
    by_field = tally_by_field(comparisons)
    assert by_field["household_size"] == ErrorCount(2, 3)
    assert by_field["annual_income_fen"] == ErrorCount(0, 2)


def test_error_count_without_fields_has_no_rate():
    assert ErrorCount(0, 0).rate is None


def test_error_count_refuses_more_differences_than_fields():
    with pytest.raises(ComparisonError):
        ErrorCount(3, 2)


def test_worker_flags_at_and_beyond_the_default_thresholds():
    rates = {
        "W01": (1, 10),  # exactly 10 %: not above
        "W02": (2, 19),  # 10.5 %
        "W03": (3, 10),  # exactly 30 %: not above
        "W04": (4, 13),  # 30.8 %
        "W05": ErrorCount(0, 0),  # nothing compared
        "W06": (0, 40),
    }
    flags = worker_flags(rates, checks=dict.fromkeys(rates, 5))
    assert flags == {"W02": RETRAIN, "W03": RETRAIN, "W04": RECHECK}


def test_worker_flags_use_the_thresholds_the_admin_sets():
    rates = {"W01": (1, 10), "W02": (1, 4)}
    assert worker_flags(rates, Decimal("0.05"), Decimal("0.20"), checks={"W01": 6, "W02": 6}) == {
        "W01": RETRAIN, "W02": RECHECK}


def test_a_high_error_rate_on_too_few_records_asks_for_retraining_not_a_targeted_recheck():
    rates = {"W01": (4, 10)}  # 40 %, Wilson lower bound about 17 %: below the 30 % threshold
    assert worker_flags(rates, checks={"W01": 4}) == {"W01": RETRAIN}
    assert worker_flags(rates, checks={"W01": 5}) == {"W01": RECHECK}
    assert worker_flags(rates, checks={"W01": 4}, min_checks=4) == {"W01": RECHECK}
    assert worker_flags(rates, checks={}) == {"W01": RETRAIN}  # no checked record counted


def test_a_lower_bound_past_the_threshold_is_enough_on_few_records():
    low, _ = wilson_interval(18, 20)
    assert low > 0.30  # the case below rests on it
    assert recheck_warranted(ErrorCount(18, 20), 2, Decimal("0.30"))
    low, _ = wilson_interval(8, 20)
    assert 0.30 < 8 / 20 and low < 0.30
    assert not recheck_warranted(ErrorCount(8, 20), 2, Decimal("0.30"))
    assert recheck_warranted(ErrorCount(8, 20), 5, Decimal("0.30"))


def test_no_recheck_at_or_below_the_threshold_however_many_records():
    assert not recheck_warranted(ErrorCount(3, 10), 100, Decimal("0.30"))
    assert not recheck_warranted(ErrorCount(0, 0), 100, Decimal("0.30"))


def test_the_minimum_of_checked_records_must_be_a_positive_count():
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ComparisonError):
            worker_flags({}, checks={}, min_checks=bad)


def test_worker_flag_thresholds_must_be_ordered_rates():
    with pytest.raises(ComparisonError):
        worker_flags({}, Decimal("0.30"), Decimal("0.10"), checks={})
    with pytest.raises(ComparisonError):
        worker_flags({}, Decimal("0.10"), Decimal("1.5"), checks={})
