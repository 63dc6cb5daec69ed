"""Anomaly flags on accepted completion records: red flags for the supervisor, never errors.

Flagged records form the higher-rate stratum of risk-weighted draws (SPEC section 5). Each
detector is vectorised over the records; Python loops only run over the flagged ones.
Thresholds are fields of `AnomalyContext` so that the bureau can set them.

Poverty-line rule: a 符合 with per-capita monthly income at or above the 低保标准 is flagged,
and so is a 不符合 below `far_below_share` (default 50 %) of it — a household that poor is
usually eligible unless property rules exclude it, which the supervisor should see.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from oversight.adapters.tables.cells import reasons_where, time_minutes
from oversight.domain.completion_log import INCOME_PARTS, day_numbers
from oversight.domain.local_standards import PovertyLine
from oversight.domain.money import format_yuan

EARTH_RADIUS_KM = 6371.0088



class Flag(NamedTuple):
    """One red flag on a record: a code of `vocabulary.AnomalyFlag` and the reason in Chinese."""

    code: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """{"code": …, "reason": …}, as stored in `CompletionRecord.anomaly_flags`."""
        return {"code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class AnomalyContext:
    """What the records are compared with, and the thresholds.

    assignments: assignment_id, id_number, township (of the subject).
    existing: visits already stored for the same workers: worker_no, service_date,
        start_time, end_time ("HH:MM" or `datetime.time`), for overlaps and daily counts.
    township_centres: township → (longitude, latitude) of its centre.
    previous_conclusions: id_number → the person's previous 评估结论.
    """

    assignments: pd.DataFrame
    existing: pd.DataFrame | None = None
    township_centres: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    poverty_line_fen: int | None = None
    # The 低保标准 versions by the day they take effect; when given, each record is held to the
    # line in force on its service day, urban or rural by its subject's `urban` (SPEC 8).
    poverty_lines: tuple[PovertyLine, ...] = ()
    previous_conclusions: Mapping[str, str] = field(default_factory=dict)
    short_visit_minutes: int = 10
    day_start: dt.time = dt.time(6, 0)
    day_end: dt.time = dt.time(22, 0)
    max_visits_per_day: int = 10
    max_distance_km: float = 15.0
    max_speed_kmh: float = 60.0
    min_travel_km: float = 1.0
    far_below_share: float = 0.5


Detector = Callable[[pd.DataFrame, pd.DataFrame, AnomalyContext], Iterator[tuple[str, pd.Series]]]


def anomaly_flags(records: pd.DataFrame, ctx: AnomalyContext) -> pd.Series:
    """A tuple of `Flag` per record (empty when none), indexed like `records`.

    `records` has the columns of `completion_log.RECORD_COLUMNS` (worker_no, service_date,
    start_time, end_time, duration_minutes, longitude, latitude and the service's fields).
    """
    visits = records.reset_index(drop=True)
    subjects = _subjects(visits, ctx.assignments)
    found = [(code, reasons) for detect in _DETECTORS for code, reasons in detect(visits, subjects, ctx)
             if len(reasons)]
    flags = [()] * len(visits)
    if found:
        positions = np.concatenate([reasons.index.to_numpy(dtype=np.int64) for _, reasons in found])
        codes = np.concatenate([np.full(len(reasons), code, dtype=object) for code, reasons in found])
        texts = np.concatenate([reasons.to_numpy(dtype=object) for _, reasons in found])
        del found
        order = np.argsort(positions, kind="stable")
        positions = positions[order]
        made = list(map(Flag, codes[order].tolist(), texts[order].tolist()))
        del codes, texts, order
        starts = np.flatnonzero(np.r_[True, positions[1:] != positions[:-1]]).tolist()
        for start, stop in zip(starts, [*starts[1:], len(made)]):
            flags[positions[start]] = tuple(made[start:stop])
    return pd.Series(flags, index=records.index, dtype=object)


def has_flags(flags: pd.Series) -> pd.Series:
    """True for the records carrying at least one flag."""
    return flags.map(bool, na_action="ignore").fillna(False).astype(bool)


def _subjects(visits: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """id_number and township of each visit's subject, by position."""
    by_id = assignments.drop_duplicates("assignment_id").set_index("assignment_id")
    columns = [c for c in ("id_number", "township", "urban") if c in by_id.columns]
    return by_id[columns].reindex(visits["assignment_id"].to_numpy()).reset_index(drop=True)


def _minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


def _short_visits(visits, subjects, ctx):
    minutes = visits["duration_minutes"]
    yield "short_visit", reasons_where(
        minutes < ctx.short_visit_minutes,
        lambda r: "服务时长仅" + minutes[r].astype(str) + f"分钟（少于{ctx.short_visit_minutes}分钟）")


def _odd_hours(visits, subjects, ctx):
    start, end = time_minutes(visits["start_time"]), time_minutes(visits["end_time"])
    odd = (start < _minutes(ctx.day_start)) | (end > _minutes(ctx.day_end))
    window = f"{ctx.day_start:%H:%M}–{ctx.day_end:%H:%M}"
    yield "odd_hours", reasons_where(
        odd, lambda r: "服务时间" + visits["start_time"][r] + "–" + visits["end_time"][r] + f"不在{window}之内")


def _timeline(visits: pd.DataFrame, existing: pd.DataFrame | None) -> pd.DataFrame:
    """The visits and the stored ones ordered by worker, day and start, with a `shift` key per
    worker and day; `position` is the visit's index label, −1 for stored ones."""
    frames = [visits.assign(position=visits.index.to_numpy())]
    if existing is not None and len(existing):
        frames.append(existing.assign(position=-1))
    workers, _ = pd.factorize(np.concatenate([frame["worker_no"].to_numpy(dtype=object) for frame in frames]))
    days = np.concatenate([day_numbers(frame["service_date"]).to_numpy() for frame in frames])
    timeline = pd.DataFrame({
        "shift": workers.astype(np.int64) * 10_000_000 + np.nan_to_num(days).astype(np.int64),
        "start": np.concatenate([time_minutes(f["start_time"]).astype(float).to_numpy() for f in frames]),
        "end": np.concatenate([time_minutes(f["end_time"]).astype(float).to_numpy() for f in frames]),
        "position": np.concatenate([frame["position"].to_numpy() for frame in frames]),
    })
    order = np.lexsort((timeline["start"].to_numpy(), timeline["shift"].to_numpy()))
    return timeline.take(order).reset_index(drop=True)


def _workload(visits, subjects, ctx):
    timeline = _timeline(visits, ctx.existing)
    shift = timeline["shift"]
    groups = timeline.groupby("shift", sort=False)
    latest_end = groups["end"].cummax().shift(1).where(shift == shift.shift(1))
    next_start = timeline["start"].shift(-1).where(shift == shift.shift(-1))
    overlaps = ((timeline["start"] < latest_end) | (timeline["end"] > next_start)) & (timeline["position"] >= 0)
    positions = timeline.loc[overlaps, "position"].to_numpy()
    own = visits.iloc[positions]
    yield "overlap", pd.Series(
        ("服务人员" + own["worker_no"].astype(str) + "同日另有服务与本次（" + own["start_time"] + "–"
         + own["end_time"] + "）时间重叠").to_numpy(), index=positions, dtype=object)

    counts = groups["position"].transform("size")
    busy = (counts > ctx.max_visits_per_day) & (timeline["position"] >= 0)
    yield "busy_day", pd.Series(
        ("服务人员当天共有" + counts[busy].astype(str) + f"次服务（超过{ctx.max_visits_per_day}次）").to_numpy(),
        index=timeline.loc[busy, "position"].to_numpy(), dtype=object)


def _distance_km(lng1, lat1, lng2, lat2) -> np.ndarray:
    """Great-circle (haversine) distance in km between arrays of points in degrees."""
    lng1, lat1, lng2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lng1, lat1, lng2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _far_from_township(visits, subjects, ctx):
    if not ctx.township_centres or "township" not in subjects:
        return
    centres = pd.DataFrame.from_dict(dict(ctx.township_centres), orient="index", columns=["lng", "lat"])
    centre = centres.reindex(subjects["township"].to_numpy())
    km = pd.Series(_distance_km(visits["longitude"], visits["latitude"], centre["lng"], centre["lat"]))
    yield "far_from_township", reasons_where(
        km > ctx.max_distance_km, lambda r: "坐标距" + subjects["township"][r] + "中心约" + km[r].round(1).astype(str)
        + f"公里（超过{ctx.max_distance_km:g}公里）")


def _fast_travel(visits, subjects, ctx):
    timeline = _timeline(visits[visits["longitude"].notna() & visits["latitude"].notna()], None)
    here = timeline["position"].to_numpy()
    before = np.r_[here[:1], here[:-1]]
    same = (timeline["shift"] == timeline["shift"].shift(1)).to_numpy()
    longitude, latitude = visits["longitude"].to_numpy(), visits["latitude"].to_numpy()
    km = _distance_km(longitude[before], latitude[before], longitude[here], latitude[here])
    gap = np.clip(timeline["start"].to_numpy() - np.r_[np.nan, timeline["end"].to_numpy()[:-1]], 0, None)
    fast = same & (km > ctx.min_travel_km) & (km > ctx.max_speed_kmh * gap / 60)
    ended = pd.Series(visits["end_time"].to_numpy()[before[fast]])
    yield "fast_travel", pd.Series(
        ("与上一次服务（" + ended + "结束）相距约" + pd.Series(km[fast]).round(1).astype(str) + "公里，间隔仅"
         + pd.Series(gap[fast]).astype(int).astype(str) + "分钟").to_numpy(), index=here[fast], dtype=object)


def _identical_answers(visits, subjects, ctx):
    if "annual_income_fen" not in visits:
        return
    answers = ["household_size", "annual_income_fen", *(c.key for c in INCOME_PARTS),
               "financial_assets_fen", "property_count", "vehicle_count"]
    answers = [column for column in answers if column in visits]
    # Households with no income and no assets at all are common among 特困 persons; the same
    # all-zero answers from them say nothing about the worker.
    informative = (visits["annual_income_fen"] != 0) | (visits["financial_assets_fen"] != 0)
    household = subjects["id_number"].fillna(visits["assignment_id"].astype(str)) \
        if "id_number" in subjects else visits["assignment_id"]
    frame = visits[["worker_no", *answers]].assign(household=household.to_numpy())[informative]
    others = frame.groupby(["worker_no", *answers], dropna=False)["household"].transform("nunique") - 1
    yield "identical_answers", reasons_where(
        others > 0, lambda r: "与同一服务人员调查的另外" + others[r].astype(str) + "户家庭人口、收入和资产完全相同")


def _lines(visits, subjects, ctx) -> pd.Series | None:
    """The 低保标准 each visit is held to (NaN where none was in force on its day)."""
    if ctx.poverty_lines:
        lines = sorted(ctx.poverty_lines, key=lambda line: line.effective_from)
        starts = np.array([line.effective_from.toordinal() for line in lines], dtype=float)
        at = np.searchsorted(starts, day_numbers(visits["service_date"]).to_numpy(), side="right") - 1
        urban = subjects["urban"].fillna(True).astype(bool).to_numpy() if "urban" in subjects \
            else np.ones(len(visits), dtype=bool)
        index = np.maximum(at, 0)
        amounts = np.where(urban, np.array([line.urban_fen for line in lines], dtype=float)[index],
                           np.array([line.rural_fen for line in lines], dtype=float)[index])
        return pd.Series(np.where(at >= 0, amounts, np.nan), index=visits.index)
    if ctx.poverty_line_fen is None:
        return None
    return pd.Series(float(ctx.poverty_line_fen), index=visits.index)


def _poverty_line(visits, subjects, ctx):
    if "per_capita_monthly_income_fen" not in visits:
        return
    line = _lines(visits, subjects, ctx)
    if line is None:
        return
    income = visits["per_capita_monthly_income_fen"]
    conclusion = visits["survey_conclusion"]
    floor = (line * ctx.far_below_share).round()
    known = line.notna()

    def yuan(amounts: pd.Series) -> pd.Series:
        return amounts.astype("int64").map(format_yuan)

    yield "eligible_above_line", reasons_where(
        known & (conclusion == "符合") & (income >= line),
        lambda r: "结论为符合，但人均月收入" + income[r].map(format_yuan) + "元不低于低保标准" + yuan(line[r]) + "元")
    yield "ineligible_below_line", reasons_where(
        known & (conclusion == "不符合") & (income < floor),
        lambda r: "结论为不符合，但人均月收入" + income[r].map(format_yuan)
        + f"元低于低保标准的{ctx.far_below_share:.0%}（" + yuan(floor[r]) + "元）")


def _conclusion_changed(visits, subjects, ctx):
    if not ctx.previous_conclusions or "conclusion" not in visits or "id_number" not in subjects:
        return
    previous = subjects["id_number"].map(dict(ctx.previous_conclusions))
    changed = previous.notna() & (previous != visits["conclusion"])
    yield "conclusion_changed", reasons_where(
        changed, lambda r: "评估结论由「" + previous[r] + "」变为「" + visits["conclusion"][r] + "」")


def _unsigned(visits, subjects, ctx):
    if "signed" in visits:
        yield "unsigned", reasons_where(~visits["signed"].astype(bool), "服务对象未签字确认")


_DETECTORS: tuple[Detector, ...] = (
    _short_visits, _odd_hours, _workload, _far_from_township, _fast_travel,
    _identical_answers, _poverty_line, _conclusion_changed, _unsigned,
)


# --- visits recorded in the app (issue 12) ------------------------------------------------------


@dataclass(frozen=True)
class AppVisitFacts:
    """What the app tells of one visit beyond its log row, and what it is compared with.

    check_in_day: the county day of the check-in; window: the assignment's service period (the
    county day it was issued, its due date); device_sent_at / received_at: the device's clock when
    it sent the visit and the server's when it arrived (both naive UTC; a visit kept offline is
    sent later, but the device then says so); photos: SHA-256 → 64-bit perceptual hash (hex, or
    None); used_elsewhere: SHA-256s of these photos already in other visits; similar_elsewhere:
    perceptual hashes of other visits' photos (the contractor's, recent).
    """

    check_in_day: dt.date
    window: tuple[dt.date, dt.date]
    device_sent_at: dt.datetime | None
    received_at: dt.datetime
    photos: Mapping[str, str | None] = field(default_factory=dict)
    used_elsewhere: frozenset[str] = frozenset()
    similar_elsewhere: tuple[str, ...] = ()
    max_clock_skew_minutes: int = 10
    max_hash_distance: int = 6


def hamming(first: str, second: str) -> int:
    """Bits differing between two perceptual hashes of the same length (hex)."""
    return (int(first, 16) ^ int(second, 16)).bit_count()


def app_visit_flags(facts: AppVisitFacts) -> tuple[Flag, ...]:
    """The app's own flags of one visit: device clock off the server's, check-in outside the
    assignment's service period, a photo sent before with another visit, a near-identical one."""
    flags = []
    if facts.device_sent_at is not None:
        skew = abs((facts.device_sent_at - facts.received_at).total_seconds()) / 60
        if skew > facts.max_clock_skew_minutes:
            flags.append(Flag("device_clock", f"设备时间与服务器接收时间相差约{skew:.0f}分钟"
                                              f"（超过{facts.max_clock_skew_minutes}分钟）"))
    first, last = facts.window
    if not first <= facts.check_in_day <= last:
        flags.append(Flag("outside_window", f"签到日期{facts.check_in_day:%Y-%m-%d}不在任务服务期"
                                            f"（{first:%Y-%m-%d}至{last:%Y-%m-%d}）之内"))
    reused = [digest for digest in facts.photos if digest in facts.used_elsewhere]
    if reused:
        flags.append(Flag("reused_photo", f"{len(reused)}张照片已在其他服务记录中使用过（SHA-256 {reused[0][:12]}…）"))
    similar = [digest for digest, phash in facts.photos.items() if digest not in reused and phash
               and any(len(other) == len(phash) and hamming(phash, other) <= facts.max_hash_distance
                       for other in facts.similar_elsewhere)]
    if similar:
        flags.append(Flag("similar_photo", f"{len(similar)}张照片与其他服务记录的照片几乎相同（感知哈希相差不超过"
                                           f"{facts.max_hash_distance}位）"))
    return tuple(flags)
