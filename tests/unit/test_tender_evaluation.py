"""综合评分法 worked by hand: price by the lowest-price formula, items averaged over the members,
exact totals, ranking and ties."""
from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from oversight.domain.tender_evaluation import (
    TIE_BY_DECISION,
    TIE_BY_PRICE,
    TIE_BY_TECHNICAL,
    TIE_UNRESOLVED,
    Bid,
    EvaluationRefused,
    ScoringItem,
    evaluate,
    price_score,
    shown,
)

ITEMS = [ScoringItem("plan", "技术方案", D(40)), ScoringItem("team", "服务团队", D(20)),
         ScoringItem("record", "业绩与信誉", D(10), technical=False)]
MEMBERS = ["专家A", "专家B", "专家C"]
BIDS = [
    Bid("jia", "甲", 96_000_000),  # 960,000.00 元
    Bid("yi", "乙", 90_000_000),  # 900,000.00 元: the lowest valid bid, the benchmark
    Bid("bing", "丙", 100_000_000),  # 1,000,000.00 元
    Bid("ding", "丁", 80_000_000, valid=False),  # lower still, but invalid: not the benchmark
]
# (bid) → item → the three members' points
SHEET = {
    "jia": {"plan": ("36", "35", "37"), "team": ("18", "17", "18"), "record": ("9", "8", "8")},
    "yi": {"plan": ("32", "33", "31"), "team": ("16", "16", "17"), "record": ("8", "7", "7")},
    "bing": {"plan": ("38.5", "38", "37.5"), "team": ("19", "19", "18.5"), "record": ("10", "9.5", "9")},
}


def _scores(sheet=SHEET, members=MEMBERS):
    return {(member, bid, item): D(points[i])
            for bid, items in sheet.items() for item, points in items.items() for i, member in enumerate(members)}


def test_the_worked_example_gives_the_hand_computed_exact_totals_and_ranking():
    result = evaluate(price_points=D(30), items=ITEMS, bids=BIDS, members=MEMBERS, scores=_scores())

    assert result.benchmark_fen == 90_000_000
    # 价格分: 乙 (90/90)×30 = 30; 甲 (90/96)×30 = 28.125; 丙 (90/100)×30 = 27
    assert result.result_of("yi").price_score == 30
    assert result.result_of("jia").price_score == F("28.125")
    assert result.result_of("bing").price_score == 27
    # 甲: 技术方案 (36+35+37)/3 = 36, 服务团队 53/3, 业绩 25/3 → technical 36 + 53/3 = 161/3, business 25/3,
    # total 28.125 + 36 + 78/3 = 90.125 exactly, shown 90.13 (half up)
    jia = result.result_of("jia")
    assert jia.item_scores == {"plan": 36, "team": F(53, 3), "record": F(25, 3)}
    assert (jia.technical_score, jia.business_score) == (F(161, 3), F(25, 3))
    assert jia.total == F("90.125") and shown(jia.total) == D("90.13")
    # 乙: 32 + 49/3 + 22/3 = 167/3; total 30 + 167/3 = 257/3 = 85.666… → 85.67
    yi = result.result_of("yi")
    assert yi.total == F(257, 3) and shown(yi.total) == D("85.67")
    # 丙: 114/3 = 38, 56.5/3, 28.5/3 = 9.5 → 38 + 85/3 = 199/3; total 27 + 199/3 = 280/3 = 93.333… → 93.33
    bing = result.result_of("bing")
    assert bing.item_scores == {"plan": 38, "team": F(113, 6), "record": F(19, 2)}
    assert bing.total == F(280, 3) and shown(bing.total) == D("93.33")
    assert shown(bing.item_scores["team"]) == D("18.83")

    assert [(r.bid.key, r.rank, r.tie_rule) for r in result.results] == [
        ("bing", 1, None), ("jia", 2, None), ("yi", 3, None)]
    assert result.winner == "bing"
    assert [bid.key for bid in result.invalid] == ["ding"]


