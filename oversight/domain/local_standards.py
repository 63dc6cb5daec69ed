"""Local standards (SPEC section 8): what one version of a county's standards for a year holds,
how a typed form or a row of an imported sheet becomes one, which version is in force on a day,
and what changed between two versions.

A standard is a series of versions, each taking effect on a date (生效日期); an edit is a new
version and never rewrites one. The rules read the version in force on the day in question: the
latest of its year whose date is on or before the day; a day before the year's first version (or
in a year with none) reads the newest earlier version.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol

from .identifiers import to_half_width
from .money import InvalidAmount, format_yuan, parse_yuan
from .self_care import TIER_BY_CONCLUSION

YUAN, PERCENT, COUNT, DATES = "yuan", "percent", "count", "dates"


@dataclass(frozen=True)
class Term:
    """One value a standard holds: its attribute, Chinese label, kind, and bounds (fen, bp, count)."""

    key: str
    label: str
    kind: str
    low: int = 0
    high: int = 0
    required: bool = True


TERMS: tuple[Term, ...] = (
    Term("poverty_line_fen", "城市低保标准（元/人/月）", YUAN, 1, 10_000_00),
    Term("poverty_line_rural_fen", "农村低保标准（元/人/月）", YUAN, 1, 10_000_00),
    Term("care_allowance_tier1_fen", "护理补贴一档 全护理（元/月）", YUAN, 0, 100_000_00),
    Term("care_allowance_tier2_fen", "护理补贴二档 半护理（元/月）", YUAN, 0, 100_000_00),
    Term("care_allowance_tier3_fen", "护理补贴三档 全自理（元/月）", YUAN, 0, 100_000_00),
    Term("spot_check_share_bp", "抽查比例（%）", PERCENT, 1, 10_000),
    Term("spot_check_floor", "最少抽查份数", COUNT, 0, 10_000),
    Term("callback_share_bp", "回访比例（%）", PERCENT, 1, 10_000),
    Term("retrain_threshold_bp", "再培训阈值（差错率 %）", PERCENT, 1, 10_000),
    Term("recheck_threshold_bp", "定向复查阈值（差错率 %）", PERCENT, 1, 10_000),
    Term("recheck_min_checks", "定向复查的最少抽查数", COUNT, 1, 1_000),
    Term("holidays", "法定节假日", DATES, required=False),
    Term("working_days", "调休上班日", DATES, required=False),
)
TERM_BY_KEY = {term.key: term for term in TERMS}
TIER_KEYS = {"一档 全护理": "care_allowance_tier1_fen", "二档 半护理": "care_allowance_tier2_fen",
             "三档 全自理": "care_allowance_tier3_fen"}
EFFECTIVE_LABEL = "生效日期"
REASON_LABEL = "变更原因"
YEAR_LABEL = "年度"
MAX_REASON = 500


@dataclass(frozen=True)
class StandardTerms:
    """The values of one version; money in fen, shares in basis points, dates in order."""

    poverty_line_fen: int
    poverty_line_rural_fen: int
    care_allowance_tier1_fen: int
    care_allowance_tier2_fen: int
    care_allowance_tier3_fen: int
    spot_check_share_bp: int = 500
    spot_check_floor: int = 5
    callback_share_bp: int = 1000
    retrain_threshold_bp: int = 1000
    recheck_threshold_bp: int = 3000
    recheck_min_checks: int = 5
    holidays: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()

    @classmethod
    def of(cls, row: object) -> StandardTerms:
        """The terms of a stored row (a version or a year's standard): attributes by the same names;
        a row without a rural line (stored before the split) uses its one line for both."""
        values = {}
        for term in fields(cls):
            value = getattr(row, term.name, None)
            if term.name in ("holidays", "working_days"):
                value = tuple(sorted(_as_date(day) for day in (value or ())))
            values[term.name] = value
        if values["poverty_line_rural_fen"] is None:
            values["poverty_line_rural_fen"] = values["poverty_line_fen"]
        return cls(**{key: value for key, value in values.items() if value is not None})

    def as_columns(self) -> dict:
        """The values as a row stores them (dates as ISO text in JSON)."""
        values = {term.name: getattr(self, term.name) for term in fields(self)}
        values["holidays"] = [day.isoformat() for day in self.holidays]
        values["working_days"] = [day.isoformat() for day in self.working_days]
        return values

    def allowance_for_tier(self, tier: str | None) -> int | None:
        """The monthly care allowance of a tier (`三档 全自理` …), None for no tier."""
        key = TIER_KEYS.get(tier or "")
        return getattr(self, key) if key else None

    def allowance_for_conclusion(self, conclusion: str | None) -> int | None:
        """The monthly care allowance of the tier a 评估结论 puts the person in."""
        return self.allowance_for_tier(TIER_BY_CONCLUSION.get(conclusion or ""))

    def poverty_line_for(self, urban: bool) -> int:
        return self.poverty_line_fen if urban else self.poverty_line_rural_fen


@dataclass(frozen=True)
class PovertyLine:
    """The 低保标准 from a day on (until the next one): urban and rural, fen per person per month."""

    effective_from: date
    urban_fen: int
    rural_fen: int


class StandardInvalid(ValueError):
    """A form or a sheet row that is not a valid version; `errors` maps a label to the reason (Chinese)."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("；".join(f"{label}：{reason}" for label, reason in self.errors.items()))


class Versioned(Protocol):
    effective_from: date
    number: int


@dataclass(frozen=True)
class Draft:
    """A version as typed or imported, before it is stored."""

    year: int
    effective_from: date
    reason: str
    terms: StandardTerms


# --- reading typed values ------------------------------------------------------------------------

_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_LIST_SEPARATORS = re.compile(r"[、，,;；\s]+")
_RANGE = re.compile(r"\s*(?:~|～|至|—|–|到)\s*")


def parse_day(text: object) -> date:
    """'2026-02-15', '2026/2/15', '2026年2月15日', '20260215' → a date; ValueError (Chinese) otherwise."""
    cleaned = to_half_width(str(text or "")).strip()
    if " " in cleaned and re.fullmatch(r"\S+ 00:00:00", cleaned):
        cleaned = cleaned.split(" ")[0]
    for form in _DATE_FORMS:
        match = form.fullmatch(cleaned)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise ValueError(f"“{cleaned}”不是有效日期（应写作 2026-02-15、2026/2/15 或 2026年2月15日）")


def parse_days(text: object) -> tuple[date, ...]:
    """A list of dates separated by 、，,; or spaces/new lines; `a~b` (or 至) is every day from a to b."""
    cleaned = _RANGE.sub("~", to_half_width(str(text or "")).strip())
    days: set[date] = set()
    for part in _LIST_SEPARATORS.split(cleaned):
        if not part:
            continue
        if "~" in part:
            first_text, _, last_text = part.partition("~")
            first, last = parse_day(first_text), parse_day(last_text)
            if last < first:
                raise ValueError(f"“{part}”的结束日期早于开始日期")
            if (last - first).days > 31:
                raise ValueError(f"“{part}”超过 31 天，请检查")
            days.update(first + timedelta(days=offset) for offset in range((last - first).days + 1))
        else:
            days.add(parse_day(part))
    return tuple(sorted(days))


def parse_percent(text: object) -> int:
    """'5', '5%', '12.5' → basis points (500, 1250); at most two decimals."""
    cleaned = re.sub(r"[%％\s]", "", to_half_width(str(text or "")))
    if not cleaned:
        raise ValueError("不能为空")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"“{cleaned}”不是百分比数值") from None
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("百分比最多两位小数")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _parse_count(text: object) -> int:
    cleaned = to_half_width(str(text or "")).strip()
    if not re.fullmatch(r"\d+", cleaned):
        raise ValueError(f"“{cleaned}”不是非负整数")
    return int(cleaned)


