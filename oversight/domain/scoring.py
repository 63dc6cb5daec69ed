"""KPI scoring of a contract's quarter (SPEC section 6).

Conventions:
- An indicator's value is a rate, a fraction between 0 and 1 (98 % is Decimal("0.98")), taken
  from `Evidence` as numerator / denominator — or, where the evidence carries a design-based
  `estimate` (spot-check pass and field accuracy from draws whose strata were sampled at
  different rates, `oversight.domain.estimates`), that exact fraction; numerator and denominator
  then stay the raw counts shown beside it. Field accuracy is 1 − field error rate and is given
  as numerator = fields that matched (compared − differing), denominator = fields compared; see
  `Evidence.for_field_accuracy`.
- Achievement is linear between `zero_at` (0) and `full_at` (1), clamped to [0, 1], and computed
  exactly (fractions), never through float.
- An indicator without data (denominator 0, not `full_when_empty`) scores nothing and its weight
  is re-spread over the indicators with data in proportion to their weights. The effective
  weights are apportioned to 2 decimals by largest remainder (ties to the earlier indicator), so
  they add up to exactly 100 and every score shown can be recomputed from the figures shown.
- Each indicator's score = effective weight × achievement, rounded once to 2 decimals
  ROUND_HALF_UP. The total is the sum of those rounded scores plus the manual items, so the
  column adds up; it is then clamped to [0, 100] (`raw_total` keeps the unclamped sum).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

EXCELLENT = "优秀"
GOOD = "良好"
PASSING = "合格"
FAILING = "不合格"

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class ScoringError(ValueError):
    """A scoring input is invalid; `str(error)` is the reason in Chinese."""


class SchemeError(ScoringError):
    """A KPI scheme is invalid; `problems` lists every reason in Chinese."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("；".join(self.problems))


class EvidenceError(ScoringError):
    """Evidence for an indicator is inconsistent."""


class NothingToScore(ScoringError):
    """No indicator has data, so the quarter cannot be scored."""


def round_half_up(value: Fraction | Decimal | int, places: int = 2) -> Decimal:
    """Round exactly to `places` decimals, halves away from zero."""
    scaled = Fraction(value) * 10**places
    units = math.floor(abs(scaled) + Fraction(1, 2))
    return Decimal(units if scaled >= 0 else -units).scaleb(-places)


def apportion(shares: Sequence[Fraction], places: int = 2) -> tuple[Decimal, ...]:
    """Round non-negative shares to `places` decimals keeping their (rounded) sum, by largest remainder."""
    unit = Fraction(1, 10**places)
    floors = [math.floor(share / unit) for share in shares]
    target = math.floor(sum(shares, Fraction(0)) / unit + Fraction(1, 2))
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] / unit - floors[i]), i))
    for i in by_remainder[: max(0, target - sum(floors))]:
        floors[i] += 1
    return tuple(Decimal(units).scaleb(-places) for units in floors)


