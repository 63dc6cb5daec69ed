"""The payment schedule: installments planned to the fen, their conditions, holds and payments,
and the performance share following the approved annual evaluation to the fen."""
from datetime import date

import pytest
from sqlalchemy import select

from oversight.domain.installments import InstallmentError
from oversight.extensions import db
from oversight.models import AuditEvent, PaymentRecord, QuarterlyReview
from oversight.services import acceptances, evaluations, installments
from oversight.services.schemes import ensure_default_scheme

from tests.performance_support import figures_with_total

YEAR = [("2025Q1", 9200, 100), ("2025Q2", 8500, 300), ("2025Q3", 7800, 200), ("2025Q4", 8800, 400)]
TODAY = date(2026, 1, 26)


@pytest.fixture
def contract(factory):
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    contract.amount_fen = 123_456_789  # 1,234,567.89 yuan, 30 % linked
    db.session.commit()
    return contract


@pytest.fixture
def admin(factory):
    return factory.user("admin")


def approve_year(contract, factory):
    scheme = ensure_default_scheme()
    for quarter, total, volume in YEAR:
        db.session.add(QuarterlyReview(contract_id=contract.id, quarter=quarter, scheme_id=scheme.id, status="approved",
                                       locked=True, figures=figures_with_total(quarter, total, volume),
                                       total_centi=total, rating="-", completed_volume=volume))
    db.session.commit()
    evaluation = evaluations.compute_evaluation(contract, 2025, factory.user("admin"))
    evaluations.publish_evaluation(evaluation, date(2026, 1, 10), window_days=14)
    evaluations.approve_evaluation(evaluation, factory.user("admin"), date(2026, 1, 25))
    db.session.commit()
    return evaluation


def add(contract, admin, **terms):
    defaults = {"title": "分期", "amount_fen": None, "share_bp": None, "year": None, "due_on": None}
    return installments.add_installment(contract, user=admin, **{**defaults, **terms})


def test_fixed_installments_add_up_to_the_fixed_part_and_not_a_fen_more(contract, admin):
    # 123,456,789 × 30 % = 37,037,036.7 → 37,037,037 linked (as the evaluation splits it); 86,419,752 fixed.
    assert installments.fixed_fen(contract) == 86_419_752
    advance = add(contract, admin, title="首期预付款", kind="advance", condition="date", share_bp=3000,
                  due_on=date(2025, 1, 15))
    assert installments.state_of(advance, TODAY).due_fen == 37_037_037  # 30 % of the amount, half up
    add(contract, admin, title="中期进度款", kind="progress", condition="date", amount_fen=49_382_715,
        due_on=date(2025, 7, 15))
    with pytest.raises(InstallmentError, match="超过合同固定部分 864,197.52 元"):
        add(contract, admin, title="多一分", kind="progress", condition="date", amount_fen=1, due_on=date(2025, 8, 1))
    assert [item.sequence for item in installments.installments_of(contract.id)] == [1, 2]


@pytest.mark.parametrize("terms, message", [
    ({"kind": "performance", "condition": "date", "due_on": date(2025, 12, 31), "year": 2025}, "以年度绩效评价审定为支付条件"),
    ({"kind": "performance", "condition": "evaluation", "year": 2025, "amount_fen": 100}, "由年度绩效评价确定"),
    ({"kind": "advance", "condition": "date", "due_on": date(2025, 1, 1)}, "请填写金额或比例中的一项"),
    ({"kind": "advance", "condition": "date", "amount_fen": 100}, "须填写约定日期"),
    ({"kind": "progress", "condition": "acceptance", "amount_fen": 100, "year": 2027}, "2027年不在合同服务期内"),
    ({"kind": "progress", "condition": "evaluation", "amount_fen": 100, "year": 2025}, "只有履约绩效款"),
])
def test_incomplete_terms_are_refused_naming_the_field(contract, admin, terms, message):
    with pytest.raises(InstallmentError, match=message):
        add(contract, admin, **terms)
    assert installments.installments_of(contract.id) == []


