"""The city dashboard's figures (市级监管): its counties side by side and added up.

Pure: the service counts each figure per county (grouped queries) and hands the counts here.
The city's row is the sum of its counties' rows, field by field; its spot-check pass rate is
pooled from the summed counts (passed / checked over all counties), never an average of the
counties' rates, and each rate carries its Wilson interval (`domain.statistics.Rate`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from .statistics import DEFAULT_CONFIDENCE, Rate

# The figures counted per county, in the order the page shows them.
COUNTED = ("contracts", "reviewed_contracts", "below_80", "checks", "checks_passed", "overdue_notices",
           "open_complaints", "complaints_in_quarter")


@dataclass(frozen=True)
class CountyCounts:
    """One county's counts (all whole numbers, none negative).

    - contracts: contracts whose term covers today;
    - reviewed_contracts / below_80: contracts with a published result for the quarter shown, and
      those of them whose total is under 80;
    - checks / checks_passed: spot checks recorded on the quarter's draws, and those passed;
    - overdue_notices: rectification notices past their deadline without an answer in time;
    - open_complaints: complaints not closed; complaints_in_quarter: received during the quarter.
    """

    contracts: int = 0
    reviewed_contracts: int = 0
    below_80: int = 0
    checks: int = 0
    checks_passed: int = 0
    overdue_notices: int = 0
    open_complaints: int = 0
    complaints_in_quarter: int = 0

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{item.name} 必须是非负整数，收到 {value!r}")
        if self.below_80 > self.reviewed_contracts:
            raise ValueError(f"低于80分的合同数 {self.below_80} 大于已考核合同数 {self.reviewed_contracts}")
        if self.checks_passed > self.checks:
            raise ValueError(f"合格数 {self.checks_passed} 大于复检数 {self.checks}")

    def __add__(self, other: CountyCounts) -> CountyCounts:
        return CountyCounts(**{name: getattr(self, name) + getattr(other, name) for name in COUNTED})

    def pass_rate(self, confidence: float = DEFAULT_CONFIDENCE) -> Rate:
        """Spot checks passed of those recorded, with its Wilson interval."""
        return Rate.of(self.checks_passed, self.checks, confidence)


@dataclass(frozen=True)
class CountyRow:
    """One county on the dashboard: its area and its counts."""

    area_id: int
    code: str
    name: str
    counts: CountyCounts

    @property
    def pass_rate(self) -> Rate:
        return self.counts.pass_rate()


@dataclass(frozen=True)
class CityFigures:
    """The counties' rows (in code order) and the city's totals."""

    rows: tuple[CountyRow, ...]
    total: CountyCounts

    @property
    def pooled_pass_rate(self) -> Rate:
        """The city's pass rate from the summed counts (not the mean of the counties' rates)."""
        return self.total.pass_rate()


def city_figures(counties: Sequence[tuple[int, str, str]], counts: Mapping[int, CountyCounts]) -> CityFigures:
    """The city's rows: every county of `counties` ((area id, code, name), each once), with its
    counts (a county with none found counts zeros), and their sum. Counts of an area not among
    `counties` are refused: they would be added to no row."""
    ids = [area_id for area_id, _, _ in counties]
    if len(set(ids)) != len(ids):
        raise ValueError("县（区）重复")
    stray = set(counts) - set(ids)
    if stray:
        raise ValueError(f"统计数中有不属于本市的区划：{sorted(stray)}")
    rows = tuple(CountyRow(area_id, code, name, counts.get(area_id, CountyCounts()))
                 for area_id, code, name in sorted(counties, key=lambda county: county[1]))
    total = CountyCounts()
    for row in rows:
        total = total + row.counts
    return CityFigures(rows, total)
