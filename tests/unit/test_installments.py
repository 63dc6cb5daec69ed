"""The payment schedule's pure rules: amounts to the fen, the terms an installment needs, its status."""
from datetime import date

import pytest

from oversight.domain.acceptance import AcceptanceError, LineDelivery, Member, check_team, service_checks
from oversight.domain.installments import (
    EvaluationPayment,
    InstallmentError,
    InstallmentTerms,
    check_fixed_total,
    check_terms,
    fixed_part_fen,
    installment_state,
    share_fen,
)

TODAY = date(2026, 1, 26)


def test_a_share_is_rounded_once_to_the_fen_half_up():
    assert share_fen(123_456_789, 3000) == 37_037_037  # 37,037,036.7
    assert share_fen(5, 5000) == 3  # 2.5 → 3
    assert share_fen(100_000_001, 10_000) == 100_000_001
    assert fixed_part_fen(100_000_001, [15_123_288, 14_876_713]) == 70_000_000


def test_fixed_installments_may_reach_the_fixed_part_but_not_pass_it():
    check_fixed_total([60_000_000, 10_000_000], 70_000_000)
    with pytest.raises(InstallmentError, match="合计 700,000.01 元，超过合同固定部分 700,000.00 元"):
        check_fixed_total([60_000_000, 10_000_001], 70_000_000)


def test_a_performance_installment_takes_no_amount_and_names_its_year():
    terms = InstallmentTerms("performance", "evaluation", None, None, 2025, None)
    assert check_terms(terms, [2025, 2026]) == terms
    with pytest.raises(InstallmentError, match="须注明年度"):
        check_terms(InstallmentTerms("performance", "evaluation", None, None, None, None), [2025])


def _state(**overrides):
    arguments = {"kind": "advance", "condition": "date", "planned": 1_000_00, "due_on": date(2026, 1, 26),
                 "today": TODAY, "paid_fen": None, "held_reason": None, "acceptance": None, "evaluation": None}
    return installment_state(**{**arguments, **overrides})


def test_a_dated_installment_is_payable_from_its_day_on():
    assert _state().status == "payable"
    assert _state(due_on=date(2026, 1, 27)).status == "pending"
    assert _state(paid_fen=1_000_00).status == "paid"
    held = _state(held_reason="材料不全")
    assert (held.status, held.withheld_fen, held.reason) == ("withheld", 1_000_00, "暂扣：材料不全")


@pytest.mark.parametrize("conclusion, status", [(None, "pending"), ("qualified", "payable"),
                                                ("basically_qualified", "payable"), ("unqualified", "withheld")])
def test_an_installment_on_the_acceptance_follows_its_conclusion(conclusion, status):
    assert _state(condition="acceptance", acceptance=conclusion).status == status


def test_the_performance_share_reads_the_evaluation_and_computes_nothing_of_its_own():
    decided = EvaluationPayment(linked_fen=37_037_037, payable_fen=33_333_333, withheld_fen=3_703_704,
                                already_paid_fen=10_000_000, remaining_fen=23_333_333, to_recover_fen=0)
    state = _state(kind="performance", condition="evaluation", planned=None, due_on=None, evaluation=decided)
    assert (state.status, state.due_fen, state.withheld_fen) == ("payable", 23_333_333, 3_703_704)
    nothing = EvaluationPayment(37_037_037, 0, 37_037_037, 0, 0, 0)
    failed = _state(kind="performance", condition="evaluation", planned=None, due_on=None, evaluation=nothing)
    assert (failed.status, failed.due_fen, failed.withheld_fen) == ("withheld", 0, 37_037_037)
    waiting = _state(kind="performance", condition="evaluation", planned=None, due_on=None,
                     expected_linked_fen=37_037_037)
    assert (waiting.status, waiting.due_fen) == ("pending", None) and "370,370.37" in waiting.reason


def test_a_team_needs_a_recipients_representative_and_someone_else():
    with pytest.raises(AcceptanceError, match="没有服务对象代表"):
        check_team([Member("李明", "leader"), Member("陈静", "expert")])
    with pytest.raises(AcceptanceError, match="不能只有服务对象代表"):
        check_team([Member("王芳", "recipient")])
    check_team([Member("李明", "leader"), Member("王芳", "recipient")])


def test_delivery_and_rates():
    line = LineDelivery("care_visit", 3, 4, 2)
    assert (str(line.completion), line.met, line.label) == ("66.67", False, "照料护理")
    rates = service_checks(None, [True] * 9 + [False], [])
    assert (rates.spot_checks.numerator, rates.spot_checks.denominator) == (9, 10)
    assert rates.satisfaction.text() == "无数据" and rates.label == "合计"
