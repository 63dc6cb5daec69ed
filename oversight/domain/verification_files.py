"""The two files of independent evidence the bureau imports (issue 10, point 9).

家庭经济状况核对结果 (`economic`): what the county's 核对平台 (household economic-status
verification platform: civil affairs with tax, real estate, vehicles, market regulation, banks)
returned for each person checked — one row per person, its household named by the applicant's ID
number. 死亡登记 (`death`): death records of the public-security or funeral registers.

The same rules as completion logs (SPEC section 4) and bulk sheets: headers matched loosely, every
refused cell reported with its Excel row, its header, the value and a reason in Chinese, and a
file accepted whole or refused whole.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..adapters.tables.cells import (
    ErrorCollector,
    match_columns,
    parse_dates,
    parse_fen,
    parse_id_numbers,
    parse_integers,
    parse_text,
    reasons_where,
)
from .registry_import import SheetValidation, _accessors, _duplicates, _first_row_of
from .vocabulary import VerificationKind

MAX_COUNT = 99


@dataclass(frozen=True)
class FileColumn:
    header: str
    required: bool
    note: str


ECONOMIC = (
    FileColumn("身份证号", True, "被核对人的居民身份证号（18位）"),
    FileColumn("姓名", True, "被核对人姓名"),
    FileColumn("申请人身份证号", False, "被核对人所在申请家庭的申请人（户主）身份证号；本人即申请人时留空"),
    FileColumn("核对日期", True, "核对平台出具结果的日期，不晚于今天"),
    FileColumn("户籍乡镇", False, "户籍登记所在乡镇/街道；与服务对象登记的乡镇不同时提示“户籍登记在别处”"),
    FileColumn("机动车数量", False, f"登记在本人名下的机动车（辆），0到{MAX_COUNT}"),
    FileColumn("房产数量", False, f"登记在本人名下的房产（套），0到{MAX_COUNT}"),
    FileColumn("工商登记数量", False, f"本人为经营者或出资人的工商登记（户），0到{MAX_COUNT}"),
    FileColumn("存款(元)", False, "银行存款余额合计（元，最多两位小数）"),
    FileColumn("年收入(元)", False, "近12个月收入合计（元，最多两位小数：工资、经营、财产、转移收入等）"),
)
DEATH = (
    FileColumn("身份证号", True, "死亡人员的居民身份证号（18位）"),
    FileColumn("姓名", True, "死亡人员姓名"),
    FileColumn("死亡日期", True, "不晚于今天，不早于出生日期"),
    FileColumn("数据来源", False, "如：公安户籍注销、殡葬火化记录、医疗机构死亡证明"),
)
FILE_COLUMNS: dict[str, tuple[FileColumn, ...]] = {VerificationKind.ECONOMIC: ECONOMIC, VerificationKind.DEATH: DEATH}

ECONOMIC_ROW_COLUMNS = ("id_number", "name", "applicant_id_number", "checked_on", "township", "vehicles",
                        "properties", "businesses", "deposits_fen", "income_fen")
DEATH_ROW_COLUMNS = ("id_number", "name", "died_on", "source")


def headers(kind: str) -> tuple[str, ...]:
    return tuple(column.header for column in FILE_COLUMNS[kind])


def required_headers(kind: str) -> tuple[str, ...]:
    return tuple(column.header for column in FILE_COLUMNS[kind] if column.required)


def validate_verification(kind: str, table: pd.DataFrame, today: dt.date,
                          max_errors: int | None = None) -> SheetValidation:
    """A verification file → typed rows (`ECONOMIC_ROW_COLUMNS` or `DEATH_ROW_COLUMNS`)."""
    if kind == VerificationKind.ECONOMIC:
        return validate_economic(table, today, max_errors)
    if kind == VerificationKind.DEATH:
        return validate_deaths(table, today, max_errors)
    raise ValueError(f"unknown verification kind {kind!r}")


def _not_after_today(errors: ErrorCollector, column: str, dates: pd.Series, today: dt.date) -> None:
    errors.add_where(column, dates.notna() & (dates > today), "日期不能晚于今天")


def _one_row_per_person(errors: ErrorCollector, column: str, id_number: pd.Series) -> None:
    firsts = _first_row_of(id_number.dropna())
    errors.add_where(column, _duplicates(id_number), lambda rows: pd.Series(
        [f"与第{firsts[id_number[r]]}行是同一人，每人只能有一行" for r in rows], index=rows))


def _none_for_missing(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None)


def validate_economic(table: pd.DataFrame, today: dt.date, max_errors: int | None = None) -> SheetValidation:
    """核对平台结果 → rows of `ECONOMIC_ROW_COLUMNS` (figures None where the file left them blank)."""
    found, header_errors = match_columns(table, headers("economic"), required_headers("economic"))
    if header_errors:
        return SheetValidation(None, header_errors)
    column, header = _accessors(table, found)
    errors = ErrorCollector(table)
    id_number = errors.add_parsed(header("身份证号"), parse_id_numbers(column("身份证号"), today=today))
    name = errors.add_parsed(header("姓名"), parse_text(column("姓名"), max_length=64))
    applicant = errors.add_parsed(header("申请人身份证号"),
                                  parse_id_numbers(column("申请人身份证号"), today=today, required=False))
    checked_on = errors.add_parsed(header("核对日期"), parse_dates(column("核对日期")))
    township = errors.add_parsed(header("户籍乡镇"), parse_text(column("户籍乡镇"), required=False, max_length=32))
    counts = {key: errors.add_parsed(header(title), parse_integers(column(title), 0, MAX_COUNT, required=False))
              for key, title in (("vehicles", "机动车数量"), ("properties", "房产数量"), ("businesses", "工商登记数量"))}
    money = {key: errors.add_parsed(header(title), parse_fen(column(title), required=False))
             for key, title in (("deposits_fen", "存款(元)"), ("income_fen", "年收入(元)"))}
    _not_after_today(errors, header("核对日期"), checked_on, today)
    _one_row_per_person(errors, header("身份证号"), id_number)
    if errors:
        return SheetValidation.refused(errors, max_errors)
    own_applicant = applicant.notna() & (applicant != id_number)
    rows = pd.DataFrame({
        "id_number": id_number, "name": name,
        "applicant_id_number": applicant.where(own_applicant, None),
        "checked_on": checked_on, "township": township.where(township.notna() & (township != ""), None),
        **{key: _none_for_missing(values) for key, values in {**counts, **money}.items()},
    })
    return SheetValidation(rows[list(ECONOMIC_ROW_COLUMNS)], [])


def validate_deaths(table: pd.DataFrame, today: dt.date, max_errors: int | None = None) -> SheetValidation:
    """死亡登记 → rows of `DEATH_ROW_COLUMNS`."""
    found, header_errors = match_columns(table, headers("death"), required_headers("death"))
    if header_errors:
        return SheetValidation(None, header_errors)
    column, header = _accessors(table, found)
    errors = ErrorCollector(table)
    id_number = errors.add_parsed(header("身份证号"), parse_id_numbers(column("身份证号"), today=today))
    name = errors.add_parsed(header("姓名"), parse_text(column("姓名"), max_length=64))
    died_on = errors.add_parsed(header("死亡日期"), parse_dates(column("死亡日期")))
    source = errors.add_parsed(header("数据来源"), parse_text(column("数据来源"), required=False, max_length=64))
    _not_after_today(errors, header("死亡日期"), died_on, today)
    usable = id_number.notna() & died_on.notna()
    born = pd.Series([dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14])) if ok else None
                      for ok, n in zip(usable, id_number)], index=table.index, dtype=object)
    before_birth = usable & pd.Series([ok and d < b for ok, d, b in zip(usable, died_on, born)], index=table.index)
    errors.add(header("死亡日期"), reasons_where(before_birth, lambda rows: pd.Series(
        [f"早于身份证号中的出生日期 {born[r].isoformat()}" for r in rows], index=rows)))
    _one_row_per_person(errors, header("身份证号"), id_number)
    if errors:
        return SheetValidation.refused(errors, max_errors)
    rows = pd.DataFrame({"id_number": id_number, "name": name, "died_on": died_on,
                         "source": source.where(source.notna() & (source != ""), None)})
    return SheetValidation(rows[list(DEATH_ROW_COLUMNS)], [])
