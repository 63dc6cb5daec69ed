"""The annual evaluation's steps before a payment figure is final: publish, the contractor's
comment window, settlement of a dispute, approval — and who may take each."""
from datetime import date

import pytest

from oversight.domain import review_steps
from oversight.domain.evaluation import EvaluationError
from oversight.extensions import db
from oversight.models import QuarterlyReview
from oversight.services import evaluations
from oversight.services.evaluations import EvaluationPublished
from oversight.services.schemes import ensure_default_scheme

from tests.performance_support import figures_with_total

YEAR = [("2025Q1", 9200, 100), ("2025Q2", 8500, 300), ("2025Q3", 7800, 200), ("2025Q4", 8800, 400)]


@pytest.fixture
def setting(factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    scheme = ensure_default_scheme()
    for quarter, total, volume in YEAR:
        db.session.add(QuarterlyReview(contract_id=contract.id, quarter=quarter, scheme_id=scheme.id, status="approved",
                                       locked=True, figures=figures_with_total(quarter, total, volume), total_centi=total, rating="-", completed_volume=volume))
    db.session.commit()
    drafter = factory.user("admin")
    evaluation = evaluations.compute_evaluation(contract, 2025, drafter)
    db.session.commit()
    return {"contract": contract, "evaluation": evaluation, "drafter": drafter, "other": factory.user("admin"),
            "contractor_user": factory.user("contractor", contractor),
            "stranger": factory.user("contractor", factory.contractor())}


def test_a_contractor_sees_the_evaluation_only_once_published(setting):
    evaluation = setting["evaluation"]
    assert not evaluations.shown_to_contractors(evaluation) and not evaluations.payment_final(evaluation)
    query = evaluations.current_evaluations_query(published_only=True)
    assert db.session.execute(query).scalars().all() == []
    evaluations.publish_evaluation(evaluation, date(2026, 1, 10), window_days=14)
    assert (evaluation.status, evaluation.comment_deadline) == ("published", date(2026, 1, 24))
    assert evaluations.shown_to_contractors(evaluation) and not evaluations.payment_final(evaluation)
    assert db.session.execute(query).scalars().all() == [evaluation]


def test_a_published_evaluation_is_not_recomputed_nor_its_items_changed(setting):
    evaluation = setting["evaluation"]
    evaluations.publish_evaluation(evaluation, date(2026, 1, 10))
    with pytest.raises(EvaluationPublished, match="不再重新计算"):
        evaluations.compute_evaluation(setting["contract"], 2025, setting["drafter"])
    with pytest.raises(EvaluationPublished, match="只有草稿"):
        evaluations.add_annual_item(evaluation, "5", "加分")
    with pytest.raises(EvaluationPublished, match="只有草稿可以发布"):
        evaluations.publish_evaluation(evaluation, date(2026, 1, 11))


def test_the_comment_window_then_settlement_by_an_admin_other_than_the_drafter(setting):
    evaluation, drafter, other = setting["evaluation"], setting["drafter"], setting["other"]
    with pytest.raises(EvaluationError, match="先发布"):
        evaluations.approve_evaluation(evaluation, other, date(2026, 1, 9))
    evaluations.publish_evaluation(evaluation, date(2026, 1, 10), window_days=14)
    with pytest.raises(EvaluationError, match="意见期至 2026-01-24"):
        evaluations.approve_evaluation(evaluation, other, date(2026, 1, 11))
    with pytest.raises(EvaluationError, match="承接机构"):
        evaluations.comment_evaluation(evaluation, setting["stranger"], "disagree", "别家", date(2026, 1, 11))
    with pytest.raises(EvaluationError, match="写明理由"):
        evaluations.comment_evaluation(evaluation, setting["contractor_user"], "disagree", " ", date(2026, 1, 11))
    evaluations.comment_evaluation(evaluation, setting["contractor_user"], "disagree", "第三季度得分偏低，已提交补充材料",
                                   date(2026, 1, 24))
    assert evaluation.status == "disputed"
    with pytest.raises(EvaluationError, match="须先由管理员裁定"):
        evaluations.approve_evaluation(evaluation, other, date(2026, 1, 25))
    with pytest.raises(EvaluationError, match="本人计算的草稿"):
        evaluations.settle_evaluation(evaluation, drafter, "补充材料属实", "5")
    # 85.50 + 5 = 90.50 → 优秀: the whole linked share.
    evaluations.settle_evaluation(evaluation, other, "补充材料属实，加5分", "5")
    assert evaluation.status == "settled" and str(evaluation.figures.score) == "90.50"
    assert [(str(item.points), item.reason) for item in evaluation.figures.annual_items] == [
        ("5.00", "复核裁定：补充材料属实，加5分")]
    with pytest.raises(EvaluationError, match="本人计算的草稿"):
        evaluations.approve_evaluation(evaluation, drafter, date(2026, 1, 26))
    evaluations.approve_evaluation(evaluation, other, date(2026, 1, 26))
    db.session.commit()
    assert evaluation.locked and evaluation.rating == "优秀" and evaluations.payment_final(evaluation)
    assert evaluation.payable_fen == evaluation.linked_fen


def test_silence_until_the_window_closes_counts_as_agreement(setting):
    evaluation = setting["evaluation"]
    evaluations.publish_evaluation(evaluation, date(2026, 1, 10), window_days=7)
    with pytest.raises(EvaluationError, match="已于 2026-01-17 截止"):
        evaluations.comment_evaluation(evaluation, setting["contractor_user"], "disagree", "晚了", date(2026, 1, 18))
    assert review_steps.approval_blocker(evaluation, date(2026, 1, 17)) is not None
    evaluations.approve_evaluation(evaluation, setting["other"], date(2026, 1, 18))
    assert evaluation.status == "approved" and evaluation.contractor_position is None
