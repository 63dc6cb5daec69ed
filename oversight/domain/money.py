"""Money as integer fen: parsing what people type and formatting it back."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

from .identifiers import to_half_width


class InvalidAmount(ValueError):
    """The text is not an amount in yuan; `str(error)` is the reason in Chinese."""


_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


def parse_yuan(text: object, *, allow_negative: bool = False) -> int:
    """'1,234.5' or '１２３４.５０元' → 123450 fen; more than two decimals is an error."""
    cleaned = re.sub(r"[,\s¥￥元]", "", to_half_width(str(text if text is not None else "")))
    if not cleaned:
        raise InvalidAmount("金额不能为空")
    if not _AMOUNT.match(cleaned):
        raise InvalidAmount("金额格式不正确，最多两位小数")
    try:
        fen = int((Decimal(cleaned) * 100).to_integral_value(rounding=ROUND_HALF_UP))
    except InvalidOperation:
        raise InvalidAmount("金额格式不正确") from None
    if fen < 0 and not allow_negative:
        raise InvalidAmount("金额不能为负数")
    return fen


def fen_to_yuan(fen: int | None) -> Decimal | None:
    """123450 → Decimal('1234.50')."""
    if fen is None:
        return None
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_yuan(fen: int | None) -> str:
    """123450 → '1,234.50'."""
    if fen is None:
        return ""
    return f"{fen_to_yuan(fen):,}"