def to_decimal(value: Decimal | int | str, what: str) -> Decimal:
    """Decimal from a Decimal, int or numeric string; floats are refused to keep values exact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except ArithmeticError:
            raise ScoringError(f"{what}不是有效数字：“{value}”") from None
    else:
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise ScoringError(f"{what}不是有效数字：“{value}”")
    return result


@dataclass(frozen=True)
class Band:
    """A rating and the lowest total that earns it."""

    rating: str
    minimum: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "minimum", to_decimal(self.minimum, "band minimum"))


DEFAULT_BANDS: tuple[Band, ...] = (
    Band(EXCELLENT, Decimal(90)),
    Band(GOOD, Decimal(80)),
    Band(PASSING, Decimal(60)),
    Band(FAILING, Decimal(0)),
)


def band_problems(bands: Sequence[Band]) -> list[str]:
    """Reasons, in Chinese, why a list of bands is unusable (empty when it is fine)."""
    if not bands:
        return ["评级档次不能为空"]
    problems = []
    ratings = [band.rating.strip() for band in bands]
    if any(not rating for rating in ratings):
        problems.append("评级名称不能为空")
    if len(set(ratings)) != len(ratings):
        problems.append("评级名称不能重复")
    minimums = [band.minimum for band in bands]
    if any(later >= earlier for earlier, later in zip(minimums, minimums[1:])):
        problems.append("评级分数线应从高到低严格递减")
    if any(not ZERO <= minimum <= HUNDRED for minimum in minimums):
        problems.append("评级分数线应在0到100之间")
    if minimums[-1] != ZERO:
        problems.append("最低一档的分数线应为0")
    return problems


def rating_for(total: Decimal, bands: Sequence[Band] = DEFAULT_BANDS) -> str:
    """The first band whose minimum the total reaches; the last band takes anything lower."""
    for band in bands:
        if total >= band.minimum:
            return band.rating
    return bands[-1].rating


@dataclass(frozen=True)
class Indicator:
    """One KPI: its weight in points and the rates at which it scores full marks and zero."""

    key: str
    name: str
    weight: Decimal
    full_at: Decimal
    zero_at: Decimal
    full_when_empty: bool = False

    def __post_init__(self) -> None:
        for attribute in ("weight", "full_at", "zero_at"):
            object.__setattr__(self, attribute, to_decimal(getattr(self, attribute), attribute))

    def problems(self) -> list[str]:
        """Reasons, in Chinese, why this indicator is unusable (empty when it is fine)."""
        label = self.name.strip() or self.key
        problems = []
        if not self.key.isidentifier():
            problems.append(f"指标代码“{self.key}”只能由字母、数字和下划线组成")
        if not self.name.strip():
            problems.append(f"指标“{self.key}”缺少名称")
        if self.weight <= ZERO:
            problems.append(f"指标“{label}”的权重应大于0")
        if not (ZERO <= self.zero_at <= 1 and ZERO <= self.full_at <= 1):
            problems.append(f"指标“{label}”的满分线和零分线应在0到1之间（百分比写作小数）")
        if self.full_at <= self.zero_at:
            problems.append(f"指标“{label}”的满分线应高于零分线")
        return problems

    def achievement(self, numerator: int, denominator: int) -> Fraction:
        """Share of the weight earned at rate numerator/denominator: linear, clamped to [0, 1]."""
        return self.achievement_at(Fraction(numerator, denominator))

    def achievement_at(self, value: Fraction) -> Fraction:
        """Share of the weight earned at an exact rate: linear, clamped to [0, 1]."""
        share = (value - Fraction(self.zero_at)) / (Fraction(self.full_at) - Fraction(self.zero_at))
        return min(Fraction(1), max(Fraction(0), share))


@dataclass(frozen=True)
class Scheme:
    """A versioned KPI scheme: indicators whose weights add up to 100, and rating bands."""

    code: str
    version: int
    name: str
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...] = DEFAULT_BANDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicators", tuple(self.indicators))
        object.__setattr__(self, "bands", tuple(self.bands))
        problems = []
        if not self.code.strip():
            problems.append("方案代码不能为空")
        if not self.name.strip():
            problems.append("方案名称不能为空")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            problems.append("方案版本号应为正整数")
        if not self.indicators:
            problems.append("方案至少需要一个指标")
        keys = [indicator.key for indicator in self.indicators]
        duplicated = sorted({key for key in keys if keys.count(key) > 1})
        if duplicated:
            problems.append(f"指标代码重复：{'、'.join(duplicated)}")
        for indicator in self.indicators:
            problems.extend(indicator.problems())
        total_weight = sum((indicator.weight for indicator in self.indicators), ZERO)
        if self.indicators and total_weight != HUNDRED:
            problems.append(f"各指标权重合计应为100，实际为{total_weight}")
        problems.extend(band_problems(self.bands))
        if problems:
            raise SchemeError(problems)

    @property
    def keys(self) -> tuple[str, ...]:
        """The indicator keys, in scheme order."""
        return tuple(indicator.key for indicator in self.indicators)

    def as_dict(self) -> dict:
        """A JSON-ready form; decimals are written as strings."""
        return {
            "code": self.code,
            "version": self.version,
            "name": self.name,
            "indicators": [
                {
                    "key": indicator.key,
                    "name": indicator.name,
                    "weight": str(indicator.weight),
                    "full_at": str(indicator.full_at),
                    "zero_at": str(indicator.zero_at),
                    "full_when_empty": indicator.full_when_empty,
                }
                for indicator in self.indicators
            ],
            "bands": [{"rating": band.rating, "minimum": str(band.minimum)} for band in self.bands],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Scheme:
        """The inverse of `as_dict`; validates like the constructor."""
        return cls(
            code=data["code"],
            version=data["version"],
            name=data["name"],
            indicators=tuple(Indicator(**item) for item in data["indicators"]),
            bands=tuple(Band(**item) for item in data.get("bands", ())) or DEFAULT_BANDS,
        )


DEFAULT_SCHEME = Scheme(
    code="default",
    version=1,
    name="默认考核方案",
    indicators=(
        Indicator("completion", "任务完成率", Decimal(25), Decimal("0.98"), Decimal("0.80")),
        Indicator("timeliness", "按时完成率", Decimal(10), Decimal("0.95"), Decimal("0.70")),
        Indicator("spot_check_pass", "抽查合格率", Decimal(25), Decimal("0.95"), Decimal("0.70")),
        Indicator("field_accuracy", "数据准确率", Decimal(10), Decimal("0.98"), Decimal("0.85")),
        Indicator("satisfaction", "回访满意率", Decimal(15), Decimal("0.95"), Decimal("0.70")),
        Indicator("authenticity", "服务真实率", Decimal(10), Decimal("1.00"), Decimal("0.90")),
        Indicator(
            "rectification", "整改按时率", Decimal(5), Decimal("1.00"), Decimal("0.50"), full_when_empty=True
        ),
    ),
)

# Indicators a scheme may weight that the default scheme does not: offered on the scheme form
# (unticked, with these figures) and scored only by a scheme that includes them, so existing
# schemes' scores and fingerprints are unchanged by their existence.
OPTIONAL_INDICATORS: tuple[Indicator, ...] = (
    # 按时复评率 (issue 14): re-assessments on a reported change done within their 10 working days.
    Indicator("reassessment_on_time", "按时复评率", Decimal(5), Decimal("1.00"), Decimal("0.80")),
    # 移动端记录占比 (issue 12): completed assignments of the quarter whose visit was recorded in the app.
    Indicator("app_share", "移动端记录占比", Decimal(5), Decimal("0.90"), Decimal("0.50")),
)


def non_negative_int(value: object, what: str, error: type[ScoringError] = ScoringError) -> int:
    """The value if it is an int ≥ 0; TypeError for other types, `error` for negatives."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise error(f"{what}不能为负数")
    return value


