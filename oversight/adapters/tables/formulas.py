"""Text a spreadsheet would run as a formula, made inert before it goes into a file we hand out."""
from __future__ import annotations

import re
from typing import Any

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def neutralize_cell(value: Any) -> Any:
    """Prefix `'` to text a spreadsheet would run as a formula (=, +, -, @, tab, CR).

    A plain signed number such as "-500" is left alone: it cannot run as a formula.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralize_texts(texts: pd.Series) -> pd.Series:
    """`neutralize_cell` over a column of strings, vectorised."""
    risky = texts.str[:1].isin(_FORMULA_START)
    if risky.any():
        risky[risky] = ~texts[risky].str.fullmatch(_PLAIN_NUMBER, na=False)
    return texts.where(~risky, "'" + texts[risky]) if risky.any() else texts