def _percent_text(basis_points: int) -> str:
    text = f"{Decimal(basis_points) / 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_term(term: Term, value) -> str:
    """A value as the page and the sheet write it: 820.00 元, 5%, 2026-02-15、… ."""
    if term.kind == YUAN:
        return format_yuan(value)
    if term.kind == PERCENT:
        return _percent_text(value) + "%"
    if term.kind == DATES:
        return "、".join(day.isoformat() for day in value) if value else "（无）"
    return str(value)


def form_value(term: Term, value) -> str:
    """A value as a form field prefills it (no thousands separator, no unit)."""
    if term.kind == YUAN:
        return f"{Decimal(value) / 100:.2f}"
    if term.kind == PERCENT:
        return _percent_text(value)
    if term.kind == DATES:
        return "\n".join(day.isoformat() for day in value)
    return str(value)


def parse_draft(values: Mapping[str, object], *, year: int, previous: StandardTerms | None = None) -> Draft:
    """A version from typed text keyed by the terms' attributes plus `effective_from` and `reason`.

    A term left blank keeps the previous version's value (an optional one: none); StandardInvalid
    names every field that is wrong, in Chinese.
    """
    errors: dict[str, str] = {}
    parsed: dict[str, object] = {}
    for term in TERMS:
        text = values.get(term.key)
        blank = text is None or not str(text).strip()
        if blank:
            if previous is not None:
                parsed[term.key] = getattr(previous, term.key)
            elif term.required:
                errors[term.label] = "必须填写"
            else:
                parsed[term.key] = ()
            continue
        try:
            parsed[term.key] = _parse_term(term, text)
        except (ValueError, InvalidAmount) as error:
            errors[term.label] = str(error)
    effective = None
    try:
        effective = parse_day(values.get("effective_from"))
        if effective.year != year:
            errors[EFFECTIVE_LABEL] = f"应在 {year} 年内"
    except ValueError as error:
        errors[EFFECTIVE_LABEL] = "必须填写" if not str(values.get("effective_from") or "").strip() else str(error)
    reason = str(values.get("reason") or "").strip()
    if not reason:
        errors[REASON_LABEL] = "请写明本次制定或调整的原因（如文件文号）"
    elif len(reason) > MAX_REASON:
        errors[REASON_LABEL] = f"不能超过 {MAX_REASON} 字"
    if not errors:
        errors.update(_consistency(parsed, year))
    if errors:
        raise StandardInvalid(errors)
    return Draft(year, effective, reason, StandardTerms(**parsed))