@dataclass(frozen=True)
class Evidence:
    """The counts behind one indicator and the ids of the records they come from; `estimate`,
    when given, is the exact design-based rate that scores instead of numerator / denominator."""

    key: str
    numerator: int
    denominator: int
    record_ids: tuple[int, ...] = ()
    estimate: Fraction | None = None

    def __post_init__(self) -> None:
        non_negative_int(self.numerator, f"指标“{self.key}”的分子", EvidenceError)
        non_negative_int(self.denominator, f"指标“{self.key}”的分母", EvidenceError)
        if self.numerator > self.denominator:
            raise EvidenceError(f"指标“{self.key}”的分子（{self.numerator}）大于分母（{self.denominator}）")
        object.__setattr__(self, "record_ids", tuple(self.record_ids))
        if self.estimate is not None:
            if isinstance(self.estimate, (bool, float)) or not isinstance(self.estimate, (Fraction, int)):
                raise TypeError(f"estimate must be a Fraction, not {type(self.estimate).__name__}")
            if not self.denominator:
                raise EvidenceError(f"指标“{self.key}”没有样本，不能有加权估计")
            if not 0 <= self.estimate <= 1:
                raise EvidenceError(f"指标“{self.key}”的加权估计（{self.estimate}）应在0到1之间")
            object.__setattr__(self, "estimate", Fraction(self.estimate))

    @property
    def rate(self) -> Fraction | None:
        """What the indicator scores on: the estimate if any, else numerator / denominator (None without data)."""
        if self.estimate is not None:
            return self.estimate
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @classmethod
    def for_field_accuracy(
        cls, differing: int, compared: int, record_ids: Iterable[int] = (), key: str = "field_accuracy",
        estimate: Fraction | None = None,
    ) -> Evidence:
        """Field accuracy (1 − error rate) as matching fields / compared fields (`estimate`: of that share)."""
        non_negative_int(differing, "不一致字段数", EvidenceError)
        non_negative_int(compared, "比对字段数", EvidenceError)
        if differing > compared:
            raise EvidenceError(f"不一致字段数（{differing}）大于比对字段数（{compared}）")
        return cls(key, compared - differing, compared, tuple(record_ids), estimate)


@dataclass(frozen=True)
class ManualItem:
    """Points the supervisor adds (positive) or deducts (negative), with the written reason."""

    points: Decimal
    reason: str

    def __post_init__(self) -> None:
        points = to_decimal(self.points, "points")
        if points != round_half_up(points):
            raise ScoringError(f"加减分最多保留两位小数，实际为{points}")
        if not -HUNDRED <= points <= HUNDRED:
            raise ScoringError(f"加减分应在-100到100之间，实际为{points}")
        if not str(self.reason).strip():
            raise ScoringError("加减分必须写明理由")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "reason", str(self.reason).strip())


def manual_total(items: Iterable[ManualItem]) -> Decimal:
    """The signed sum of manual items' points."""
    return sum((item.points for item in items), Decimal("0.00"))


def clamp_total(total: Decimal) -> Decimal:
    """Clamp a total to [0, 100]."""
    return min(HUNDRED, max(Decimal("0.00"), total))


