"""综合评分法: the evaluation of a tender's bids (政府采购货物和服务招标投标管理办法, art. 55).

Pure: plain values in, an `Evaluation` out; no Flask, no database.

- Price score by the lowest-price method: 投标报价得分 = (评标基准价 / 投标报价) × 价格分值, the
  benchmark (评标基准价) being the lowest price among the valid bids.
- Each technical or business item (技术、商务评分项) has its maximum points; every committee
  member scores every item of every valid bid, and the bid's item score is the members' average.
  The technical score is the sum of the technical items, the business score that of the others.
- Total = price score + the item scores. Price points and the items' maximum points make 100.
- Ranking, highest total first. Ties: the higher price score (the lower price) first, then the
  higher technical score (the technical items' sum), then the committee's recorded decision (抽签 or vote:
  an order of the still-tied bids). A tie at the top that no decision settles leaves no winner.

Rounding rule: every score is kept **exact** (a `Fraction`: 30 × 1/3 stays one third, no
rounding ever enters a total or a comparison); only what is shown is rounded, to two decimals,
half up (`shown`). A shown total can therefore differ by 0.01 from the sum of its shown parts.
Inputs are Decimal points with at most two decimals and prices in integer fen.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

TOTAL_POINTS = Decimal(100)
# Valid bids a method needs before it may be evaluated: fewer and the procurement is ended (废标,
# 政府采购法 art. 36); 竞争性磋商 of a service purchased by the government may go on with two
# (财库〔2015〕124号); 单一来源 has its one supplier.
MIN_VALID_BIDS = {"公开招标": 3, "竞争性磋商": 2, "竞争性谈判": 3, "询价": 3, "单一来源": 1}
CENT = Decimal("0.01")


class EvaluationRefused(ValueError):
    """The scores cannot be evaluated as they stand; the message is Chinese, for the user."""


@dataclass(frozen=True)
class ScoringItem:
    """A technical or business item: its key, its name on the page, its maximum points and
    whether it is a technical item (else a business one)."""

    key: str
    name: str
    max_points: Decimal
    technical: bool = True


@dataclass(frozen=True)
class Bid:
    """One bidder's bid: its key, name, price in fen, and whether it passed the qualification
    and compliance review (an invalid bid is neither the benchmark nor ranked)."""

    key: str
    name: str
    price_fen: int
    valid: bool = True


@dataclass(frozen=True)
class BidResult:
    bid: Bid
    price_score: Fraction
    item_scores: Mapping[str, Fraction]
    technical_score: Fraction
    business_score: Fraction
    total: Fraction
    rank: int
    # How this bid's place among bids of equal total was decided (None: no tie).
    tie_rule: str | None = None


@dataclass(frozen=True)
class Evaluation:
    benchmark_fen: int
    price_points: Decimal
    items: tuple[ScoringItem, ...]
    results: tuple[BidResult, ...]  # ranked
    invalid: tuple[Bid, ...]
    winner: str | None  # the recommended bid's key
    # Keys of bids still tied for first place: they need the committee's decision (抽签).
    unresolved_tie: tuple[str, ...] = field(default=())

    def result_of(self, key: str) -> BidResult:
        return next(result for result in self.results if result.bid.key == key)


TIE_BY_PRICE = "得分相同，投标报价低者优先"
TIE_BY_TECHNICAL = "得分和报价相同，技术商务得分高者优先"
TIE_BY_DECISION = "得分、报价和技术商务得分均相同，按评标委员会记录的抽签结果"
TIE_UNRESOLVED = "得分、报价和技术商务得分均相同，待评标委员会抽签决定"


def shown(value: Fraction | Decimal | int) -> Decimal:
    """A score as it is shown and printed: two decimals, half up, from the exact value."""
    exact = Fraction(value)
    hundredths = exact * 100
    sign = -1 if hundredths < 0 else 1
    rounded = (abs(hundredths) + Fraction(1, 2)).__floor__() * sign
    return (Decimal(rounded) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def price_score(benchmark_fen: int, price_fen: int, price_points: Decimal) -> Fraction:
    """投标报价得分 = (评标基准价 / 投标报价) × 价格分值, exact."""
    return Fraction(benchmark_fen, price_fen) * Fraction(price_points)


def check_method(price_points: Decimal, items: Sequence[ScoringItem]) -> None:
    """The price points and the items' maximum points make 100; each item has positive points."""
    if price_points < 0 or price_points > TOTAL_POINTS:
        raise EvaluationRefused(f"价格分值 {price_points} 应在 0 至 100 之间")
    for item in items:
        if item.max_points <= 0:
            raise EvaluationRefused(f"评分项“{item.name}”的分值应大于 0")
    total = price_points + sum((item.max_points for item in items), Decimal(0))
    if total != TOTAL_POINTS:
        raise EvaluationRefused(f"价格分值与各评分项分值合计为 {total} 分，应为 100 分")


