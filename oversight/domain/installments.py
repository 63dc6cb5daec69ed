"""A contract's payment schedule (付款计划): installments, their amounts to the fen and their status.

Pure: the services pass in the contract's amounts, what the year's acceptance concluded and the
annual evaluation's payment figures (`domain/figures.PaymentFigures`, computed once by
`domain/evaluation.performance_payment`); nothing here recomputes what the evaluation decided.

- An advance (预付款) or progress payment (进度款) is a fixed amount in fen or a share of the
  contract amount in basis points, rounded once to the fen ROUND_HALF_UP; together they may not
  exceed the contract's fixed part (the amount less each year's performance-linked share).
- The performance installment (履约绩效款) of a year pays what the approved evaluation left to pay
  (`remaining_fen`) and withholds what it withheld (`withheld_fen`), to the fen.
- Status: 已支付 once paid; 暂扣 while held by hand, when the year's acceptance concluded 不合格,
  or when the evaluation leaves nothing payable; 可支付 once the condition is met; else 未到期.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from .scoring import round_half_up
from .vocabulary import (
    AcceptanceConclusion,
    InstallmentCondition,
    InstallmentKind,
    InstallmentStatus,
    label_of,
)

FULL_SHARE_BP = 10_000
# Conclusions after which an installment conditional on the acceptance may be paid.
PASSING_CONCLUSIONS = frozenset({AcceptanceConclusion.QUALIFIED, AcceptanceConclusion.BASICALLY_QUALIFIED})


class InstallmentError(ValueError):
    """An installment or a step on it is refused; `str(error)` is the reason in Chinese."""


def share_fen(amount_fen: int, share_bp: int) -> int:
    """`share_bp` basis points of `amount_fen`, rounded once to the fen (half up)."""
    return int(round_half_up(Fraction(amount_fen * share_bp, FULL_SHARE_BP), 0))


def fixed_part_fen(amount_fen: int, linked_by_year: Iterable[int]) -> int:
    """The contract amount less every year's performance-linked share: what advances and progress
    payments may add up to."""
    return amount_fen - sum(linked_by_year)


@dataclass(frozen=True)
class InstallmentTerms:
    """What an installment was agreed as (the form's fields, checked)."""

    kind: str
    condition: str
    amount_fen: int | None
    share_bp: int | None
    year: int | None
    due_on: date | None


def check_terms(terms: InstallmentTerms, term_years: Iterable[int]) -> InstallmentTerms:
    """The terms as stored, or InstallmentError naming the field and why."""
    years = set(term_years)
    if terms.kind not in InstallmentKind.codes():
        raise InstallmentError("类型：请选择预付款、进度款或履约绩效款")
    if terms.condition not in InstallmentCondition.codes():
        raise InstallmentError("支付条件：请选择支付条件")
    if terms.kind == InstallmentKind.PERFORMANCE:
        if terms.condition != InstallmentCondition.EVALUATION:
            raise InstallmentError("支付条件：履约绩效款以年度绩效评价审定为支付条件")
        if terms.amount_fen is not None or terms.share_bp is not None:
            raise InstallmentError("金额：履约绩效款的应付与暂扣金额由年度绩效评价确定，不另行填写")
    else:
        if terms.condition == InstallmentCondition.EVALUATION:
            raise InstallmentError("支付条件：只有履约绩效款以年度绩效评价为条件")
        if (terms.amount_fen is None) == (terms.share_bp is None):
            raise InstallmentError("金额：请填写金额或比例中的一项")
        if terms.amount_fen is not None and terms.amount_fen <= 0:
            raise InstallmentError("金额：应大于0")
        if terms.share_bp is not None and not 0 < terms.share_bp <= FULL_SHARE_BP:
            raise InstallmentError("比例：应大于0%且不超过100%")
    if terms.condition == InstallmentCondition.DATE and terms.due_on is None:
        raise InstallmentError("约定日期：以日期为条件的分期须填写约定日期")
    if terms.condition in (InstallmentCondition.ACCEPTANCE, InstallmentCondition.EVALUATION):
        if terms.year is None:
            raise InstallmentError("所属年度：以验收或年度评价为条件的分期须注明年度")
        if terms.year not in years:
            raise InstallmentError(f"所属年度：{terms.year}年不在合同服务期内")
    return terms


def planned_fen(amount_fen: int | None, share_bp: int | None, contract_amount_fen: int) -> int | None:
    """A fixed installment's amount in fen (None for the performance installment)."""
    if amount_fen is not None:
        return amount_fen
    if share_bp is not None:
        return share_fen(contract_amount_fen, share_bp)
    return None


def check_fixed_total(planned: Iterable[int], fixed_fen: int) -> None:
    """Advances and progress payments may not add up to more than the contract's fixed part."""
    total = sum(planned)
    if total > fixed_fen:
        raise InstallmentError(
            f"金额：预付款与进度款合计 {total / 100:,.2f} 元，超过合同固定部分 {fixed_fen / 100:,.2f} 元"
            "（合同金额扣除各年度履约绩效挂钩部分）")


@dataclass(frozen=True)
class InstallmentState:
    """An installment as it stands today: its status, what is due and withheld, and why."""

    status: str
    due_fen: int | None  # None: not yet known (the performance share before the evaluation is approved)
    withheld_fen: int
    reason: str

    @property
    def status_label(self) -> str:
        return label_of(InstallmentStatus, self.status)


@dataclass(frozen=True)
class EvaluationPayment:
    """What the approved annual evaluation decided for the year's linked share (from its figures)."""

    linked_fen: int
    payable_fen: int
    withheld_fen: int
    already_paid_fen: int
    remaining_fen: int
    to_recover_fen: int


def installment_state(*, kind: str, condition: str, planned: int | None, due_on: date | None, today: date,
             paid_fen: int | None, held_reason: str | None, acceptance: str | None,
             evaluation: EvaluationPayment | None, expected_linked_fen: int | None = None) -> InstallmentState:
    """The installment's status today.

    `acceptance` is the year's concluded acceptance conclusion (None while none is concluded);
    `evaluation` the approved evaluation's payment (None while not approved); `expected_linked_fen`
    the linked share the evaluation would pay in full, shown before it is decided."""
    if kind == InstallmentKind.PERFORMANCE:
        withheld = evaluation.withheld_fen if evaluation is not None else 0
        due = evaluation.remaining_fen if evaluation is not None else None
    else:
        withheld, due = 0, planned
    if paid_fen is not None:
        return InstallmentState(InstallmentStatus.PAID, paid_fen, withheld, "已登记付款")
    if held_reason:
        return InstallmentState(InstallmentStatus.WITHHELD, due, withheld + (due or 0), f"暂扣：{held_reason}")
    if condition == InstallmentCondition.DATE:
        if due_on is not None and today >= due_on:
            return InstallmentState(InstallmentStatus.PAYABLE, due, withheld, f"约定日期 {due_on.isoformat()} 已到")
        return InstallmentState(InstallmentStatus.PENDING, due, withheld, f"约定日期 {due_on.isoformat() if due_on else '—'} 未到")
    if condition == InstallmentCondition.ACCEPTANCE:
        if acceptance is None:
            return InstallmentState(InstallmentStatus.PENDING, due, withheld, "年度履约验收尚未出具结论")
        if acceptance in PASSING_CONCLUSIONS:
            return InstallmentState(InstallmentStatus.PAYABLE, due, withheld,
                            f"履约验收结论：{label_of(AcceptanceConclusion, acceptance)}")
        return InstallmentState(InstallmentStatus.WITHHELD, due, withheld + (due or 0),
                        f"履约验收结论：{label_of(AcceptanceConclusion, acceptance)}，暂扣")
    # the annual evaluation
    if evaluation is None:
        return InstallmentState(InstallmentStatus.PENDING, None, 0,
                        "年度绩效评价尚未审定" + (f"（挂钩部分 {expected_linked_fen / 100:,.2f} 元）"
                                                  if expected_linked_fen is not None else ""))
    if evaluation.remaining_fen == 0:
        if evaluation.payable_fen == 0:
            return InstallmentState(InstallmentStatus.WITHHELD, 0, withheld, "年度绩效评价审定：挂钩部分全部扣减")
        return InstallmentState(InstallmentStatus.PAID, 0, withheld, "应付部分已在评价前支付")
    return InstallmentState(InstallmentStatus.PAYABLE, evaluation.remaining_fen, withheld, "年度绩效评价已审定")