def _parse_term(term: Term, text: object):
    if term.kind == DATES:
        return parse_days(text)
    if term.kind == YUAN:
        value = parse_yuan(text)
        low, high = f"{format_yuan(term.low)} 元", f"{format_yuan(term.high)} 元"
    elif term.kind == PERCENT:
        value = parse_percent(text)
        low, high = format_term(term, term.low), format_term(term, term.high)
    else:
        value = _parse_count(text)
        low, high = str(term.low), str(term.high)
    if not term.low <= value <= term.high:
        raise ValueError(f"应在 {low} 到 {high} 之间")
    return value


def _consistency(parsed: Mapping[str, object], year: int) -> dict[str, str]:
    errors: dict[str, str] = {}
    tiers = [parsed["care_allowance_tier1_fen"], parsed["care_allowance_tier2_fen"], parsed["care_allowance_tier3_fen"]]
    if not tiers[0] >= tiers[1] >= tiers[2]:
        errors[TERM_BY_KEY["care_allowance_tier1_fen"].label] = "护理补贴应为一档 ≥ 二档 ≥ 三档（照料程度越高补贴越高）"
    if parsed["retrain_threshold_bp"] > parsed["recheck_threshold_bp"]:
        errors[TERM_BY_KEY["recheck_threshold_bp"].label] = "定向复查阈值不应低于再培训阈值"
    holidays, working = set(parsed["holidays"]), set(parsed["working_days"])
    for key, days in (("holidays", holidays), ("working_days", working)):
        outside = sorted(day for day in days if day.year != year)
        if outside:
            errors[TERM_BY_KEY[key].label] = f"{outside[0].isoformat()} 不在 {year} 年内"
    both = sorted(holidays & working)
    if both:
        errors[TERM_BY_KEY["working_days"].label] = f"{both[0].isoformat()} 同时列为节假日和调休上班日"
    weekday_worked = sorted(day for day in working if day.weekday() < 5)
    if weekday_worked and TERM_BY_KEY["working_days"].label not in errors:
        errors[TERM_BY_KEY["working_days"].label] = (
            f"{weekday_worked[0].isoformat()} 是工作日（周一至周五），调休上班日应为周六或周日")
    return errors