def test_the_performance_share_follows_the_approved_evaluation_to_the_fen(contract, admin, factory):
    share = add(contract, admin, title="2025年度履约绩效款", kind="performance", condition="evaluation", year=2025)
    before = installments.state_of(share, TODAY)
    assert (before.status, before.due_fen) == ("pending", None) and "370,370.37" in before.reason
    with pytest.raises(InstallmentError, match="未到期"):
        installments.pay_installment(share, TODAY, admin, TODAY)

    evaluation = approve_year(contract, factory)
    payment = evaluation.figures.payment
    # 85.50 → 良好 pays 90 %: 33,333,333 payable, 3,703,704 withheld (tests/integration/test_evaluations.py).
    state = installments.state_of(share, TODAY)
    assert (state.status, state.due_fen, state.withheld_fen) == ("payable", 33_333_333, 3_703_704)
    assert (state.due_fen, state.withheld_fen) == (payment.remaining_fen, payment.withheld_fen)

    installments.pay_installment(share, TODAY, admin, TODAY)
    db.session.commit()
    paid = installments.state_of(share, TODAY)
    assert (paid.status, paid.due_fen, paid.withheld_fen) == ("paid", 33_333_333, 3_703_704)
    record = db.session.execute(select(PaymentRecord)).scalar_one()
    assert (record.kind, record.year, record.amount_fen, share.payment_id) == ("performance", 2025, 33_333_333, record.id)
    assert evaluations.paid_fen(contract.id, "performance", 2025) == 33_333_333
    with pytest.raises(InstallmentError, match="已于 2026-01-26 支付"):
        installments.pay_installment(share, TODAY, admin, TODAY)


def test_an_advance_on_the_linked_share_leaves_the_rest_payable(contract, admin, factory):
    evaluations.record_payment(contract, date(2025, 6, 30), 10_000_000, "performance", 2025, "预付")
    share = add(contract, admin, title="2025年度履约绩效款", kind="performance", condition="evaluation", year=2025)
    approve_year(contract, factory)
    state = installments.state_of(share, TODAY)
    assert (state.due_fen, state.withheld_fen) == (23_333_333, 3_703_704)


def test_an_installment_on_the_acceptance_waits_for_a_passing_conclusion(contract, admin, factory):
    progress = add(contract, admin, title="验收后进度款", kind="progress", condition="acceptance",
                   amount_fen=20_000_000, year=2025)
    assert installments.state_of(progress, TODAY).status == "pending"
    acceptance = acceptances.open_acceptance(contract, 2025, admin)
    acceptances.add_member(acceptance, "李明", "leader", "县民政局")
    acceptances.add_member(acceptance, "王芳", "recipient", "梅林镇低保户代表")
    acceptances.conclude(acceptance, conclusion="unqualified", opinion="家计调查完成量不足", accepted_on=TODAY,
                         user=admin, today=TODAY)
    state = installments.state_of(progress, TODAY)
    assert (state.status, state.withheld_fen) == ("withheld", 20_000_000) and "不合格" in state.reason
    acceptance.conclusion = "basically_qualified"
    assert installments.state_of(progress, TODAY).status == "payable"


def test_a_hold_stops_a_payable_installment_until_released_and_every_step_is_audited(contract, admin):
    advance = add(contract, admin, title="首期预付款", kind="advance", condition="date", amount_fen=1_000_000,
                  due_on=date(2025, 1, 15))
    db.session.commit()
    assert installments.state_of(advance, TODAY).status == "payable"
    installments.hold_installment(advance, "未按约定配备社工", admin)
    assert installments.state_of(advance, TODAY).status == "withheld"
    with pytest.raises(InstallmentError, match="暂扣"):
        installments.pay_installment(advance, TODAY, admin, TODAY)
    installments.release_installment(advance)
    installments.pay_installment(advance, date(2026, 1, 20), admin, TODAY)
    db.session.commit()
    with pytest.raises(InstallmentError, match="不能删除"):
        installments.delete_installment(advance)
    events = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "Installment")
                                .order_by(AuditEvent.id)).scalars().all()
    assert events[0] == "create" and events.count("update") >= 3
    record = db.session.execute(select(PaymentRecord)).scalar_one()
    assert (record.kind, record.amount_fen, record.paid_on) == ("fixed", 1_000_000, date(2026, 1, 20))