def test_shown_rounds_half_up_from_the_exact_value():
    assert shown(F("0.005")) == D("0.01")
    assert shown(F("2.675")) == D("2.68")  # binary floats round this one down
    assert shown(F(2, 3)) == D("0.67")
    assert shown(F(1, 3)) == D("0.33")
    assert price_score(1, 3, D(30)) == 10


def _two(bids, sheet, items, decision=()):
    members = ["专家A"]
    scores = {("专家A", bid, item): D(points) for bid, row in sheet.items() for item, points in row.items()}
    return evaluate(price_points=D(30), items=items, bids=bids, members=members, scores=scores,
                    decision_order=decision)


ONE_ITEM = [ScoringItem("plan", "技术方案", D(70))]
SPLIT = [ScoringItem("tech", "技术", D(40)), ScoringItem("biz", "商务", D(30), technical=False)]


def test_an_equal_total_goes_to_the_lower_price():
    # X: 30 + 60 = 90; Y: (100/120)×30 = 25 + 65 = 90
    result = _two([Bid("y", "Y", 120), Bid("x", "X", 100)], {"x": {"plan": "60"}, "y": {"plan": "65"}}, ONE_ITEM)
    assert [r.total for r in result.results] == [90, 90]
    assert [(r.bid.key, r.rank, r.tie_rule) for r in result.results] == [("x", 1, TIE_BY_PRICE), ("y", 2, TIE_BY_PRICE)]
    assert result.winner == "x"


def test_equal_total_and_price_go_to_the_higher_technical_score():
    sheet = {"x": {"tech": "30", "biz": "30"}, "y": {"tech": "35", "biz": "25"}}
    result = _two([Bid("x", "X", 100), Bid("y", "Y", 100)], sheet, SPLIT)
    assert [(r.bid.key, r.rank, r.tie_rule) for r in result.results] == [
        ("y", 1, TIE_BY_TECHNICAL), ("x", 2, TIE_BY_TECHNICAL)]


def test_a_tie_on_everything_waits_for_the_committees_draw_and_then_follows_it():
    sheet = {"x": {"plan": "60"}, "y": {"plan": "60"}}
    bids = [Bid("x", "X", 100), Bid("y", "Y", 100)]
    open_tie = _two(bids, sheet, ONE_ITEM)
    assert open_tie.winner is None and set(open_tie.unresolved_tie) == {"x", "y"}
    assert [(r.rank, r.tie_rule) for r in open_tie.results] == [(1, TIE_UNRESOLVED), (1, TIE_UNRESOLVED)]
    drawn = _two(bids, sheet, ONE_ITEM, decision=["y", "x"])
    assert drawn.winner == "y"
    assert [(r.bid.key, r.rank, r.tie_rule) for r in drawn.results] == [("y", 1, TIE_BY_DECISION), ("x", 2, TIE_BY_DECISION)]


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop(("专家B", "jia", "team")), "评分未完成：专家B—甲—服务团队"),
    (lambda s: s.update({("专家A", "yi", "record"): D("10.5")}), "应在 0 至 10 分之间"),
    (lambda s: s.update({("专家A", "yi", "record"): D("7.125")}), "最多保留两位小数"),
])
def test_incomplete_or_out_of_range_scores_are_refused_naming_them(change, message):
    scores = _scores()
    change(scores)
    with pytest.raises(EvaluationRefused, match=message):
        evaluate(price_points=D(30), items=ITEMS, bids=BIDS, members=MEMBERS, scores=scores)


def test_points_must_make_one_hundred_and_a_valid_bid_must_exist():
    with pytest.raises(EvaluationRefused, match="合计为 90 分，应为 100 分"):
        evaluate(price_points=D(20), items=ITEMS, bids=BIDS, members=MEMBERS, scores=_scores())
    with pytest.raises(EvaluationRefused, match="没有有效投标"):
        evaluate(price_points=D(30), items=ITEMS, bids=[Bid("d", "丁", 1, valid=False)], members=MEMBERS, scores={})


def test_a_single_source_bid_scores_full_price_points():
    result = _two([Bid("x", "X", 123_456)], {"x": {"plan": "61.5"}}, ONE_ITEM)
    assert result.result_of("x").total == F("91.5") and result.winner == "x"
