"""ISO 2859-1 single sampling, normal inspection, level II: tables 1 and 2-A and the arrows."""
from decimal import Decimal

import pytest

from oversight.domain.sampling.iso2859 import (
    AQL_VALUES,
    ARROW_DOWN,
    ARROW_UP,
    CODE_LETTERS,
    SAMPLE_SIZES,
    TABLE_2A,
    code_letter,
    iso2859_plan,
    table_2a_cell,
)

DOWN, UP = ARROW_DOWN, ARROW_UP
AC_RE_LADDER = [(0, 1), (1, 2), (2, 3), (3, 4), (5, 6), (7, 8), (10, 11), (14, 15), (21, 22),
                (30, 31), (44, 45)]


@pytest.mark.parametrize(("lot_size", "letter"), [
    (1, "A"), (2, "A"), (8, "A"), (9, "B"), (15, "B"), (16, "C"), (25, "C"), (26, "D"), (50, "D"),
    (51, "E"), (90, "E"), (91, "F"), (150, "F"), (151, "G"), (280, "G"), (281, "H"), (500, "H"),
    (501, "J"), (1200, "J"), (1201, "K"), (3200, "K"), (3201, "L"), (10_000, "L"),
    (10_001, "M"), (35_000, "M"), (35_001, "N"), (150_000, "N"), (150_001, "P"),
    (500_000, "P"), (500_001, "Q"), (10_000_000, "Q"),
])
def test_table_1_level_ii_gives_the_code_letter_at_every_range_boundary(lot_size, letter):
    assert code_letter(lot_size) == letter


def test_code_letters_have_the_published_sample_sizes():
    assert [SAMPLE_SIZES[letter] for letter in CODE_LETTERS] == [
        2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000]


@pytest.mark.parametrize(("letter", "aql", "cell"), [
    ("A", "6.5", (0, 1)), ("A", "10", UP), ("A", "15", DOWN), ("A", "25", (1, 2)),
    ("A", "4.0", DOWN), ("A", "1000", (30, 31)), ("B", "4.0", (0, 1)), ("B", "6.5", UP),
    ("B", "10", DOWN), ("B", "1000", (44, 45)), ("C", "6.5", DOWN), ("C", "10", (1, 2)),
    ("C", "650", (44, 45)), ("C", "1000", UP), ("D", "6.5", (1, 2)), ("D", "15", (3, 4)),
    ("E", "1.0", (0, 1)), ("E", "1.5", UP), ("E", "2.5", DOWN), ("E", "15", (5, 6)),
    ("E", "250", (44, 45)), ("E", "400", UP), ("F", "0.65", (0, 1)), ("F", "2.5", (1, 2)),
    ("F", "15", (7, 8)), ("F", "65", (21, 22)), ("F", "100", UP), ("G", "0.65", UP),
    ("G", "1.0", DOWN), ("G", "10", (7, 8)), ("H", "0.25", (0, 1)), ("H", "0.40", UP),
    ("H", "15", (14, 15)), ("J", "0.65", (1, 2)), ("J", "2.5", (5, 6)), ("J", "15", (21, 22)),
    ("K", "0.10", (0, 1)), ("K", "0.65", (2, 3)), ("K", "1.0", (3, 4)), ("K", "2.5", (7, 8)),
    ("K", "10", (21, 22)), ("K", "15", UP), ("L", "1.0", (5, 6)), ("L", "6.5", (21, 22)),
    ("L", "10", UP), ("M", "2.5", (14, 15)), ("M", "6.5", UP), ("N", "0.65", (7, 8)),
    ("N", "2.5", (21, 22)), ("P", "0.010", DOWN), ("P", "1.5", (21, 22)),
    ("Q", "0.010", (0, 1)), ("Q", "0.65", (14, 15)), ("Q", "1.5", UP), ("R", "0.010", UP),
    ("R", "0.025", (1, 2)), ("R", "0.65", (21, 22)), ("R", "1.0", UP),
])
def test_table_2a_cells_match_the_published_table(letter, aql, cell):
    assert table_2a_cell(letter, aql) == cell


def test_every_row_of_table_2a_has_one_cell_per_aql():
    assert len(AQL_VALUES) == 26
    assert set(TABLE_2A) == set(CODE_LETTERS)
    assert all(len(row) == len(AQL_VALUES) for row in TABLE_2A.values())


def test_table_2a_repeats_each_plan_along_its_diagonal():
    """One letter down and one AQL left is the same plan; a typo in any row breaks this."""
    by_diagonal: dict[int, set] = {}
    for row, letter in enumerate(CODE_LETTERS):
        for column, cell in enumerate(TABLE_2A[letter]):
            if not isinstance(cell, str):
                by_diagonal.setdefault(row + column, set()).add(cell)
    assert all(len(cells) == 1 for cells in by_diagonal.values())
    assert [by_diagonal[d].pop() for d in sorted(by_diagonal)] == AC_RE_LADDER
    assert min(by_diagonal) == 14


