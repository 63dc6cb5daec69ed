"""Administrative area codes: GB/T 2260 (province, city, county) and the statistics bureau's
township (9 digits) and village (12 digits) codes that extend them.

A code names its own level and its parent's code, so a hierarchy loaded from a file can be checked
row by row before anything is stored.
"""
from __future__ import annotations

import re

from .vocabulary import AreaLevel

_CODE = re.compile(r"\d{6}(\d{3}(\d{3})?)?")


class AreaCodeError(ValueError):
    """A code that is not an area code; the message is Chinese, for the page and the CLI."""


def level_of(code: str) -> AreaLevel:
    """The level an area code names: 360000 省, 360700 市, 360704 县（区）, 360704100 乡镇, …"""
    if not _CODE.fullmatch(code):
        raise AreaCodeError(f"区划代码“{code}”应为 6 位（省、市、县）、9 位（乡镇）或 12 位（村）数字")
    if len(code) == 12:
        return AreaLevel.VILLAGE
    if len(code) == 9:
        return AreaLevel.TOWNSHIP
    if code[:2] == "00":
        raise AreaCodeError(f"区划代码“{code}”的省级代码不能为 00")
    if code[2:] == "0000":
        return AreaLevel.PROVINCE
    if code[4:] == "00":
        return AreaLevel.CITY
    return AreaLevel.COUNTY


def parent_code(code: str) -> str | None:
    """The code of the level above (None for a province).

    A county's parent is its city's code PPCC00; counties directly under a province (省直辖县级,
    e.g. 429004) or a municipality's districts have such a code too in GB/T 2260 (429000, 110100).
    """
    level = level_of(code)
    if level is AreaLevel.PROVINCE:
        return None
    if level is AreaLevel.CITY:
        return code[:2] + "0000"
    if level is AreaLevel.COUNTY:
        return code[:4] + "00"
    if level is AreaLevel.TOWNSHIP:
        return code[:6]
    return code[:9]


def ancestor_codes(code: str) -> list[str]:
    """Every code above `code`, nearest first."""
    codes = []
    parent = parent_code(code)
    while parent is not None:
        codes.append(parent)
        parent = parent_code(parent)
    return codes


def bureau_name(county: str, city: str | None) -> str:
    """A county's civil-affairs bureau as it signs a notice: a city's district after its city's
    name ("赣州市赣县区民政局"), a county or county-level city by its own ("信丰县民政局", "瑞金市民政局");
    a county already named with its city, or a city without a name of its own (a code, 市辖区),
    takes no prefix."""
    county = county.strip()
    city = (city or "").strip()
    if county.endswith("区") and city.endswith("市") and not county.startswith(city):
        county = city + county
    return f"{county}民政局"


# --- a county's townships and villages from a file (issue 14) ------------------------------------

CODE_COLUMN, NAME_COLUMN = "区划代码", "名称"
LOADABLE_LEVELS = (AreaLevel.TOWNSHIP, AreaLevel.VILLAGE)
NAME_MAX = 64


class AreaRowError(ValueError):
    """One refused row of an area file: where (Excel row, column) and why, in Chinese."""

    def __init__(self, row: int, column: str, reason: str):
        super().__init__(f"第{row}行“{column}”：{reason}")
        self.row, self.column, self.reason = row, column, reason


def check_area_rows(rows: list[tuple[int, str, str]], known: set[str]) -> list[AreaRowError]:
    """The errors of an area file's rows (Excel row, code, name): each code a township's (9
    digits) or a village's (12), its parent in the file (anywhere) or among the `known` codes,
    no code twice, every name given. No error: the file may be stored whole."""
    errors: list[AreaRowError] = []
    in_file = {code.strip() for _, code, _ in rows}
    seen: dict[str, int] = {}
    for row, code, name in rows:
        code, name = code.strip(), name.strip()
        try:
            level = level_of(code)
        except AreaCodeError as error:
            errors.append(AreaRowError(row, CODE_COLUMN, str(error)))
            continue
        if level not in LOADABLE_LEVELS:
            errors.append(AreaRowError(row, CODE_COLUMN, f"只能导入乡镇（街道）和村（社区），“{code}”是{level.label}"))
        elif (parent := parent_code(code)) not in known and parent not in in_file:
            errors.append(AreaRowError(row, CODE_COLUMN, f"上级区划“{parent}”既不在文件中，也未登记"))
        if code in seen:
            errors.append(AreaRowError(row, CODE_COLUMN, f"区划代码“{code}”与第{seen[code]}行重复"))
        else:
            seen[code] = row
        if not name:
            errors.append(AreaRowError(row, NAME_COLUMN, "名称不能为空"))
        elif len(name) > NAME_MAX:
            errors.append(AreaRowError(row, NAME_COLUMN, f"名称不能超过{NAME_MAX}个字"))
    return errors
