"""The rectification loop (issue 10, point 8): rounds, escalation, and the notice's number.

A response not accepted reissues the notice with a new deadline, as the next round; when the
last round (`max_rounds`, 2 by default) is not accepted either, the notice escalates to the
admins and proposes a deduction for the contract's quarterly review instead of a further round.

Each 整改通知书 (every round) has a number unique in its county and year, "〔2026〕整改第003号",
optionally after the bureau's abbreviation ("赣县民〔2026〕整改第003号").
"""
from __future__ import annotations

import re
from decimal import Decimal

REISSUE = "reissue"
ESCALATE = "escalate"

_NUMBER = re.compile(r"^(?P<prefix>.*)〔(?P<year>\d{4})〕整改第(?P<sequence>\d{3,})号$")


class RectificationError(ValueError):
    """A rectification step refused; the message is Chinese, for the user."""


def format_notice_number(year: int, sequence: int, prefix: str = "") -> str:
    """〔2026〕整改第003号: the year in tortoise-shell brackets, the sequence with at least three digits."""
    if not 1000 <= year <= 9999:
        raise ValueError(f"year {year} is not a four-digit year")
    if sequence < 1:
        raise ValueError("a notice's sequence starts at 1")
    return f"{prefix}〔{year}〕整改第{sequence:03d}号"


def parse_notice_number(number: str) -> tuple[str, int, int]:
    """(prefix, year, sequence) of a number `format_notice_number` wrote."""
    match = _NUMBER.match(number)
    if match is None:
        raise ValueError(f"{number!r} is not a rectification notice number")
    return match["prefix"], int(match["year"]), int(match["sequence"])


def after_not_accepted(round_number: int, max_rounds: int) -> str:
    """What a response not accepted leads to: another round, or escalation after the last."""
    if max_rounds < 1:
        raise ValueError("a notice has at least one round")
    return REISSUE if round_number < max_rounds else ESCALATE


def deduction_points(points: str | Decimal) -> Decimal:
    """The proposed deduction as exact negative points with at most two decimals."""
    value = Decimal(str(points))
    if value >= 0 or value != value.quantize(Decimal("0.01")) or value < -100:
        raise ValueError(f"a proposed deduction is negative points with at most two decimals, not {points}")
    return value