def test_each_row_reads_down_arrows_then_zero_one_up_down_then_the_ladder_then_up_arrows():
    for letter in CODE_LETTERS:
        row = list(TABLE_2A[letter])
        plans = [cell for cell in row if not isinstance(cell, str)]
        first, last = row.index(plans[0]), row.index(plans[-1])
        assert plans == AC_RE_LADDER[AC_RE_LADDER.index(plans[0]):][:len(plans)], letter
        between_zero_and_one = [UP, DOWN]
        if plans[0] == (0, 1):
            assert row[first + 1:first + 3] == between_zero_and_one, letter
        else:  # the row's 0/1 plan would lie left of the table's edge
            assert row[first - 2:first] == between_zero_and_one, letter
            first -= 2
        assert set(row[:first]) <= {DOWN}, letter
        assert set(row[last + 1:]) <= {UP}, letter
        assert all(re == ac + 1 for ac, re in plans), letter


def test_only_two_arrows_of_the_printed_table_point_off_its_edge():
    off_edge = []
    for row, letter in enumerate(CODE_LETTERS):
        for column, cell in enumerate(TABLE_2A[letter]):
            if isinstance(cell, str):
                step = 1 if cell == DOWN else -1
                rows = range(row + step, len(CODE_LETTERS)) if step == 1 else range(row - 1, -1, -1)
                if all(isinstance(TABLE_2A[CODE_LETTERS[r]][column], str) for r in rows):
                    off_edge.append((letter, str(AQL_VALUES[column])))
    assert off_edge == [("A", "10"), ("R", "0.015")]


# lot size, AQL, code letter, letter of the plan found, n, Ac, Re
PLANS_FOUND = """
    2400    2.5  K K  125  7  8
      60    2.5  E F   20  1  2
     200    1.0  G H   50  1  2
    1000   0.65  J J   80  1  2
    3000   0.15  K J   80  0  1
    3000   0.25  K L  200  1  2
    5000     65  L F   20 21 22
  100000     10  N K  125 21 22
  600000  0.010  Q Q 1250  0  1
  600000  0.015  Q P  800  0  1
  600000  0.025  Q R 2000  1  2
   20000   1000  M B    3 44 45
"""


@pytest.mark.parametrize("case", PLANS_FOUND.strip().splitlines())
def test_plan_follows_the_arrows_and_takes_the_sample_size_of_the_plan_found(case):
    lot_size, aql, letter, plan_letter, n, ac, re = case.split()
    plan = iso2859_plan(int(lot_size), aql)
    assert (plan.code_letter, plan.plan_letter, plan.n, plan.ac, plan.re) == (
        letter, plan_letter, int(n), int(ac), int(re))
    assert plan.kind == "iso2859"
    assert not plan.inspect_all
    assert plan.lot_size == int(lot_size)


def test_lot_60_at_aql_2_5_says_that_the_arrow_moved_the_plan():
    plan = iso2859_plan(60, "2.5")
    assert plan.notes == ("字码 E 在 AQL 2.5 处为向下箭头，改用字码 F 的方案",)
    assert "按箭头改用字码 F" in plan.summary()


def test_a_sample_size_reaching_the_lot_size_means_inspecting_the_whole_lot():
    plan = iso2859_plan(10, "0.65")
    assert (plan.code_letter, plan.plan_letter, plan.ac, plan.re) == ("B", "F", 0, 1)
    assert plan.inspect_all and plan.n == 10
    assert "全检" in plan.notes[-1] and plan.summary().endswith("（全检）")


def test_exact_sample_size_equal_to_the_lot_is_also_inspect_all():
    plan = iso2859_plan(20, "0.65")
    assert (plan.plan_letter, plan.n, plan.inspect_all) == ("F", 20, True)


def test_letter_a_at_aql_10_points_up_off_the_table_and_falls_back_to_the_plan_below():
    plan = iso2859_plan(5, "10")
    assert (plan.code_letter, plan.plan_letter, plan.ac, plan.re) == ("A", "C", 1, 2)
    assert plan.inspect_all and plan.n == 5
    assert "反方向" in plan.notes[0]


@pytest.mark.parametrize("aql", [Decimal("2.5"), "2.5", "2.50", Decimal("2.500"), 2.5])
def test_aql_is_accepted_as_decimal_or_text_in_any_spelling(aql):
    assert iso2859_plan(2400, aql).aql == Decimal("2.5")


@pytest.mark.parametrize("aql", ["3.0", "0.01000001", "0", "-2.5", "abc", "", "1500", True])
def test_aql_values_not_in_table_2a_are_refused(aql):
    with pytest.raises(ValueError):
        iso2859_plan(2400, aql)


@pytest.mark.parametrize("lot_size", [0, -5, 2.5, True])
def test_lot_size_must_be_a_positive_integer(lot_size):
    with pytest.raises(ValueError):
        iso2859_plan(lot_size, "2.5")


def test_summary_names_letter_sample_size_and_acceptance_numbers():
    assert iso2859_plan(2400, "2.5").summary() == (
        "ISO 2859-1 正常检验一次抽样，一般检验水平 II，AQL 2.5：批量 2400，"
        "样本量字码 K，样本量 125，Ac 7，Re 8")


def test_every_lot_size_and_aql_gives_a_plan_no_larger_than_the_lot():
    for lot_size in (1, 2, 8, 9, 26, 51, 91, 151, 281, 501, 1201, 3201, 10_001, 35_001, 150_001,
                     500_001):
        for aql in AQL_VALUES:
            plan = iso2859_plan(lot_size, aql)
            assert 1 <= plan.n <= lot_size
            assert plan.re == plan.ac + 1
            assert plan.inspect_all == (SAMPLE_SIZES[plan.plan_letter] >= lot_size)