@dataclass(frozen=True)
class IndicatorScore:
    """One indicator's result, with the figures behind it."""

    key: str
    name: str
    value: Decimal | None
    numerator: int
    denominator: int
    weight: Decimal
    effective_weight: Decimal
    score: Decimal
    no_data: bool
    record_ids: tuple[int, ...] = ()
    note: str = ""
    estimated: bool = False  # value is the design-based estimate, numerator / denominator the raw counts


@dataclass(frozen=True)
class QuarterScore:
    """A quarter's scores: indicators, manual items, total and rating."""

    scheme_code: str
    scheme_version: int
    indicators: tuple[IndicatorScore, ...]
    manual_items: tuple[ManualItem, ...]
    manual_total: Decimal
    indicator_total: Decimal
    raw_total: Decimal
    total: Decimal
    rating: str
    no_data_keys: tuple[str, ...] = ()

    def indicator(self, key: str) -> IndicatorScore:
        """The result of one indicator by key."""
        for result in self.indicators:
            if result.key == key:
                return result
        raise KeyError(key)


def _evidence_by_key(scheme: Scheme, evidence: Mapping[str, Evidence]) -> dict[str, Evidence]:
    unknown = sorted(set(evidence) - set(scheme.keys))
    if unknown:
        raise EvidenceError(f"考核方案中没有这些指标：{'、'.join(unknown)}")
    for key, item in evidence.items():
        if item.key != key:
            raise EvidenceError(f"指标“{key}”下的数据属于“{item.key}”")
    return {key: evidence.get(key, Evidence(key, 0, 0)) for key in scheme.keys}


def effective_weights(indicators: Sequence[Indicator], counted: Sequence[bool]) -> tuple[Decimal, ...]:
    """Nominal weights re-spread over the counted indicators: to 2 decimals, adding up to 100."""
    base = sum(Fraction(ind.weight) for ind, ok in zip(indicators, counted) if ok)
    return apportion(
        [Fraction(ind.weight) * 100 / base if ok else Fraction(0) for ind, ok in zip(indicators, counted)]
    )


def _indicator_score(indicator: Indicator, item: Evidence, counted: bool, weight: Decimal) -> IndicatorScore:
    if item.denominator:
        achieved, note = indicator.achievement_at(item.rate), ""
    elif counted:
        achieved, note = Fraction(1), "本季度无此类事项，按满分计"
    else:
        achieved, note = Fraction(0), "本季度无数据，权重已按比例分摊至其他指标"
    return IndicatorScore(
        key=indicator.key,
        name=indicator.name,
        value=round_half_up(item.rate, 4) if item.denominator else None,
        numerator=item.numerator,
        denominator=item.denominator,
        weight=indicator.weight,
        effective_weight=weight,
        score=round_half_up(Fraction(weight) * achieved),
        no_data=not counted,
        record_ids=item.record_ids,
        note=note,
        estimated=item.estimate is not None,
    )


def score_quarter(
    scheme: Scheme, evidence: Mapping[str, Evidence], manual_items: Iterable[ManualItem] = ()
) -> QuarterScore:
    """Score a quarter from the evidence per indicator key (a missing key means no data)."""
    by_key = _evidence_by_key(scheme, evidence)
    if not any(item.denominator for item in by_key.values()):
        # Without this, rectification's full marks for "no notices" would make an empty quarter 100.
        raise NothingToScore("本季度各项指标均无数据，无法评分")
    counted = [by_key[ind.key].denominator > 0 or ind.full_when_empty for ind in scheme.indicators]
    weights = effective_weights(scheme.indicators, counted)
    results = tuple(
        _indicator_score(ind, by_key[ind.key], ok, weight)
        for ind, ok, weight in zip(scheme.indicators, counted, weights)
    )
    items = tuple(manual_items)
    indicator_total = sum((result.score for result in results), Decimal("0.00"))
    raw_total = indicator_total + manual_total(items)
    total = clamp_total(raw_total)
    return QuarterScore(
        scheme_code=scheme.code,
        scheme_version=scheme.version,
        indicators=results,
        manual_items=items,
        manual_total=manual_total(items),
        indicator_total=indicator_total,
        raw_total=raw_total,
        total=total,
        rating=rating_for(total, scheme.bands),
        no_data_keys=tuple(result.key for result in results if result.no_data),
    )


def consecutive_below(
    totals_in_quarter_order: Iterable[Decimal | None], threshold: Decimal = Decimal(80), run: int = 2
) -> bool:
    """Whether `run` consecutive totals are strictly below the threshold; None (unscored) breaks a run."""
    if run < 1:
        raise ValueError("run must be at least 1")
    streak = 0
    for total in totals_in_quarter_order:
        streak = streak + 1 if total is not None and total < threshold else 0
        if streak >= run:
            return True
    return False
