"""A contract's payment schedule: plan installments, hold and release them, pay them.

The performance installment of a year reads its payable and withheld amounts from the newest
approved annual evaluation's stored payment figures (`services/evaluations.py` computed them with
`domain/evaluation.performance_payment`); paying an installment records a PaymentRecord through
`evaluations.record_payment`, so the evaluation and the OCDS package see the payment as before.
Every change is written to the audit log by the session listener.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..clock import utcnow
from ..domain.evaluation import DEFAULT_PAYOUT, performance_payment
from ..domain.installments import (
    EvaluationPayment,
    InstallmentError,
    InstallmentState,
    InstallmentTerms,
    check_fixed_total,
    check_terms,
    fixed_part_fen,
    installment_state,
    planned_fen,
)
from ..domain.scoring import EXCELLENT
from ..domain.vocabulary import AcceptanceStatus, InstallmentKind, InstallmentStatus, PaymentKind
from ..extensions import db
from ..models import AnnualEvaluation, Contract, ContractAcceptance, Installment, User
from . import evaluations


def term_years(contract: Contract) -> list[int]:
    return list(range(contract.term_start.year, contract.term_end.year + 1))


def expected_linked_fen(contract: Contract, year: int) -> int:
    """The year's performance-linked share, as the annual evaluation splits it (the same function)."""
    base = evaluations.year_amount_fen(contract.amount_fen, contract.term_start, contract.term_end, year)
    share = Decimal(contract.performance_share_bp).scaleb(-4)
    return performance_payment(base, share, EXCELLENT, DEFAULT_PAYOUT).linked_fen


def fixed_fen(contract: Contract) -> int:
    """The contract amount less each year's linked share: the most advances and progress payments may add up to."""
    return fixed_part_fen(contract.amount_fen, (expected_linked_fen(contract, year) for year in term_years(contract)))


def installments_of(contract_id: int) -> list[Installment]:
    return list(db.session.execute(
        select(Installment).where(Installment.contract_id == contract_id)
        .order_by(Installment.sequence, Installment.id)).scalars())


def approved_evaluation(contract_id: int, year: int) -> AnnualEvaluation | None:
    """The newest approved revision of the contract's year (a later draft correction is not final)."""
    return db.session.execute(
        select(AnnualEvaluation).where(AnnualEvaluation.contract_id == contract_id, AnnualEvaluation.year == year,
                                       AnnualEvaluation.status == "approved")
        .order_by(AnnualEvaluation.revision.desc()).limit(1)).scalar()


def evaluation_payment(evaluation: AnnualEvaluation | None) -> EvaluationPayment | None:
    """The evaluation's stored payment figures, as the schedule reads them."""
    if evaluation is None:
        return None
    payment = evaluation.figures.payment
    return EvaluationPayment(linked_fen=payment.linked_fen, payable_fen=payment.payable_fen,
                             withheld_fen=payment.withheld_fen, already_paid_fen=payment.already_paid_fen,
                             remaining_fen=payment.remaining_fen, to_recover_fen=payment.to_recover_fen)


def acceptance_conclusion(contract_id: int, year: int | None) -> str | None:
    """The year's concluded acceptance conclusion, None while there is none."""
    if year is None:
        return None
    return db.session.execute(
        select(ContractAcceptance.conclusion).where(ContractAcceptance.contract_id == contract_id,
                                                    ContractAcceptance.year == year,
                                                    ContractAcceptance.status == AcceptanceStatus.CONCLUDED)
    ).scalar()


def state_of(installment: Installment, today: date) -> InstallmentState:
    """What the installment stands at today."""
    contract = installment.contract
    performance = installment.kind == InstallmentKind.PERFORMANCE
    return installment_state(
        kind=installment.kind, condition=installment.condition,
        planned=planned_fen(installment.amount_fen, installment.share_bp, contract.amount_fen),
        due_on=installment.due_on, today=today, paid_fen=installment.paid_fen, held_reason=installment.held_reason,
        acceptance=acceptance_conclusion(contract.id, installment.year),
        evaluation=evaluation_payment(approved_evaluation(contract.id, installment.year)) if performance else None,
        expected_linked_fen=expected_linked_fen(contract, installment.year) if performance else None,
    )


@dataclass(frozen=True)
class ScheduleRow:
    installment: Installment
    state: InstallmentState


@dataclass(frozen=True)
class Schedule:
    contract: Contract
    rows: list[ScheduleRow]
    fixed_fen: int

    def total(self, status: str | None = None) -> int:
        """What the rows (of one status) are due, in fen."""
        return sum(row.state.due_fen or 0 for row in self.rows if status is None or row.state.status == status)

    @property
    def withheld_fen(self) -> int:
        return sum(row.state.withheld_fen for row in self.rows)