# --- versions in force and what changed ------------------------------------------------------------


def version_in_force(versions: Iterable[Versioned], day: date) -> Versioned | None:
    """The version in force on `day`: the latest taking effect on or before it (a later number
    wins on the same date); None when every version takes effect after `day`."""
    candidates = [version for version in versions if version.effective_from <= day]
    return max(candidates, key=lambda version: (version.effective_from, version.number), default=None)


@dataclass(frozen=True)
class Difference:
    """One term that changed from one version to the next, as the page shows it."""

    label: str
    before: str
    after: str
    added: tuple[str, ...] = field(default=())
    removed: tuple[str, ...] = field(default=())


def differences(before: StandardTerms | None, after: StandardTerms) -> list[Difference]:
    """Every term whose value differs (all of them for a first version), with Chinese labels;
    a date list also says which dates were added and removed."""
    changed = []
    for term in TERMS:
        new = getattr(after, term.key)
        old = getattr(before, term.key) if before is not None else None
        if before is not None and old == new:
            continue
        added = removed = ()
        if term.kind == DATES and before is not None:
            added = tuple(day.isoformat() for day in sorted(set(new) - set(old)))
            removed = tuple(day.isoformat() for day in sorted(set(old) - set(new)))
        changed.append(Difference(term.label, "" if before is None else format_term(term, old),
                                  format_term(term, new), added, removed))
    return changed


# --- the import sheet ------------------------------------------------------------------------------

SHEET_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (YEAR_LABEL, "year", "必填。标准所属年度，如 2026"),
    (EFFECTIVE_LABEL, "effective_from", "必填。本版本开始执行的日期，须在该年度内，如 2026-07-01"),
    *((term.label, term.key, ("必填（同年度已有版本时可留空，沿用上一版本）。" if term.required else "可选。")
       + {YUAN: "金额，单位元，最多两位小数", PERCENT: "百分比数值，如 5 表示 5%", COUNT: "非负整数",
          DATES: "日期列表，用顿号或逗号分隔，连续日期可写作 2026-02-15~2026-02-23；留空则沿用上一版本"}[term.kind])
      for term in TERMS),
    (REASON_LABEL, "reason", "必填。制定或调整的依据，如文件文号"),
)
SHEET_HEADERS = tuple(header for header, _, _ in SHEET_COLUMNS)
_KEY_BY_HEADER = {header: key for header, key, _ in SHEET_COLUMNS}
REQUIRED_HEADERS = (YEAR_LABEL, EFFECTIVE_LABEL, REASON_LABEL)


@dataclass(frozen=True)
class SheetError:
    """One bad cell of an imported sheet: Excel row, column header, value, reason (Chinese)."""

    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "表头"
        return f"{where}「{self.column}」" + (f"（{self.value}）" if self.value else "") + f"：{self.reason}"


