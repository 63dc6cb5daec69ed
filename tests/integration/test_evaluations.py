"""Annual evaluation from approved quarters, annual items, locking, and the payment arithmetic to the fen."""
from datetime import date

import pytest

from oversight.domain.evaluation import EvaluationError
from oversight.extensions import db
from oversight.models import AnnualEvaluation, QuarterlyReview
from oversight.models.performance import LockedRecordChange
from oversight.services import evaluations
from oversight.services.reviews import ReviewLocked
from oversight.services.schemes import ensure_default_scheme

from tests.performance_support import figures_with_total


@pytest.fixture
def contract(factory):
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    contract.amount_fen = 123_456_789  # 1,234,567.89 yuan
    db.session.commit()
    return contract


def approved_quarters(contract, rows, status="approved"):
    scheme = ensure_default_scheme()
    for quarter, total_centi, volume in rows:
        db.session.add(QuarterlyReview(contract_id=contract.id, quarter=quarter, scheme_id=scheme.id, status=status,
                                       locked=status == "approved", figures=figures_with_total(quarter, total_centi, volume), total_centi=total_centi,
                                       rating="-", completed_volume=volume))
    db.session.commit()


YEAR = [("2025Q1", 9200, 100), ("2025Q2", 8500, 300), ("2025Q3", 7800, 200), ("2025Q4", 8800, 400)]


def test_the_year_is_the_volume_weighted_mean_and_pays_the_linked_share_to_the_fen(contract, factory):
    approved_quarters(contract, YEAR)
    evaluations.record_payment(contract, date(2025, 6, 30), 10_000_000, "performance", 2025, "预付")
    evaluations.record_payment(contract, date(2025, 3, 31), 50_000_000, "fixed", None, "首期款")
    evaluations.record_payment(contract, date(2025, 1, 15), 2_000_000, "performance", 2024, "上年度尾款")
    evaluation = evaluations.compute_evaluation(contract, 2025)
    db.session.commit()
    figures = evaluation.figures
    # (92 × 100 + 85 × 300 + 78 × 200 + 88 × 400) / 1000 = 85.50 → 良好
    assert str(figures.score) == "85.50" and evaluation.rating == "良好" and evaluation.score_centi == 8550
    assert [(q.quarter, str(q.total), q.completed_volume, str(q.weight)) for q in figures.quarters] == [
        ("2025Q1", "92.00", 100, "0.1000"), ("2025Q2", "85.00", 300, "0.3000"),
        ("2025Q3", "78.00", 200, "0.2000"), ("2025Q4", "88.00", 400, "0.4000")]
    # 123,456,789 × 30 % = 37,037,036.7 → 37,037,037 fen linked, 86,419,752 fixed;
    # 良好 pays 90 %: 33,333,333.3 → 33,333,333 payable, 3,703,704 withheld; 10,000,000 already advanced.
    assert figures.payment.to_json() == {
        "contract_amount_fen": 123_456_789, "year_amount_fen": 123_456_789, "performance_share": "0.3000",
        "fixed_fen": 86_419_752, "linked_fen": 37_037_037, "payout_rate": "0.90", "payable_fen": 33_333_333,
        "withheld_fen": 3_703_704, "already_paid_fen": 10_000_000, "remaining_fen": 23_333_333, "to_recover_fen": 0}
    assert (evaluation.linked_fen, evaluation.payable_fen, evaluation.withheld_fen) == (37_037_037, 33_333_333, 3_703_704)

    evaluations.add_annual_item(evaluation, "5", "获评市级优秀社会工作服务机构")
    # 85.50 + 5 = 90.50 → 优秀 pays the whole linked share.
    assert str(evaluation.figures.score) == "90.50" and evaluation.rating == "优秀"
    assert evaluation.payable_fen == 37_037_037 and evaluation.withheld_fen == 0
    assert evaluation.figures.payment.remaining_fen == 27_037_037
    assert [item.to_json() for item in evaluation.figures.annual_items] == [
        {"points": "5.00", "reason": "获评市级优秀社会工作服务机构"}]
    evaluations.remove_annual_item(evaluation, 0)
    assert str(evaluation.figures.score) == "85.50"


def test_a_multi_year_term_splits_the_amount_by_days_exactly():
    # 2025-07-01 … 2026-06-30 is 365 days: 184 in 2025, 181 in 2026.
    start, end = date(2025, 7, 1), date(2026, 6, 30)
    parts = [evaluations.year_amount_fen(100_000_001, start, end, year) for year in (2024, 2025, 2026, 2027)]
    assert parts == [0, 50_410_959, 49_589_042, 0]  # 100,000,001 × 184/365 = 50,410,959.3…
    assert sum(parts) == 100_000_001


def test_unapproved_quarters_are_listed_and_block_approval(contract, factory):
    approved_quarters(contract, YEAR[:3])
    approved_quarters(contract, YEAR[3:], status="disputed")
    evaluation = evaluations.compute_evaluation(contract, 2025)
    # Q1–Q3 only: (9200 + 25500 + 15600) / 600 = 83.83…
    assert str(evaluation.figures.score) == "83.83"
    assert [q.to_json() for q in evaluation.figures.missing_quarters] == [{"quarter": "2025Q4", "status": "disputed"}]
    with pytest.raises(EvaluationError, match="2025Q4（承接方有异议）"):
        evaluations.publish_evaluation(evaluation, date(2026, 1, 10))
    with pytest.raises(EvaluationError, match="2025Q4（承接方有异议）"):
        evaluation.status, evaluation.comment_deadline = "agreed", date(2026, 1, 20)  # as if published
        evaluations.approve_evaluation(evaluation, factory.user("admin"), date(2026, 1, 21))
    assert not evaluation.locked


def test_nothing_approved_means_no_evaluation(contract):
    with pytest.raises(EvaluationError, match="还没有审定的季度考核"):
        evaluations.compute_evaluation(contract, 2025)


def test_an_approved_evaluation_is_locked_and_corrected_by_a_new_revision(contract, factory):
    approved_quarters(contract, YEAR)
    admin = factory.user("admin")
    evaluation = evaluations.compute_evaluation(contract, 2025)
    evaluations.publish_evaluation(evaluation, date(2026, 1, 10), window_days=7)
    evaluations.approve_evaluation(evaluation, admin, date(2026, 1, 18))
    db.session.commit()
    assert evaluation.locked and evaluation.status == "approved"
    with pytest.raises(ReviewLocked):
        evaluations.add_annual_item(evaluation, "1", "补充加分")
    with pytest.raises(ReviewLocked):
        evaluations.compute_evaluation(contract, 2025)
    evaluation.payable_fen = 1
    with pytest.raises(LockedRecordChange):
        db.session.flush()
    db.session.rollback()
    new = evaluations.correct_evaluation(evaluation, "第四季度考核更正")
    db.session.commit()
    assert (new.revision, new.status, new.figures.revision_reason) == (2, "draft", "第四季度考核更正")
    assert db.session.get(AnnualEvaluation, evaluation.id).payable_fen == 33_333_333


def test_payments_are_validated(contract):
    with pytest.raises(EvaluationError, match="所属年度"):
        evaluations.record_payment(contract, date(2025, 6, 30), 100, "performance", None, None)
    with pytest.raises(EvaluationError, match="大于0"):
        evaluations.record_payment(contract, date(2025, 6, 30), 0, "fixed", None, None)
    assert evaluations.record_payment(contract, date(2025, 6, 30), 100, "fixed", 2025, None).year is None
