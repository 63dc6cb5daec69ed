"""Rectification numbers, rounds and proposed deductions."""
from decimal import Decimal

import pytest

from oversight.domain.rectification import (
    ESCALATE,
    REISSUE,
    after_not_accepted,
    deduction_points,
    format_notice_number,
    parse_notice_number,
)


def test_numbers_have_the_year_in_brackets_and_three_digits_at_least():
    assert format_notice_number(2026, 3) == "〔2026〕整改第003号"
    assert format_notice_number(2026, 42, "赣县民") == "赣县民〔2026〕整改第042号"
    assert format_notice_number(2027, 1234) == "〔2027〕整改第1234号"
    with pytest.raises(ValueError):
        format_notice_number(2026, 0)
    with pytest.raises(ValueError):
        format_notice_number(26, 1)


def test_a_number_reads_back_as_it_was_written():
    for year, sequence, prefix in ((2026, 3, ""), (2026, 999, "赣县民"), (2031, 10000, "X")):
        assert parse_notice_number(format_notice_number(year, sequence, prefix)) == (prefix, year, sequence)
    with pytest.raises(ValueError):
        parse_notice_number("〔2026〕整改第3号")


def test_the_last_round_escalates_instead_of_reissuing():
    assert after_not_accepted(1, 2) == REISSUE
    assert after_not_accepted(2, 2) == ESCALATE
    assert after_not_accepted(3, 2) == ESCALATE
    assert after_not_accepted(1, 1) == ESCALATE
    with pytest.raises(ValueError):
        after_not_accepted(1, 0)


def test_a_proposed_deduction_is_negative_to_the_hundredth():
    assert deduction_points("-2") == Decimal("-2")
    assert deduction_points(Decimal("-0.25")) == Decimal("-0.25")
    for bad in ("2", "0", "-0.125", "-101"):
        with pytest.raises(ValueError):
            deduction_points(bad)