class SheetRejected(ValueError):
    """A sheet with errors: nothing of it is imported."""

    def __init__(self, errors: Sequence[SheetError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


def parse_sheet(headers: Sequence[str], rows: Iterable[tuple[int, Mapping[str, str]]],
                previous_of: Mapping[int, StandardTerms] | None = None) -> list[Draft]:
    """Versions from a sheet's rows (Excel row number, header → text), in file order.

    A blank term keeps the value of the version before it: the row above of the same year, else
    `previous_of[year]` (the newest stored version). Every error is collected; SheetRejected if any.
    """
    errors: list[SheetError] = []
    # A sheet read from a file has its headers folded to half-width (（ → (): match them so.
    canonical = {_header_key(header): header for header in SHEET_HEADERS}
    headers = [canonical.get(_header_key(header), header) for header in headers]
    rows = [(number, {canonical.get(_header_key(header), header): text for header, text in cells.items()})
            for number, cells in rows]
    missing = [header for header in REQUIRED_HEADERS if header not in headers]
    if missing:
        raise SheetRejected([SheetError(0, header, "", "缺少该列（请使用页面上的模板）") for header in missing])
    unknown = [header for header in headers if header and header not in _KEY_BY_HEADER]
    errors.extend(SheetError(0, header, "", "不是标准表的列") for header in unknown)
    drafts: list[Draft] = []
    latest: dict[int, StandardTerms] = dict(previous_of or {})
    for row_number, cells in rows:
        year_text = to_half_width(str(cells.get(YEAR_LABEL, ""))).strip()
        if not re.fullmatch(r"20\d\d", year_text):
            errors.append(SheetError(row_number, YEAR_LABEL, year_text, "应为四位年份，如 2026"))
            continue
        year = int(year_text)
        values = {_KEY_BY_HEADER[header]: text for header, text in cells.items() if header in _KEY_BY_HEADER}
        try:
            draft = parse_draft(values, year=year, previous=latest.get(year))
        except StandardInvalid as invalid:
            for label, reason in invalid.errors.items():
                errors.append(SheetError(row_number, label, str(cells.get(label, "")).strip(), reason))
            continue
        latest[year] = draft.terms
        drafts.append(draft)
    if not drafts and not errors:
        errors.append(SheetError(0, YEAR_LABEL, "", "文件中没有数据行"))
    if errors:
        raise SheetRejected(errors)
    return drafts


def _header_key(header: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header)))


# --- the subject's side of the poverty line --------------------------------------------------------

_URBAN_VILLAGE = ("社区", "居委会", "居民委员会")
_URBAN_TOWNSHIP = ("街道", "街道办事处")


def is_urban(township: str | None, village: str | None) -> bool:
    """Whether a subject is measured against the urban 低保标准: a 社区 (居委会) or a 街道 is
    urban, a 村 (村委会) and anything else rural (the register has no urban/rural flag)."""
    village = (village or "").strip()
    township = (township or "").strip()
    if village.endswith(_URBAN_VILLAGE):
        return True
    if village.endswith(("村", "村委会", "村民委员会")):
        return False
    return township.endswith(_URBAN_TOWNSHIP)


def with_days(terms: StandardTerms, holidays: Iterable[date], working_days: Iterable[date]) -> StandardTerms:
    """The terms with another calendar (a seed or a test builds versions this way)."""
    return replace(terms, holidays=tuple(sorted(holidays)), working_days=tuple(sorted(working_days)))


def _as_date(day: date | str) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


# --- care allowances month by month ---------------------------------------------------------------


def month_ends(year: int) -> list[date]:
    """The last day of each month of `year`."""
    return [(date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)) for month in range(1, 13)]


def conclusion_on(assessments: Sequence[tuple[date, str]], day: date) -> str | None:
    """The 评估结论 in force on `day`: the latest assessment made on or before it (assessments by date)."""
    found = None
    for made_on, conclusion in assessments:
        if made_on > day:
            break
        found = conclusion
    return found


@dataclass(frozen=True)
class MonthAllowance:
    """One person's month: the care tier in force at the month's end and its allowance then."""

    month: int
    tier: str | None
    allowance_fen: int | None


def monthly_allowances(assessments: Sequence[tuple[date, str]], year: int,
                       terms_at: Mapping[date, StandardTerms | None]) -> list[MonthAllowance]:
    """Each month of `year`: the tier of the latest assessment by the month's last day and the
    allowance of that tier in the standard in force that day (`terms_at[month end]`)."""
    ordered = sorted(assessments)
    months = []
    for month, end in enumerate(month_ends(year), start=1):
        conclusion = conclusion_on(ordered, end)
        tier = TIER_BY_CONCLUSION.get(conclusion or "")
        terms = terms_at.get(end)
        months.append(MonthAllowance(month, tier, terms.allowance_for_tier(tier) if terms and tier else None))
    return months
