"""Field-by-field comparison of a spot check against the contractor's record (SPEC section 5).

Money is integer fen. Amounts match when the re-checked value differs from the reported one by
at most the larger of 10 % of the reported value and 50000 fen (500 yuan):
|rechecked − reported| ≤ max(|reported| // 10, 50000). Rounding 10 % down to the fen changes
nothing, as differences are whole fen: it is the exact test |difference| ≤ |reported| / 10.

A record fails when any critical field differs or more than one other field differs. Keys absent
(or None) on either side are not compared, and the field says so; keys a service type does not
know are ignored, so whole records may be passed in.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from oversight.domain import self_care
from oversight.domain.money import format_yuan
from oversight.domain.scoring import round_half_up, to_decimal
from oversight.domain.statistics import wilson_interval
from oversight.domain.vocabulary import ServiceType, WorkerFlag

HOUSEHOLD_SURVEY = ServiceType.HOUSEHOLD_SURVEY
SELF_CARE_ASSESSMENT = ServiceType.SELF_CARE_ASSESSMENT
CARE_VISIT = ServiceType.CARE_VISIT

MONEY_TOLERANCE_FLOOR_FEN = 50000

DEFAULT_RECHECK_MIN_CHECKS = 5

RETRAIN = WorkerFlag.RETRAIN
RECHECK = WorkerFlag.RECHECK

CONCLUSION_KEY = "conclusion"


class ComparisonError(ValueError):
    """A comparison input is invalid; `str(error)` is the reason in Chinese."""


class NothingToCompare(ComparisonError):
    """No field is present on both sides."""


@dataclass(frozen=True)
class FieldComparison:
    """One field on both sides; `matches` is None when the field was not compared."""

    key: str
    label: str
    reported: object
    rechecked: object
    matches: bool | None
    critical: bool
    note: str

    @property
    def compared(self) -> bool:
        """Whether both sides had a value."""
        return self.matches is not None

    @property
    def differs(self) -> bool:
        """Whether the field was compared and found different."""
        return self.matches is False

    def as_dict(self) -> dict:
        """A JSON-ready form; sets become sorted lists."""
        return {
            "key": self.key,
            "label": self.label,
            "reported": _json_value(self.reported),
            "rechecked": _json_value(self.rechecked),
            "matches": self.matches,
            "critical": self.critical,
            "note": self.note,
        }


def _json_value(value: object) -> object:
    return sorted(value) if isinstance(value, frozenset) else value


@dataclass(frozen=True)
class ErrorCount:
    """Differing and compared fields, the two counts behind an error rate."""

    differing: int
    compared: int

    def __post_init__(self) -> None:
        if not 0 <= self.differing <= self.compared:
            raise ComparisonError(f"不一致字段数（{self.differing}）应在0到比对字段数（{self.compared}）之间")

    @property
    def rate(self) -> Decimal | None:
        """differing / compared to 4 decimals for display (None when nothing was compared)."""
        return round_half_up(Fraction(self.differing, self.compared), 4) if self.compared else None

    def exceeds(self, threshold: Decimal) -> bool:
        """Whether the exact rate is strictly above the threshold."""
        return self.compared > 0 and Fraction(self.differing, self.compared) > Fraction(threshold)

    def __add__(self, other: ErrorCount) -> ErrorCount:
        return ErrorCount(self.differing + other.differing, self.compared + other.compared)


@dataclass(frozen=True)
class Comparison:
    """The comparison of one record: every field, the counts and the verdict."""

    service_type: str
    fields: tuple[FieldComparison, ...]

    @property
    def compared(self) -> int:
        """Number of fields present on both sides."""
        return sum(1 for item in self.fields if item.compared)

    @property
    def differing(self) -> int:
        """Number of compared fields that differ."""
        return sum(1 for item in self.fields if item.differs)

    @property
    def counts(self) -> ErrorCount:
        """The counts, ready to add up over records."""
        return ErrorCount(self.differing, self.compared)

    @property
    def error_rate(self) -> Decimal | None:
        """Field error rate = differing / compared, to 4 decimals."""
        return self.counts.rate

    @property
    def critical_differences(self) -> tuple[FieldComparison, ...]:
        """Critical fields that differ."""
        return tuple(item for item in self.fields if item.critical and item.differs)

    @property
    def other_differences(self) -> tuple[FieldComparison, ...]:
        """Non-critical fields that differ."""
        return tuple(item for item in self.fields if not item.critical and item.differs)

    @property
    def passed(self) -> bool:
        """Fails when a critical field differs or more than one other field differs."""
        return not self.critical_differences and len(self.other_differences) <= 1

    @property
    def reason(self) -> str:
        """The verdict and why, in Chinese."""
        if self.passed:
            return "合格"
        reasons = []
        if self.critical_differences:
            labels = "、".join(item.label for item in self.critical_differences)
            reasons.append(f"关键字段不一致（{labels}）")
        if len(self.other_differences) > 1:
            labels = "、".join(item.label for item in self.other_differences)
            reasons.append(f"{len(self.other_differences)}个非关键字段不一致（{labels}）")
        return "不合格：" + "；".join(reasons)

    def as_dict(self) -> dict:
        """A JSON-ready form of the whole comparison."""
        return {
            "service_type": self.service_type,
            "fields": [item.as_dict() for item in self.fields],
            "compared": self.compared,
            "differing": self.differing,
            "error_rate": None if self.error_rate is None else str(self.error_rate),
            "passed": self.passed,
            "reason": self.reason,
        }


def money_tolerance_fen(reported_fen: int) -> int:
    """The allowed difference in whole fen: the larger of 10 % of the reported amount and 500 yuan."""
    return max(abs(reported_fen) // 10, MONEY_TOLERANCE_FLOOR_FEN)


def _int(value: object, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ComparisonError(f"{label}应为整数，实际为“{value!r}”")
    return value


def _bool(value: object, label: str) -> bool:
    if not isinstance(value, bool):
        raise ComparisonError(f"{label}应为是或否，实际为“{value!r}”")
    return value


def _text(value: object, label: str) -> str:
    if not isinstance(value, str):
        raise ComparisonError(f"{label}应为文字，实际为“{value!r}”")
    return value


def _names(value: object, label: str) -> frozenset[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ComparisonError(f"{label}应为项目名称的集合，实际为“{value!r}”")
    names = frozenset(value)
    if not all(isinstance(name, str) for name in names):
        raise ComparisonError(f"{label}中的项目名称应为文字")
    return names


def _equal(reported: object, rechecked: object) -> tuple[bool, str]:
    return reported == rechecked, "须完全一致"


def _within_tolerance(reported: int, rechecked: int) -> tuple[bool, str]:
    tolerance = money_tolerance_fen(reported)
    difference = abs(rechecked - reported)
    note = (
        f"允许误差±{format_yuan(tolerance)}元（以上报值为基准，10%与500元取较大者），"
        f"实际相差{format_yuan(difference)}元"
    )
    return difference <= tolerance, note


def _same_names(reported: frozenset[str], rechecked: frozenset[str]) -> tuple[bool, str]:
    parts = ["须完全一致"]
    if reported - rechecked:
        parts.append(f"复核未见：{'、'.join(sorted(reported - rechecked))}")
    if rechecked - reported:
        parts.append(f"复核多出：{'、'.join(sorted(rechecked - reported))}")
    return reported == rechecked, "；".join(parts)


@dataclass(frozen=True)
class _Field:
    key: str
    label: str
    convert: Callable[[object, str], object]
    match: Callable[[object, object], tuple[bool, str]] = _equal
    critical: bool = False


_FIELDS: dict[str, tuple[_Field, ...]] = {
    HOUSEHOLD_SURVEY: (
        _Field("household_size", "家庭人口数", _int),
        _Field("annual_income_fen", "家庭年收入", _int, _within_tolerance),
        _Field("financial_assets_fen", "家庭金融资产", _int, _within_tolerance),
        _Field("survey_conclusion", "调查结论", _text, critical=True),
    ),
    SELF_CARE_ASSESSMENT: tuple(_Field(key, label, _bool) for key, label in self_care.ITEMS),
    CARE_VISIT: (
        _Field("visit_happened", "服务是否发生", _bool, critical=True),
        _Field("care_items", "服务项目", _names, _same_names),
    ),
}


def _present(side: Mapping, spec: _Field) -> object:
    value = side.get(spec.key)
    return None if value is None else spec.convert(value, spec.label)


def _pair(spec: _Field, reported: object, rechecked: object, missing: str = "") -> FieldComparison:
    if reported is None or rechecked is None:
        if missing:
            note = missing
        elif reported is None and rechecked is None:
            note = "双方均无此项，未比对"
        elif reported is None:
            note = "上报记录无此项，未比对"
        else:
            note = "复核未记录此项，未比对"
        return FieldComparison(spec.key, spec.label, reported, rechecked, None, spec.critical, note)
    matches, note = spec.match(reported, rechecked)
    return FieldComparison(spec.key, spec.label, reported, rechecked, matches, spec.critical, note)


def _computed_equal(reported: object, rechecked: object) -> tuple[bool, str]:
    return reported == rechecked, "由六项结果计算，须完全一致"


_SELF_CARE_CONCLUSION = _Field(CONCLUSION_KEY, "评估结论", _text, _computed_equal, critical=True)


def _computed_conclusion(items: tuple[FieldComparison, ...], side: str) -> str | None:
    values = {item.key: getattr(item, side) for item in items}
    return None if None in values.values() else self_care.assess(values).conclusion


def _self_care_conclusion(items: tuple[FieldComparison, ...]) -> FieldComparison:
    """The conclusion computed from each side's six items (a stated conclusion is not used)."""
    reported, rechecked = (_computed_conclusion(items, side) for side in ("reported", "rechecked"))
    return _pair(_SELF_CARE_CONCLUSION, reported, rechecked, missing="六项未全部记录，无法计算结论，未比对")


