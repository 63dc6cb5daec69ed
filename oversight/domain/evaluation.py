"""Annual evaluation of a contractor and payment of the performance-linked share (SPEC section 6).

Rounding: the volume-weighted mean of the quarterly totals is computed exactly and rounded once
to 2 decimals ROUND_HALF_UP; annual items are added to it and the result is clamped to [0, 100].
Money is integer fen; each amount that is a product (the linked share, the payable part) is
rounded once to the fen ROUND_HALF_UP, and its complement is a difference, so that
fixed + linked = contract amount and payable + withheld = linked hold to the fen.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from oversight.domain.scoring import (
    DEFAULT_BANDS,
    EXCELLENT,
    FAILING,
    GOOD,
    HUNDRED,
    PASSING,
    ZERO,
    Band,
    ManualItem,
    ScoringError,
    apportion,
    clamp_total,
    manual_total,
    non_negative_int,
    rating_for,
    round_half_up,
    to_decimal,
)

DEFAULT_PAYOUT: Mapping[str, Decimal] = MappingProxyType(
    {EXCELLENT: Decimal("1.00"), GOOD: Decimal("0.90"), PASSING: Decimal("0.75"), FAILING: Decimal("0")}
)


class EvaluationError(ScoringError):
    """An annual evaluation or payment input is invalid; `str(error)` is the reason in Chinese."""


@dataclass(frozen=True)
class AnnualResult:
    """The year's score: the weighted mean of the quarters, the annual items, the rating."""

    quarter_totals: tuple[Decimal, ...]
    volumes: tuple[int, ...]
    weights: tuple[Decimal, ...]
    volume_weighted: bool
    mean: Decimal
    items: tuple[ManualItem, ...]
    items_total: Decimal
    raw_score: Decimal
    score: Decimal
    rating: str


def annual_evaluation(
    quarters: Sequence[tuple[Decimal, int]],
    annual_items: Iterable[ManualItem] = (),
    bands: Sequence[Band] = DEFAULT_BANDS,
) -> AnnualResult:
    """Mean of the quarterly totals weighted by completed volume (plain mean when all volumes are 0).

    `weights` are each quarter's share of the mean, to 4 decimals adding up to 1, for display.
    """
    if not 1 <= len(quarters) <= 4:
        raise EvaluationError(f"年度评价需要1到4个季度的得分，实际为{len(quarters)}个")
    totals, volumes = [], []
    for total, volume in quarters:
        total = to_decimal(total, "quarter total")
        if not ZERO <= total <= HUNDRED:
            raise EvaluationError(f"季度得分应在0到100之间，实际为{total}")
        totals.append(total)
        volumes.append(non_negative_int(volume, "季度完成量", EvaluationError))
    volume_weighted = sum(volumes) > 0
    # With no completed work in any quarter there is nothing to weight by: each quarter counts once.
    counts = volumes if volume_weighted else [1] * len(volumes)
    shares = [Fraction(count, sum(counts)) for count in counts]
    mean = round_half_up(sum(Fraction(total) * share for total, share in zip(totals, shares)))
    items = tuple(annual_items)
    raw_score = mean + manual_total(items)
    score = clamp_total(raw_score)
    return AnnualResult(
        quarter_totals=tuple(totals),
        volumes=tuple(volumes),
        weights=apportion(shares, 4),
        volume_weighted=volume_weighted,
        mean=mean,
        items=items,
        items_total=manual_total(items),
        raw_score=raw_score,
        score=score,
        rating=rating_for(score, bands),
    )


@dataclass(frozen=True)
class Payment:
    """How a contract amount splits into fixed and performance-linked parts, and what is payable."""

    contract_amount_fen: int
    performance_share: Decimal
    rating: str
    payout_rate: Decimal
    fixed_fen: int
    linked_fen: int
    payable_fen: int
    withheld_fen: int
    already_paid_fen: int
    remaining_fen: int
    to_recover_fen: int


def _fen_times(amount_fen: int, rate: Decimal) -> int:
    return int(round_half_up(Fraction(amount_fen) * Fraction(rate), 0))


def _check_rate(rate: Decimal | int | str, what: str) -> Decimal:
    rate = to_decimal(rate, what)
    if not ZERO <= rate <= 1:
        raise EvaluationError(f"{what}应在0到1之间，实际为{rate}")
    return rate


def performance_payment(
    contract_amount_fen: int,
    performance_share: Decimal,
    rating: str,
    payout_rates: Mapping[str, Decimal] = DEFAULT_PAYOUT,
    already_paid_fen: int = 0,
) -> Payment:
    """Split the contract amount and pay the linked share at the rating's payout rate.

    `already_paid_fen` is what was already paid out of the linked share (an advance): the rest
    of the payable part is `remaining_fen`, or, when more was paid, `to_recover_fen`.
    """
    amount = non_negative_int(contract_amount_fen, "合同金额（分）", EvaluationError)
    paid = non_negative_int(already_paid_fen, "已支付金额（分）", EvaluationError)
    share = _check_rate(performance_share, "绩效挂钩比例")
    if rating not in payout_rates:
        raise EvaluationError(f"没有评级“{rating}”对应的支付比例")
    payout_rate = _check_rate(payout_rates[rating], f"评级“{rating}”的支付比例")
    linked = _fen_times(amount, share)
    payable = _fen_times(linked, payout_rate)
    if paid > linked:
        raise EvaluationError("已支付金额超过绩效挂钩部分")
    return Payment(
        contract_amount_fen=amount,
        performance_share=share,
        rating=rating,
        payout_rate=payout_rate,
        fixed_fen=amount - linked,
        linked_fen=linked,
        payable_fen=payable,
        withheld_fen=linked - payable,
        already_paid_fen=paid,
        remaining_fen=max(0, payable - paid),
        to_recover_fen=max(0, paid - payable),
    )
