"""The stored figures of a quarterly review and of an annual evaluation, as typed values.

A review's figures are everything its page, sheet, charts and disclosures show: per indicator the
counts, weights and score, the ids of the records behind them and, where it scored on one, its
design-based estimate (`Estimate`); the manual items; the totals; for a running quarter's preview
(never stored) what it is and the day it counts to (`Preview`).
An evaluation's figures are its quarters and their weights, the annual items, the score and the
payment. Both are stored as JSON (`to_json`, decimals written as strings, exactly as rows stored
before these classes existed) and read back with `from_json`, which accepts those rows as they
are: keys a reader does not know are kept and written back unchanged, and keys that older rows
may lack take their empty value.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .scoring import IndicatorScore, ManualItem, QuarterScore


class FiguresError(ValueError):
    """Stored figures are not in a shape these classes read."""


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float) or value is None:
        raise FiguresError(f"{what}: expected a decimal string, got {value!r}")
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise FiguresError(f"{what}: expected a decimal string, got {value!r}") from None
    if not result.is_finite():
        raise FiguresError(f"{what}: expected a finite decimal, got {value!r}")
    return result


def _optional_decimal(value: Any, what: str) -> Decimal | None:
    return None if value is None or value == "" else _decimal(value, what)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FiguresError(f"{what}: expected an integer, got {value!r}")
    return value


def _ints(values: Iterable[Any], what: str) -> tuple[int, ...]:
    """A list of integers (a review's record ids: thousands), checked by their types at once."""
    values = tuple(values)
    if not set(map(type, values)) <= {int}:
        for value in values:
            _int(value, what)
    return values


def _required(data: Mapping, key: str, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise FiguresError(f"{where}: expected an object, got {type(data).__name__}")
    if key not in data:
        raise FiguresError(f"{where}: “{key}” is missing")
    return data[key]


def _extra(data: Mapping, known: Iterable[str]) -> dict:
    known = set(known)
    return {key: value for key, value in data.items() if key not in known}


@dataclass(frozen=True)
class SchemeRef:
    """The KPI scheme version a review or evaluation was computed with."""

    code: str
    version: int
    name: str

    def to_json(self) -> dict:
        return {"code": self.code, "version": self.version, "name": self.name}

    @classmethod
    def from_json(cls, data: Mapping) -> SchemeRef:
        return cls(code=str(_required(data, "code", "scheme")),
                   version=_int(_required(data, "version", "scheme"), "scheme.version"),
                   name=str(_required(data, "name", "scheme")))


@dataclass(frozen=True)
class Share:
    """A raw count k/n (successes over trials) beside an estimate."""

    numerator: int
    denominator: int

    def to_json(self) -> dict:
        return {"numerator": self.numerator, "denominator": self.denominator}

    @classmethod
    def from_json(cls, data: Mapping | None, what: str = "share") -> Share:
        data = data or {}
        return cls(numerator=_int(data.get("numerator", 0), f"{what}.numerator"),
                   denominator=_int(data.get("denominator", 0), f"{what}.denominator"))

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None


def _fraction(value: Any, what: str) -> Fraction | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FiguresError(f"{what}: expected a fraction “p/q”, got {value!r}")
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise FiguresError(f"{what}: expected a fraction “p/q”, got {value!r}") from None


@dataclass(frozen=True)
class Estimate:
    """The design-based estimate an indicator scored on, as stored (`DesignEstimate.as_dict`).

    `exact` is the estimate as an exact fraction (None: no random stratum had a check); value,
    standard error, interval bounds and effective size are the rounded decimals shown; `census`
    when every stratum was checked in full (no sampling error); `sample` the raw k/n over the
    estimated strata and `targeted` the targeted strata's own k/n, outside the estimate.
    """

    exact: Fraction | None
    value: Decimal | None
    standard_error: Decimal | None
    low: Decimal | None
    high: Decimal | None
    effective_size: Decimal | None
    census: bool
    confidence: Decimal
    sample: Share
    targeted: Share
    population: int
    unchecked_population: int
    unequal: bool
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    _KEYS = ("exact", "value", "standard_error", "low", "high", "effective_size", "census", "confidence", "sample",
             "targeted", "population", "unchecked_population", "unequal")

    @property
    def has_data(self) -> bool:
        return self.exact is not None

    def to_json(self) -> dict:
        def text(number: Decimal | None) -> str | None:
            return None if number is None else str(number)

        return {
            **self.extra,
            "exact": None if self.exact is None else str(self.exact),
            "value": text(self.value),
            "standard_error": text(self.standard_error),
            "low": text(self.low),
            "high": text(self.high),
            "effective_size": text(self.effective_size),
            "census": self.census,
            "confidence": str(self.confidence),
            "sample": self.sample.to_json(),
            "targeted": self.targeted.to_json(),
            "population": self.population,
            "unchecked_population": self.unchecked_population,
            "unequal": self.unequal,
        }

    @classmethod
    def from_json(cls, data: Mapping, what: str = "estimate") -> Estimate:
        if not isinstance(data, Mapping):
            raise FiguresError(f"{what}: expected an object, got {type(data).__name__}")
        return cls(
            exact=_fraction(data.get("exact"), f"{what}.exact"),
            value=_optional_decimal(data.get("value"), f"{what}.value"),
            standard_error=_optional_decimal(data.get("standard_error"), f"{what}.standard_error"),
            low=_optional_decimal(data.get("low"), f"{what}.low"),
            high=_optional_decimal(data.get("high"), f"{what}.high"),
            effective_size=_optional_decimal(data.get("effective_size"), f"{what}.effective_size"),
            census=bool(data.get("census", False)),
            confidence=_decimal(data.get("confidence", "0.95"), f"{what}.confidence"),
            sample=Share.from_json(data.get("sample"), f"{what}.sample"),
            targeted=Share.from_json(data.get("targeted"), f"{what}.targeted"),
            population=_int(data.get("population", 0), f"{what}.population"),
            unchecked_population=_int(data.get("unchecked_population", 0), f"{what}.unchecked_population"),
            unequal=bool(data.get("unequal", False)),
            extra=_extra(data, cls._KEYS),
        )


@dataclass(frozen=True)
class Preview:
    """What marks the figures of a running quarter: scored over what is due by `due_by`, shown
    under `label`, never stored nor publishable."""

    label: str
    due_by: date

    def to_json(self) -> dict:
        return {"label": self.label, "due_by": self.due_by.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping) -> Preview:
        due_by = _required(data, "due_by", "preview")
        try:
            day = date.fromisoformat(str(due_by))
        except ValueError:
            raise FiguresError(f"preview.due_by: expected an ISO date, got {due_by!r}") from None
        return cls(label=str(_required(data, "label", "preview")), due_by=day)


@dataclass(frozen=True)
class IndicatorFigures:
    """One indicator of a review: its rate, counts, weights and score, and the records behind them.

    `record_ids` are the records the denominator counts; `counted_ids` those the numerator counts
    (None where the numerator counts fields, not records: field accuracy); `estimate` the
    design-based estimate the value is (spot-check pass, field accuracy), None for the others.
    """

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
    counted_ids: tuple[int, ...] | None = None
    note: str = ""
    estimate: Estimate | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    _KEYS = ("key", "name", "value", "numerator", "denominator", "weight", "effective_weight", "score",
             "no_data", "record_ids", "counted_ids", "note", "estimate")

    @classmethod
    def of_score(cls, item: IndicatorScore, counted_ids: Iterable[int] | None,
                 estimate: Estimate | None = None) -> IndicatorFigures:
        """The figures of one scored indicator with the ids its numerator counted and its estimate."""
        return cls(key=item.key, name=item.name, value=item.value, numerator=item.numerator,
                   denominator=item.denominator, weight=item.weight, effective_weight=item.effective_weight,
                   score=item.score, no_data=item.no_data, record_ids=tuple(item.record_ids),
                   counted_ids=None if counted_ids is None else tuple(counted_ids), note=item.note,
                   estimate=estimate)

    @property
    def earned_share(self) -> Decimal | None:
        """The share of its effective weight the indicator earned (None without data or weight)."""
        if self.no_data or not self.effective_weight:
            return None
        return self.score / self.effective_weight

    def to_json(self) -> dict:
        return {
            **self.extra,
            "key": self.key,
            "name": self.name,
            "value": None if self.value is None else str(self.value),
            "numerator": self.numerator,
            "denominator": self.denominator,
            "weight": str(self.weight),
            "effective_weight": str(self.effective_weight),
            "score": str(self.score),
            "no_data": self.no_data,
            "record_ids": list(self.record_ids),
            "counted_ids": None if self.counted_ids is None else list(self.counted_ids),
            "note": self.note,
            **({} if self.estimate is None else {"estimate": self.estimate.to_json()}),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> IndicatorFigures:
        key = str(_required(data, "key", "indicator"))
        where = f"indicator {key}"
        counted = data.get("counted_ids")
        return cls(
            key=key,
            name=str(_required(data, "name", where)),
            value=_optional_decimal(data.get("value"), f"{where}.value"),
            numerator=_int(_required(data, "numerator", where), f"{where}.numerator"),
            denominator=_int(_required(data, "denominator", where), f"{where}.denominator"),
            weight=_decimal(_required(data, "weight", where), f"{where}.weight"),
            effective_weight=_decimal(data.get("effective_weight", data.get("weight")), f"{where}.effective_weight"),
            score=_decimal(_required(data, "score", where), f"{where}.score"),
            no_data=bool(data.get("no_data", False)),
            record_ids=_ints(data.get("record_ids") or (), f"{where}.record_ids"),
            counted_ids=None if counted is None else _ints(counted, f"{where}.counted_ids"),
            note=str(data.get("note") or ""),
            estimate=None if data.get("estimate") is None else Estimate.from_json(data["estimate"],
                                                                                  f"{where}.estimate"),
            extra=_extra(data, cls._KEYS),
        )


@dataclass(frozen=True)
class ItemFigures:
    """A manual item (review) or annual item (evaluation) as stored: signed points and the reason."""

    points: Decimal
    reason: str

    def to_json(self) -> dict:
        return {"points": str(self.points), "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping) -> ItemFigures:
        return cls(points=_decimal(_required(data, "points", "item"), "item.points"),
                   reason=str(_required(data, "reason", "item")))

    @classmethod
    def of_item(cls, item: ManualItem, points: Decimal | None = None) -> ItemFigures:
        return cls(points=item.points if points is None else points, reason=item.reason)

    def as_item(self) -> ManualItem:
        """The scoring input this stored item stands for."""
        return ManualItem(self.points, self.reason)


@dataclass(frozen=True)
class ReviewFigures:
    """Everything a quarterly review shows, as it was scored."""

    quarter: str
    scheme: SchemeRef
    indicators: tuple[IndicatorFigures, ...]
    manual_items: tuple[ItemFigures, ...]
    manual_total: Decimal
    indicator_total: Decimal
    raw_total: Decimal
    total: Decimal
    rating: str
    completed_volume: int
    no_data_keys: tuple[str, ...] = ()
    preview: Preview | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    _KEYS = ("quarter", "scheme", "indicators", "manual_items", "manual_total", "indicator_total", "raw_total",
             "total", "rating", "completed_volume", "no_data_keys", "preview")

    @classmethod
    def of_score(cls, scheme: SchemeRef, quarter: str, result: QuarterScore, completed_volume: int,
                 counted_ids: Mapping[str, Iterable[int] | None], estimates: Mapping[str, Estimate] | None = None,
                 preview: Preview | None = None) -> ReviewFigures:
        """The figures of a scored quarter; `counted_ids` per key (missing or None: not record-counted),
        `estimates` per key of the indicators scored on one; `preview` for a running quarter."""
        estimates = estimates or {}
        return cls(
            quarter=quarter,
            scheme=scheme,
            indicators=tuple(IndicatorFigures.of_score(item, counted_ids.get(item.key), estimates.get(item.key))
                             for item in result.indicators),
            manual_items=tuple(ItemFigures.of_item(item) for item in result.manual_items),
            manual_total=result.manual_total,
            indicator_total=result.indicator_total,
            raw_total=result.raw_total,
            total=result.total,
            rating=result.rating,
            completed_volume=completed_volume,
            no_data_keys=tuple(result.no_data_keys),
            preview=preview,
        )

    def indicator(self, key: str) -> IndicatorFigures | None:
        """The indicator with this key, or None when the scheme has none."""
        return next((item for item in self.indicators if item.key == key), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.indicators)

    @property
    def estimates(self) -> dict[str, Estimate]:
        """The estimates of the indicators scored on one, by key."""
        return {item.key: item.estimate for item in self.indicators if item.estimate is not None}

    @property
    def no_data_names(self) -> tuple[str, ...]:
        """Names of the indicators without data, in scheme order."""
        return tuple(item.name for item in self.indicators if item.key in self.no_data_keys)

    @property
    def clamped(self) -> bool:
        """Whether the total was clamped to [0, 100] (the raw sum is shown beside it)."""
        return self.raw_total != self.total

    def to_json(self) -> dict:
        return {
            **self.extra,
            "quarter": self.quarter,
            "scheme": self.scheme.to_json(),
            "indicators": [item.to_json() for item in self.indicators],
            "manual_items": [item.to_json() for item in self.manual_items],
            "manual_total": str(self.manual_total),
            "indicator_total": str(self.indicator_total),
            "raw_total": str(self.raw_total),
            "total": str(self.total),
            "rating": self.rating,
            "completed_volume": self.completed_volume,
            "no_data_keys": list(self.no_data_keys),
            **({} if self.preview is None else {"preview": self.preview.to_json()}),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> ReviewFigures:
        total = _decimal(_required(data, "total", "review figures"), "total")
        manual = tuple(ItemFigures.from_json(item) for item in data.get("manual_items") or ())
        manual_total = _optional_decimal(data.get("manual_total"), "manual_total")
        if manual_total is None:
            manual_total = sum((item.points for item in manual), Decimal("0.00"))
        indicator_total = _optional_decimal(data.get("indicator_total"), "indicator_total")
        raw_total = _optional_decimal(data.get("raw_total"), "raw_total")
        return cls(
            quarter=str(_required(data, "quarter", "review figures")),
            scheme=SchemeRef.from_json(_required(data, "scheme", "review figures")),
            indicators=tuple(IndicatorFigures.from_json(item)
                             for item in _required(data, "indicators", "review figures")),
            manual_items=manual,
            manual_total=manual_total,
            indicator_total=total - manual_total if indicator_total is None else indicator_total,
            raw_total=total if raw_total is None else raw_total,
            total=total,
            rating=str(_required(data, "rating", "review figures")),
            completed_volume=_int(data.get("completed_volume") or 0, "completed_volume"),
            no_data_keys=tuple(str(key) for key in data.get("no_data_keys") or ()),
            preview=None if data.get("preview") is None else Preview.from_json(data["preview"]),
            extra=_extra(data, cls._KEYS),
        )


@dataclass(frozen=True)
class QuarterWeight:
    """One approved quarter counted in an annual evaluation, and its share of the mean."""

    quarter: str
    review_id: int | None
    revision: int
    total: Decimal
    completed_volume: int
    weight: Decimal

    def to_json(self) -> dict:
        return {"quarter": self.quarter, "review_id": self.review_id, "revision": self.revision,
                "total": str(self.total), "completed_volume": self.completed_volume, "weight": str(self.weight)}

    @classmethod
    def from_json(cls, data: Mapping) -> QuarterWeight:
        quarter = str(_required(data, "quarter", "evaluation quarter"))
        return cls(quarter=quarter, review_id=data.get("review_id"), revision=_int(data.get("revision", 1), "revision"),
                   total=_decimal(_required(data, "total", quarter), f"{quarter}.total"),
                   completed_volume=_int(data.get("completed_volume") or 0, f"{quarter}.completed_volume"),
                   weight=_decimal(_required(data, "weight", quarter), f"{quarter}.weight"))


@dataclass(frozen=True)
class MissingQuarter:
    """A quarter of the term without an approved review: its newest review's status, or None (never scored)."""

    quarter: str
    status: str | None

    def to_json(self) -> dict:
        return {"quarter": self.quarter, "status": self.status}

    @classmethod
    def from_json(cls, data: Mapping) -> MissingQuarter:
        return cls(quarter=str(_required(data, "quarter", "missing quarter")), status=data.get("status"))


@dataclass(frozen=True)
class PaymentFigures:
    """The year's share of the contract amount split into fixed and linked parts, and what is payable."""

    contract_amount_fen: int
    year_amount_fen: int
    performance_share: Decimal
    fixed_fen: int
    linked_fen: int
    payout_rate: Decimal
    payable_fen: int
    withheld_fen: int
    already_paid_fen: int
    remaining_fen: int
    to_recover_fen: int

    _FEN = ("contract_amount_fen", "year_amount_fen", "fixed_fen", "linked_fen", "payable_fen", "withheld_fen",
            "already_paid_fen", "remaining_fen", "to_recover_fen")

    def to_json(self) -> dict:
        return {
            "contract_amount_fen": self.contract_amount_fen,
            "year_amount_fen": self.year_amount_fen,
            "performance_share": str(self.performance_share),
            "fixed_fen": self.fixed_fen,
            "linked_fen": self.linked_fen,
            "payout_rate": str(self.payout_rate),
            "payable_fen": self.payable_fen,
            "withheld_fen": self.withheld_fen,
            "already_paid_fen": self.already_paid_fen,
            "remaining_fen": self.remaining_fen,
            "to_recover_fen": self.to_recover_fen,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> PaymentFigures:
        amount = _int(_required(data, "contract_amount_fen", "payment"), "payment.contract_amount_fen")
        fen = {key: _int(data.get(key, amount if key == "year_amount_fen" else 0), f"payment.{key}")
               for key in cls._FEN}
        return cls(performance_share=_decimal(_required(data, "performance_share", "payment"),
                                              "payment.performance_share"),
                   payout_rate=_decimal(_required(data, "payout_rate", "payment"), "payment.payout_rate"), **fen)


@dataclass(frozen=True)
class EvaluationFigures:
    """Everything an annual evaluation shows, as it was computed."""

    year: int
    scheme: SchemeRef
    quarters: tuple[QuarterWeight, ...]
    missing_quarters: tuple[MissingQuarter, ...]
    volume_weighted: bool
    mean: Decimal
    annual_items: tuple[ItemFigures, ...]
    items_total: Decimal
    score: Decimal
    rating: str
    payment: PaymentFigures
    revision_reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    _KEYS = ("year", "scheme", "quarters", "missing_quarters", "volume_weighted", "mean", "annual_items",
             "items_total", "score", "rating", "payment", "revision_reason")

    @property
    def review_ids(self) -> tuple[int, ...]:
        """The ids of the quarterly reviews the year counted."""
        return tuple(quarter.review_id for quarter in self.quarters if quarter.review_id)

    def items(self) -> list[ManualItem]:
        """The annual items as scoring inputs."""
        return [item.as_item() for item in self.annual_items]

    def to_json(self) -> dict:
        return {
            **self.extra,
            "year": self.year,
            "scheme": self.scheme.to_json(),
            "quarters": [quarter.to_json() for quarter in self.quarters],
            "missing_quarters": [quarter.to_json() for quarter in self.missing_quarters],
            "volume_weighted": self.volume_weighted,
            "mean": str(self.mean),
            "annual_items": [item.to_json() for item in self.annual_items],
            "items_total": str(self.items_total),
            "score": str(self.score),
            "rating": self.rating,
            "payment": self.payment.to_json(),
            "revision_reason": self.revision_reason,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> EvaluationFigures:
        items = tuple(ItemFigures.from_json(item) for item in data.get("annual_items") or ())
        items_total = _optional_decimal(data.get("items_total"), "items_total")
        return cls(
            year=_int(_required(data, "year", "evaluation figures"), "year"),
            scheme=SchemeRef.from_json(_required(data, "scheme", "evaluation figures")),
            quarters=tuple(QuarterWeight.from_json(item) for item in data.get("quarters") or ()),
            missing_quarters=tuple(MissingQuarter.from_json(item) for item in data.get("missing_quarters") or ()),
            volume_weighted=bool(data.get("volume_weighted", True)),
            mean=_decimal(_required(data, "mean", "evaluation figures"), "mean"),
            annual_items=items,
            items_total=sum((item.points for item in items), Decimal("0.00")) if items_total is None else items_total,
            score=_decimal(_required(data, "score", "evaluation figures"), "score"),
            rating=str(_required(data, "rating", "evaluation figures")),
            payment=PaymentFigures.from_json(_required(data, "payment", "evaluation figures")),
            revision_reason=data.get("revision_reason"),
            extra=_extra(data, cls._KEYS),
        )