def compare_record(service_type: str, reported: Mapping, rechecked: Mapping) -> Comparison:
    """Compare the contractor's reported values with the supervisor's re-checked ones."""
    if service_type not in _FIELDS:
        raise ComparisonError(f"未知的服务类型：“{service_type}”")
    fields = tuple(
        _pair(spec, _present(reported, spec), _present(rechecked, spec)) for spec in _FIELDS[service_type]
    )
    if service_type == SELF_CARE_ASSESSMENT:
        fields += (_self_care_conclusion(fields),)
    comparison = Comparison(service_type, fields)
    if comparison.compared == 0:
        raise NothingToCompare("上报记录与复核结果没有可比对的字段")
    return comparison


def tally(comparisons: Iterable[Comparison]) -> ErrorCount:
    """Add up the counts of many comparisons (per contract or per worker)."""
    return sum((comparison.counts for comparison in comparisons), ErrorCount(0, 0))


def tally_by_field(comparisons: Iterable[Comparison]) -> dict[str, ErrorCount]:
    """Counts per field key over many comparisons (each compared field counts once)."""
    counts: dict[str, ErrorCount] = {}
    for comparison in comparisons:
        for item in comparison.fields:
            if item.compared:
                counts[item.key] = counts.get(item.key, ErrorCount(0, 0)) + ErrorCount(int(item.differs), 1)
    return counts


