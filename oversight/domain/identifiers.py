"""Chinese identifiers (SPEC section 3): resident ID numbers, unified social credit codes, mobiles.

Pure functions: they take strings and return normalised values or raise `InvalidIdentifier`
with a reason in Chinese that can be shown to the user as it is.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from stdnum.cn import ric, uscc

from ..clock import county_today


class InvalidIdentifier(ValueError):
    """The value is not a valid identifier; `str(error)` is the reason in Chinese."""


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def to_half_width(value: str) -> str:
    """Full-width digits, letters and spaces to ASCII, surrounding white space removed."""
    return unicodedata.normalize("NFKC", value).strip()


def _compact(value: object) -> str:
    if value is None:
        return ""
    return re.sub(r"\s+", "", to_half_width(str(value)))


def normalize_id_number(value: object, *, today: date | None = None) -> str:
    """Return the 18-character resident ID number in upper-case ASCII, or raise.

    Checks the length, the GB 11643-1999 check character and the birth date, but not the area
    code: numbers issued under a since-retired county code stay valid for life.
    """
    number = _compact(value).upper()
    if not number:
        raise InvalidIdentifier("身份证号不能为空")
    if len(number) != 18:
        raise InvalidIdentifier(f"身份证号应为18位，实际为{len(number)}位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdentifier("身份证号前17位应为数字，末位应为数字或X")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier("身份证号中的出生日期无效") from None
    if birth > (today or county_today()) or birth.year < 1880:
        raise InvalidIdentifier("身份证号中的出生日期无效")
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidIdentifier("身份证号校验位错误")
    return number


def normalize_credit_code(value: object) -> str:
    """Return the 18-character unified social credit code (GB 32100-2015), or raise."""
    code = _compact(value).upper()
    if not code:
        raise InvalidIdentifier("统一社会信用代码不能为空")
    if len(code) != 18:
        raise InvalidIdentifier(f"统一社会信用代码应为18位，实际为{len(code)}位")
    if any(ch not in _CREDIT_CODE_ALPHABET for ch in code):
        raise InvalidIdentifier("统一社会信用代码含有无效字符（不使用I、O、S、V、Z）")
    if uscc.calc_check_digit(code) != code[17]:
        raise InvalidIdentifier("统一社会信用代码校验位错误")
    return code


def normalize_mobile(value: object) -> str:
    """Return an 11-digit mainland mobile number, or raise."""
    phone = _compact(value)
    if phone.startswith("+86"):
        phone = phone[3:]
    phone = phone.replace("-", "")
    if not _MOBILE.match(phone):
        raise InvalidIdentifier("手机号应为以13–19开头的11位数字")
    return phone


def mask_id_number(id_number: str | None) -> str:
    """`320102********1234`: area code and last four kept."""
    if not id_number:
        return ""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str | None) -> str:
    """`138****5678`."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str | None) -> str:
    """`王**`: a private person's name with only its first character kept."""
    if not name:
        return ""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*"
