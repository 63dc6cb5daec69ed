"""ISO 2859-1 single sampling, normal inspection, general inspection level II (= GB/T 2828.1).

Table 1 (lot size → sample size code letter, level II column) and table 2-A (code letter × AQL →
Ac/Re or an arrow) are transcribed below. An arrow means "use the first sampling plan below
(↓) or above (↑) the arrow": the Ac/Re of that plan *and the sample size of its code letter*
replace the original; when that sample size reaches the lot size, the whole lot is inspected.
"""
from __future__ import annotations

from decimal import Decimal

from oversight.domain.sampling.plans import KIND_ISO2859, SamplingPlan, as_decimal, check_count

ARROW_DOWN = "↓"
ARROW_UP = "↑"

CODE_LETTERS = "ABCDEFGHJKLMNPQR"
SAMPLE_SIZES = dict(zip(CODE_LETTERS, (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800,
                                       1250, 2000)))

# Table 1, general inspection level II: (largest lot size, code letter); lots above 500 000 are Q.
LOT_SIZE_LETTERS = (
    (8, "A"), (15, "B"), (25, "C"), (50, "D"), (90, "E"), (150, "F"), (280, "G"), (500, "H"),
    (1200, "J"), (3200, "K"), (10_000, "L"), (35_000, "M"), (150_000, "N"), (500_000, "P"),
)
LARGEST_LOT_LETTER = "Q"

AQL_VALUES = tuple(Decimal(text) for text in (
    "0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65", "1.0",
    "1.5", "2.5", "4.0", "6.5", "10", "15", "25", "40", "65", "100", "150", "250", "400", "650",
    "1000",
))

# Table 2-A, one row per code letter, one column per AQL above; "Ac/Re" or an arrow.
_TABLE_2A_ROWS = {
    #     0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
    "A": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31",
    "B": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45",
    "C": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ↑",
    "D": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ↑     ↑",
    "E": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ↑     ↑     ↑",
    "F": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑",
    "G": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "H": "    ↓     ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "J": "    ↓     ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "K": "    ↓     ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "L": "    ↓     ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "M": "    ↓     ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "N": "    ↓     ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "P": "    ↓   0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "Q": "  0/1     ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
    "R": "    ↑     ↓   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑     ↑",
}  # fmt: skip

Cell = tuple[int, int] | str


def _parse_cell(text: str) -> Cell:
    if text in (ARROW_DOWN, ARROW_UP):
        return text
    ac, re = text.split("/")
    return int(ac), int(re)


TABLE_2A: dict[str, tuple[Cell, ...]] = {
    letter: tuple(_parse_cell(text) for text in row.split())
    for letter, row in _TABLE_2A_ROWS.items()
}


def aql_column(aql: Decimal | str) -> int:
    """The column of table 2-A for an AQL; anything not in the table is refused."""
    value = as_decimal(aql, "AQL")
    for column, table_value in enumerate(AQL_VALUES):
        if value == table_value:
            return column
    allowed = "、".join(str(v) for v in AQL_VALUES)
    raise ValueError(f"AQL {aql} 不在 ISO 2859-1 表 2-A 中，可选值：{allowed}")


def code_letter(lot_size: int) -> str:
    """Table 1, general inspection level II (a lot of one record counts as 2–8)."""
    check_count(lot_size, "批量", minimum=1)
    for largest, letter in LOT_SIZE_LETTERS:
        if lot_size <= largest:
            return letter
    return LARGEST_LOT_LETTER


def table_2a_cell(letter: str, aql: Decimal | str) -> Cell:
    """The printed cell: (Ac, Re), ARROW_DOWN or ARROW_UP."""
    if letter not in TABLE_2A:
        raise ValueError(f"样本量字码 {letter} 不在表 2-A 中")
    return TABLE_2A[letter][aql_column(aql)]


def _first_plan(row: int, column: int, step: int) -> int | None:
    """The row of the first plan from row in direction step (+1 down, −1 up), if any."""
    row += step
    while 0 <= row < len(CODE_LETTERS):
        if not isinstance(TABLE_2A[CODE_LETTERS[row]][column], str):
            return row
        row += step
    return None


def iso2859_plan(lot_size: int, aql: Decimal | str) -> SamplingPlan:
    """Lot size and AQL → code letter → n, Ac, Re of table 2-A, following its arrows.

    The printed table has one arrow that points off its edge: letter A at AQL 10 points up with
    no plan above. There the first plan in the other direction is used (the larger sample, the
    safe side), and the plan's notes say so.
    """
    column = aql_column(aql)
    letter = code_letter(lot_size)
    row = CODE_LETTERS.index(letter)
    cell = TABLE_2A[letter][column]
    notes: list[str] = []
    if isinstance(cell, str):
        step = 1 if cell == ARROW_DOWN else -1
        direction = "向下" if step == 1 else "向上"
        plan_row = _first_plan(row, column, step)
        outcome = "改用字码 {} 的方案"
        if plan_row is None:
            plan_row = _first_plan(row, column, -step)
            outcome = "但该方向没有抽样方案，改用反方向第一个方案：字码 {}"
        notes.append(f"字码 {letter} 在 AQL {AQL_VALUES[column]} 处为{direction}箭头，"
                     + outcome.format(CODE_LETTERS[plan_row]))
        row = plan_row
    plan_letter = CODE_LETTERS[row]
    ac, re = TABLE_2A[plan_letter][column]
    n = SAMPLE_SIZES[plan_letter]
    inspect_all = n >= lot_size
    if inspect_all:
        notes.append(f"样本量 {n} 不小于批量 {lot_size}，全检（抽查全部 {lot_size} 条）")
        n = lot_size
    return SamplingPlan(kind=KIND_ISO2859, lot_size=lot_size, n=n, ac=ac, re=re,
                        inspect_all=inspect_all, code_letter=letter, plan_letter=plan_letter,
                        aql=AQL_VALUES[column], notes=tuple(notes))