def recheck_warranted(counts: ErrorCount, checks: int, threshold: Decimal,
                      min_checks: int = DEFAULT_RECHECK_MIN_CHECKS) -> bool:
    """Whether an error rate above the re-check threshold is evidence enough for a targeted re-check.

    A few records prove little (one bad visit of two is 50 %): the rate must pass the threshold over
    at least `min_checks` checked records, or else the lower bound of its 95 % Wilson interval must
    pass it on its own.
    """
    if not counts.exceeds(threshold):
        return False
    if checks >= min_checks:
        return True
    low, _ = wilson_interval(counts.differing, counts.compared)
    return low > float(threshold)


def worker_flags(
    error_rates: Mapping[str, ErrorCount | tuple[int, int]],
    retrain_threshold: Decimal = Decimal("0.10"),
    recheck_threshold: Decimal = Decimal("0.30"),
    *,
    checks: Mapping[str, int],
    min_checks: int = DEFAULT_RECHECK_MIN_CHECKS,
) -> dict[str, str]:
    """Flag workers whose error rate is above a threshold: RECHECK above the higher when
    `recheck_warranted` by the worker's number of checked records (`checks`), else RETRAIN.

    Takes (differing, compared) per worker; only flagged workers are returned, in input order.
    """
    retrain = to_decimal(retrain_threshold, "retrain_threshold")
    recheck = to_decimal(recheck_threshold, "recheck_threshold")
    if not 0 <= retrain <= recheck <= 1:
        raise ComparisonError("阈值应满足 0 ≤ 再培训阈值 ≤ 定向复查阈值 ≤ 1")
    if isinstance(min_checks, bool) or not isinstance(min_checks, int) or min_checks < 1:
        raise ComparisonError(f"定向复查最少复检记录数应为正整数，收到 {min_checks!r}")
    flags = {}
    for worker, counts in error_rates.items():
        counts = counts if isinstance(counts, ErrorCount) else ErrorCount(*counts)
        if recheck_warranted(counts, checks.get(worker, 0), recheck, min_checks):
            flags[worker] = RECHECK
        elif counts.exceeds(retrain):
            flags[worker] = RETRAIN
    return flags