def schedule(contract: Contract, today: date) -> Schedule:
    """The contract's installments with their states today."""
    return Schedule(contract, [ScheduleRow(item, state_of(item, today)) for item in installments_of(contract.id)],
                    fixed_fen(contract))


def add_installment(contract: Contract, *, title: str, kind: str, condition: str, amount_fen: int | None,
                    share_bp: int | None, year: int | None, due_on: date | None, user: User | None) -> Installment:
    """Plan one installment; refused (InstallmentError) when its terms are incomplete, the fixed
    installments would exceed the contract's fixed part, or the year has a performance installment."""
    title = (title or "").strip()
    if not title:
        raise InstallmentError("名称：请填写分期名称，如“首期预付款”")
    if len(title) > 100:
        raise InstallmentError("名称：最多100个字")
    terms = check_terms(InstallmentTerms(kind, condition, amount_fen, share_bp, year, due_on), term_years(contract))
    existing = installments_of(contract.id)
    if kind == InstallmentKind.PERFORMANCE:
        if any(item.kind == InstallmentKind.PERFORMANCE and item.year == year for item in existing):
            raise InstallmentError(f"所属年度：{year}年已有履约绩效款分期")
    else:
        planned = [planned_fen(item.amount_fen, item.share_bp, contract.amount_fen) for item in existing
                   if item.kind != InstallmentKind.PERFORMANCE]
        check_fixed_total([*planned, planned_fen(amount_fen, share_bp, contract.amount_fen)], fixed_fen(contract))
    sequence = (db.session.execute(select(func.max(Installment.sequence))
                                   .where(Installment.contract_id == contract.id)).scalar() or 0) + 1
    installment = Installment(contract_id=contract.id, sequence=sequence, kind=terms.kind, title=title,
                              amount_fen=terms.amount_fen, share_bp=terms.share_bp, condition=terms.condition,
                              year=terms.year, due_on=terms.due_on, created_by_id=user.id if user else None)
    installment.contract = contract
    db.session.add(installment)
    db.session.flush()
    return installment


def _unpaid(installment: Installment, what: str) -> None:
    if installment.paid_on is not None:
        raise InstallmentError(f"该分期已于 {installment.paid_on.isoformat()} 支付，不能{what}")


def delete_installment(installment: Installment) -> None:
    """Take an unpaid installment off the schedule."""
    _unpaid(installment, "删除")
    db.session.delete(installment)
    db.session.flush()


def hold_installment(installment: Installment, reason: str, user: User) -> None:
    """暂扣: the installment is not paid, whatever its condition, until released."""
    _unpaid(installment, "暂扣")
    reason = (reason or "").strip()
    if not reason:
        raise InstallmentError("暂扣原因：请写明暂扣原因")
    installment.held_reason, installment.held_at, installment.held_by_id = reason[:2000], utcnow(), user.id
    db.session.flush()


def release_installment(installment: Installment) -> None:
    """Lift a hold; the installment's condition decides again."""
    _unpaid(installment, "解除暂扣")
    if not installment.held_reason:
        raise InstallmentError("该分期未被暂扣")
    installment.held_reason = installment.held_at = installment.held_by_id = None
    db.session.flush()


def pay_installment(installment: Installment, paid_on: date, user: User, today: date) -> Installment:
    """Record the payment of a payable installment, at the amount it is due (to the fen)."""
    _unpaid(installment, "重复支付")
    state = state_of(installment, today)
    if state.status != InstallmentStatus.PAYABLE:
        raise InstallmentError(f"该分期{state.status_label}（{state.reason}），不能支付")
    if paid_on > today:
        raise InstallmentError("支付日期：不能晚于今天")
    kind = PaymentKind.PERFORMANCE if installment.kind == InstallmentKind.PERFORMANCE else PaymentKind.FIXED
    payment = evaluations.record_payment(installment.contract, paid_on, state.due_fen, kind,
                                         installment.year if kind == PaymentKind.PERFORMANCE else None,
                                         f"付款分期 {installment.sequence}：{installment.title}"[:200])
    installment.paid_on, installment.paid_fen, installment.paid_by_id = paid_on, state.due_fen, user.id
    installment.payment_id = payment.id
    db.session.flush()
    return installment


def finance_rows(contract_ids, today: date) -> list[ScheduleRow]:
    """Every installment of the contracts (a select of ids, or None for all), by contract and sequence."""
    stmt = select(Installment).join(Contract).order_by(Contract.code, Installment.sequence, Installment.id)
    if contract_ids is not None:
        stmt = stmt.where(Installment.contract_id.in_(contract_ids))
    return [ScheduleRow(item, state_of(item, today)) for item in db.session.execute(stmt).scalars()]