def evaluate(*, price_points: Decimal, items: Sequence[ScoringItem], bids: Sequence[Bid],
             members: Sequence[str], scores: Mapping[tuple[str, str, str], Decimal],
             decision_order: Sequence[str] = ()) -> Evaluation:
    """Evaluate the bids: `scores[(member, bid key, item key)]` is one member's points for one
    item of one bid; `decision_order` is the committee's recorded order of bids tied on
    everything (first wins). EvaluationRefused (Chinese) names what is missing or wrong."""
    check_method(price_points, items)
    valid = [bid for bid in bids if bid.valid]
    if not valid:
        raise EvaluationRefused("没有有效投标，无法评审")
    if len({bid.key for bid in bids}) != len(bids):
        raise EvaluationRefused("同一投标人不能有两份投标")
    for bid in bids:
        if bid.price_fen <= 0:
            raise EvaluationRefused(f"{bid.name} 的投标报价应大于 0")
    if items and not members:
        raise EvaluationRefused("尚未登记评标委员会成员")
    missing = []
    for bid in valid:
        for item in items:
            for member in members:
                points = scores.get((member, bid.key, item.key))
                if points is None:
                    missing.append(f"{member}—{bid.name}—{item.name}")
                elif points < 0 or points > item.max_points:
                    raise EvaluationRefused(
                        f"{member} 给 {bid.name} 的“{item.name}”打 {points} 分，应在 0 至 {item.max_points} 分之间")
                elif points != points.quantize(CENT):
                    raise EvaluationRefused(f"{member} 给 {bid.name} 的“{item.name}”打分最多保留两位小数")
    if missing:
        more = f"等 {len(missing)} 项" if len(missing) > 5 else ""
        raise EvaluationRefused("评分未完成：" + "；".join(missing[:5]) + more)

    benchmark = min(bid.price_fen for bid in valid)
    unranked = []
    for bid in valid:
        item_scores = {item.key: sum((Fraction(scores[(member, bid.key, item.key)]) for member in members),
                                     Fraction(0)) / len(members)
                       for item in items}
        technical = sum((item_scores[item.key] for item in items if item.technical), Fraction(0))
        business = sum((item_scores[item.key] for item in items if not item.technical), Fraction(0))
        price = price_score(benchmark, bid.price_fen, price_points)
        unranked.append((bid, price, item_scores, technical, price + technical + business, business))

    decided = {key: position for position, key in enumerate(decision_order)}

    def order(entry):
        bid, price, _, technical, total, _ = entry
        return (-total, -price, -technical, decided.get(bid.key, len(decided)))

    ranked = sorted(unranked, key=order)
    results: list[BidResult] = []
    unresolved: tuple[str, ...] = ()
    for position, entry in enumerate(ranked):
        bid, price, item_scores, technical, total, business = entry
        equal_total = [other for other in ranked if other[4] == total]
        rule = None
        rank = position + 1
        if len(equal_total) > 1:
            same_price = [other for other in equal_total if other[1] == price]
            same_all = [other for other in same_price if other[3] == technical]
            if len(same_price) == 1:
                rule = TIE_BY_PRICE
            elif len(same_all) == 1:
                rule = TIE_BY_TECHNICAL
            elif all(other[0].key in decided for other in same_all):
                rule = TIE_BY_DECISION
            else:
                rule = TIE_UNRESOLVED
                rank = ranked.index(same_all[0]) + 1
                if rank == 1:
                    unresolved = tuple(other[0].key for other in same_all)
        results.append(BidResult(bid, price, item_scores, technical, business, total, rank, rule))
    return Evaluation(benchmark_fen=benchmark, price_points=price_points, items=tuple(items),
                      results=tuple(results), invalid=tuple(bid for bid in bids if not bid.valid),
                      winner=None if unresolved else results[0].bid.key, unresolved_tie=unresolved)


def summary(evaluation: Evaluation) -> dict:
    """The evaluation as JSON-ready values: each shown score, and the exact ones as "p/q"."""
    return {
        "benchmark_fen": evaluation.benchmark_fen,
        "price_points": str(evaluation.price_points),
        "winner": evaluation.winner,
        "unresolved_tie": list(evaluation.unresolved_tie),
        "invalid": [bid.key for bid in evaluation.invalid],
        "results": [{
            "bid": result.bid.key, "rank": result.rank, "price_fen": result.bid.price_fen,
            "price_score": str(shown(result.price_score)), "technical_score": str(shown(result.technical_score)),
            "business_score": str(shown(result.business_score)),
            "total": str(shown(result.total)), "total_exact": str(result.total),
            "items": {key: str(shown(value)) for key, value in result.item_scores.items()},
            "tie_rule": result.tie_rule,
        } for result in evaluation.results],
    }
