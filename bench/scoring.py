"""Quarterly scoring of every contract, against hand-written SQL floors of the same figures.

    .venv/bin/python bench/scoring.py --db sqlite
    .venv/bin/python bench/scoring.py --db postgresql --quarter 2026Q3 --repeat 5

Needs the bench database (`bench/history.py build --db …`). Each round, in one process:

- service: `score_quarter_reviews(quarter)` — every contract whose term overlaps the quarter,
  evidence gathered, scored, the drafts stored and flushed (with their audit events); then the
  transaction is rolled back, so that the database is left as it was;
- floor: the same figures by hand-written SQL, one query per source over all contracts at once
  — per indicator its numerator and denominator, the ids of the records behind it and of those
  it counted, and the completed volume: the figures a review stores, and nothing else;
- full floor: what the service must produce besides — the figures, the evidence fingerprint (the
  same bytes: each evidence row's canonical JSON written by the database, hashed by hashlib and
  zlib; the digests and row digests the review stores) and the design-based estimates (each
  draw's frozen population's JSON read by json's C decoder and counted per cell by Counter, its
  checks summed per cell, `design_estimate` doing the arithmetic over the cells) — by hand-written SQL and as little
  Python as that allows. It stores nothing (no review row, no audit event).

The script asserts every round that the service's figures equal both floors' and its stored
fingerprint and estimates the full floor's, then prints the median (and best) wall and CPU time
of each over the rounds and the ratios service / floor and service / full floor.

The loaded app is frozen out of the garbage collector's sight first, as gunicorn.conf.py does in
every web process (`--no-gc-freeze`: not, as in a process that does not): otherwise the full
collections that a quarter's tens of thousands of rows set off walk the app's objects too, about
a third of the service's CPU time here.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import sys
import time
import zlib
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.history import KINDS, bench_app, exists, load_average  # noqa: E402

INDICATOR_KEYS = ("completion", "timeliness", "spot_check_pass", "field_accuracy", "satisfaction", "authenticity",
                  "rectification")


def _local_day(dialect: str, column: str) -> str:
    """SQL for the bureau's calendar day of a UTC timestamp column (spot_checks.local_day)."""
    from oversight.clock import BUREAU_UTC_OFFSET

    hours = int(BUREAU_UTC_OFFSET / timedelta(hours=1))
    if dialect == "postgresql":
        return f"CAST({column} + INTERVAL '{hours} hours' AS DATE)"
    return f"date({column}, '+{hours} hours')"


def floor_figures(contract_ids: list[int], quarter) -> dict[int, dict]:
    """contract id → {indicator key: (numerator, denominator, record ids, counted ids)} and
    "completed_volume", by hand-written SQL."""
    from sqlalchemy import bindparam, text

    from oversight.domain.sampling import STRATUM_TARGETED
    from oversight.extensions import db
    from oversight.services.callbacks import SATISFIED_FROM

    dialect = db.engine.dialect.name
    params = {"ids": contract_ids, "start": quarter.start, "end": quarter.end, "quarter": str(quarter),
              "targeted": STRATUM_TARGETED, "satisfied": SATISFIED_FROM}

    def rows(sql: str):
        statement = text(sql).bindparams(bindparam("ids", expanding=True))
        return db.session.execute(statement, {key: value for key, value in params.items() if f":{key}" in sql})

    found: dict[int, dict] = {cid: defaultdict(lambda: [0, 0, [], []]) for cid in contract_ids}

    def add(contract_id: int, key: str, row_id: int, counted: bool, weight: int = 1, counted_weight=None) -> None:
        entry = found[contract_id][key]
        entry[0] += weight if counted_weight is None else counted_weight
        entry[1] += weight
        entry[2].append(row_id)
        if counted:
            entry[3].append(row_id)

    for cid, row_id, status, on_time in rows(f"""
            SELECT contract_id, id, status,
                   CASE WHEN completed_at IS NOT NULL AND {_local_day(dialect, 'completed_at')} <= due_date
                        THEN 1 ELSE 0 END
            FROM assignments
            WHERE contract_id IN :ids AND status <> 'cancelled' AND due_date >= :start AND due_date <= :end
            ORDER BY contract_id, id"""):
        done = status == "completed"
        add(cid, "completion", row_id, done, counted_weight=int(done))
        if done:
            add(cid, "timeliness", row_id, bool(on_time), counted_weight=int(on_time))
    for cid, record_id, passed, compared, differing in rows("""
            SELECT d.contract_id, c.record_id, c.passed, c.fields_compared, c.fields_differing
            FROM spot_checks c JOIN draw_items i ON c.draw_item_id = i.id JOIN sampling_draws d ON i.draw_id = d.id
            WHERE d.contract_id IN :ids AND d.quarter = :quarter AND d.purpose = 'spot_check'
              AND i.stratum <> :targeted
            ORDER BY d.contract_id, c.record_id"""):
        add(cid, "spot_check_pass", record_id, bool(passed), counted_weight=int(bool(passed)))
        add(cid, "field_accuracy", record_id, False, weight=compared, counted_weight=compared - differing)
    for cid, record_id, satisfaction, confirmed in rows("""
            SELECT d.contract_id, c.record_id, c.satisfaction, c.service_confirmed
            FROM callbacks c JOIN draw_items i ON c.draw_item_id = i.id JOIN sampling_draws d ON i.draw_id = d.id
            WHERE d.contract_id IN :ids AND d.quarter = :quarter AND d.purpose = 'callback' AND c.status = 'answered'
            ORDER BY d.contract_id, c.record_id"""):
        satisfied = satisfaction >= SATISFIED_FROM
        add(cid, "satisfaction", record_id, satisfied, counted_weight=int(satisfied))
        add(cid, "authenticity", record_id, bool(confirmed), counted_weight=int(bool(confirmed)))
    for cid, notice_id, on_time in rows(f"""
            SELECT contract_id, id,
                   CASE WHEN status = 'closed' AND outcome = 'accepted' AND closed_at IS NOT NULL
                             AND {_local_day(dialect, 'closed_at')} <= deadline THEN 1 ELSE 0 END
            FROM rectification_notices
            WHERE contract_id IN :ids AND deadline >= :start AND deadline <= :end
            ORDER BY contract_id, id"""):
        add(cid, "rectification", notice_id, bool(on_time), counted_weight=int(on_time))
    result = {}
    for cid, entries in found.items():
        figures = {key: tuple(entries[key]) if key in entries else (0, 0, [], []) for key in INDICATOR_KEYS}
        figures["completed_volume"] = figures["completion"][0]
        result[cid] = figures
    return result


# --- the full floor: figures, fingerprint and estimates -----------------------------------------


def _json_timestamp(dialect: str, column: str) -> str:
    """SQL writing a naive timestamp column as canonical JSON (`"…"` of Python's isoformat(), `null`)."""
    if dialect == "postgresql":
        text = (f"to_char({column}, 'YYYY-MM-DD\"T\"HH24\\:MI\\:SS') || CASE WHEN "
                f"CAST(extract(microseconds FROM {column}) AS bigint) % 1000000 = 0 THEN '' "
                f"ELSE to_char({column}, '.US') END")
    else:  # stored as text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'; isoformat() drops a zero fraction
        text = f"replace(CASE WHEN substr({column}, 20) = '.000000' THEN substr({column}, 1, 19) ELSE {column} END, ' ', 'T')"
    return f"CASE WHEN {column} IS NULL THEN 'null' ELSE '\"' || {text} || '\"' END"


def _json_date(dialect: str, column: str) -> str:
    return f"'\"' || {'to_char(' + column + ', ' + repr('YYYY-MM-DD') + ')' if dialect == 'postgresql' else column} || '\"'"


def _json_bool(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 'true' ELSE 'false' END"


def _source(texts: list[str], ids: list[int]) -> dict:
    """One source of a stored fingerprint (format 2) from its rows' canonical JSON in id order."""
    return {"digest": hashlib.sha256(("[" + ",".join(texts) + "]").encode()).hexdigest(),
            "ids": list(map(str, ids)),
            "rows": "".join(map("%08x".__mod__, map(zlib.crc32, map(str.encode, texts))))}


def _one_per_record(rows: list[tuple]) -> tuple[list[int], list[str]]:
    """(record id, text, *typed fields) rows in record order → ids and texts, a record checked in two
    draws written as one row listing both (as `services.freshness` does; rare, so in Python)."""
    ids, texts = [row[0] for row in rows], [row[1] for row in rows]
    if len(set(ids)) == len(ids):
        return ids, texts
    from oversight.domain.fingerprints import _row_json

    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    ids, texts = [], []
    for record_id, group in grouped.items():
        ids.append(record_id)
        texts.append(group[0][1] if len(group) == 1
                     else _row_json((record_id, sorted((tuple(row[2:]) for row in group), key=repr))))
    return ids, texts


def full_floor(contract_ids: list[int], quarter) -> dict[int, dict]:
    """What a review stores beyond the plain figures, by hand-written SQL and as little Python as
    that allows: per contract the figures (as `floor_figures`), the evidence fingerprint (each row's
    canonical JSON written by the database, hashed by hashlib and zlib) and the design-based
    estimates (each draw's frozen population counted per cell by json's C decoder and Counter, its
    checks summed per cell; `design_estimate` then does the arithmetic over the cells)."""
    from sqlalchemy import bindparam, text

    from oversight.domain.estimates import StratumSample, design_estimate
    from oversight.domain.sampling import STRATUM_FLAGGED, STRATUM_TARGETED, cell_of
    from oversight.extensions import db
    from oversight.services.callbacks import SATISFIED_FROM

    dialect = db.engine.dialect.name
    params = {"ids": contract_ids, "start": quarter.start, "end": quarter.end, "quarter": str(quarter),
              "satisfied": SATISFIED_FROM}

    def rows(sql: str):
        statement = text(sql).bindparams(bindparam("ids", expanding=True))
        return db.session.execute(statement, {key: value for key, value in params.items() if f":{key}" in sql}).all()

    per = {cid: defaultdict(list) for cid in contract_ids}  # contract → source → rows
    if dialect == "postgresql":  # the database writes each row's canonical JSON
        completed = _json_bool("status = 'completed'")
        texts = (f"'[' || id || ',' || {completed} || ']', '[' || id || ',' || "
                 f"{_json_date(dialect, 'due_date')} || ',' || {_json_timestamp(dialect, 'completed_at')} || ']'")
    else:  # SQLite's text of the day and time, which %-formatting turns into it faster than SQLite's ||
        texts = "due_date, completed_at"
    for cid, row_id, done, on_time, first, second in rows(f"""
            SELECT contract_id, id, CASE WHEN status = 'completed' THEN 1 ELSE 0 END,
                   CASE WHEN completed_at IS NOT NULL AND {_local_day(dialect, 'completed_at')} <= due_date
                        THEN 1 ELSE 0 END, {texts}
            FROM assignments
            WHERE contract_id IN :ids AND status <> 'cancelled' AND due_date >= :start AND due_date <= :end
            ORDER BY contract_id, id"""):
        if dialect != "postgresql":  # stored 'YYYY-MM-DD HH:MM:SS[.ffffff]'; isoformat() drops a zero fraction
            first, second = (f"[{row_id},{'true' if done else 'false'}]",
                             f'[{row_id},"{first}",' + ("null" if second is None else
                                                       f'"{second.removesuffix(".000000").replace(" ", "T")}"') + "]")
        per[cid]["assignments"].append((row_id, done, on_time, first, second))
    passed = "((a.decision IS NULL AND c.passed) OR a.decision = 'overturned')"
    recheck = "a.decision IS NOT NULL AND a.recheck_passed IS NOT NULL"
    compared = f"CASE WHEN {recheck} THEN a.recheck_fields_compared ELSE c.fields_compared END"
    differing = f"CASE WHEN {recheck} THEN a.recheck_fields_differing ELSE c.fields_differing END"
    checks_sql = f"""
            SELECT d.contract_id, d.id AS draw_id, c.record_id, i.stratum,
                   CASE WHEN {passed} THEN 1 ELSE 0 END AS ok, {compared} AS compared, {differing} AS differing
            FROM spot_checks c JOIN draw_items i ON c.draw_item_id = i.id JOIN sampling_draws d ON i.draw_id = d.id
                 LEFT JOIN appeals a ON a.spot_check_id = c.id AND a.status = 'decided'
            WHERE d.contract_id IN :ids AND d.quarter = :quarter AND d.purpose = 'spot_check'"""
    for cid, record_id, draw_id, stratum, ok, n_compared, n_differing, pass_text, field_text in rows(f"""
            SELECT contract_id, record_id, draw_id, stratum, ok, compared, differing,
                   '[' || record_id || ',' || draw_id || ',"' || stratum || '",' || {_json_bool('ok = 1')} || ']',
                   '[' || record_id || ',' || draw_id || ',"' || stratum || '",' || compared || ',' || differing || ']'
            FROM ({checks_sql}) checks ORDER BY contract_id, record_id"""):
        per[cid]["checks"].append((record_id, draw_id, stratum, ok, n_compared, n_differing, pass_text, field_text))
    for cid, record_id, satisfied, confirmed, satisfied_text, confirmed_text in rows(f"""
            SELECT d.contract_id, c.record_id,
                   CASE WHEN c.satisfaction >= :satisfied THEN 1 ELSE 0 END,
                   CASE WHEN c.service_confirmed THEN 1 ELSE 0 END,
                   '[' || c.record_id || ',' || {_json_bool('c.satisfaction >= :satisfied')} || ']',
                   '[' || c.record_id || ',' || {_json_bool('c.service_confirmed')} || ']'
            FROM callbacks c JOIN draw_items i ON c.draw_item_id = i.id JOIN sampling_draws d ON i.draw_id = d.id
            WHERE d.contract_id IN :ids AND d.quarter = :quarter AND d.purpose = 'callback' AND c.status = 'answered'
            ORDER BY d.contract_id, c.record_id"""):
        per[cid]["calls"].append((record_id, satisfied, confirmed, satisfied_text, confirmed_text))
    accepted = "n.status = 'closed' AND n.outcome = 'accepted'"
    for cid, notice_id, on_time, notice_text in rows(f"""
            SELECT n.contract_id, n.id,
                   CASE WHEN {accepted} AND n.closed_at IS NOT NULL
                             AND {_local_day(dialect, 'n.closed_at')} <= n.deadline THEN 1 ELSE 0 END,
                   '[' || n.id || ',' || {_json_date(dialect, 'n.deadline')} || ',' || {_json_bool(accepted)} || ','
                       || CASE WHEN {accepted} THEN {_json_timestamp(dialect, 'n.closed_at')} ELSE 'null' END || ']'
            FROM rectification_notices n JOIN spot_checks s ON n.spot_check_id = s.id
            WHERE n.contract_id IN :ids AND n.deadline >= :start AND n.deadline <= :end
              AND (n.outcome IS NULL OR n.outcome <> 'withdrawn')
            ORDER BY n.contract_id, n.id"""):
        per[cid]["notices"].append((notice_id, on_time, notice_text))
    # Each spot-check draw's frozen population per cell, and its checks' sums per cell. An entry is
    # `[record id, worker, flagged, targeted]`; the database hands over each population's JSON text,
    # which json's C decoder reads and Counter counts (counting the cells in SQL, over json_each or
    # json_array_elements, took SQLite two to three times as long).
    cells: dict[int, dict] = {cid: {} for cid in contract_ids}  # contract → (draw, cell) → [N, sums…]
    workers: dict[int, dict[int, str]] = {}  # draw → record id → worker
    for cid, draw_id, risk_weighted, population in rows(f"""
            SELECT contract_id, id, {"rule ->> 'risk_weighted'" if dialect == "postgresql"
                                     else "json_extract(rule, '$.risk_weighted')"}, CAST(population AS TEXT)
            FROM sampling_draws
            WHERE contract_id IN :ids AND quarter = :quarter AND purpose = 'spot_check'"""):
        entries = json.loads(population)
        if not entries:
            continue
        record_ids, names, flagged, targeted = zip(*entries)
        workers[draw_id] = dict(zip(record_ids, names))
        weighted = risk_weighted in (True, 1, "true")
        for (worker, is_flagged, is_targeted), size in Counter(zip(names, flagged, targeted)).items():
            cell = (STRATUM_TARGETED if is_targeted else STRATUM_FLAGGED if weighted and is_flagged
                    else cell_of("random", worker))
            cells[cid].setdefault((draw_id, cell), [0] + [0] * 11)[0] += size
    for cid in contract_ids:
        for record_id, draw_id, stratum, ok, n_compared, n_differing, _, _ in per[cid]["checks"]:
            sums = cells[cid].setdefault((draw_id, cell_of(stratum, workers[draw_id][record_id])), [0] + [0] * 11)
            matched = n_compared - n_differing
            for at, value in enumerate((1, ok, 1, ok, 1, ok, matched, n_compared, matched * matched,
                                        n_compared * n_compared, matched * n_compared), start=1):
                sums[at] += value
    result = {}
    for cid in contract_ids:
        source = per[cid]
        assignments = source["assignments"]
        completed = [row for row in assignments if row[1]]
        checks = source["checks"]
        drawn = [row for row in checks if row[2] != STRATUM_TARGETED]
        calls = source["calls"]
        notices = source["notices"]
        figures = {
            "completion": (len(completed), len(assignments), [row[0] for row in assignments],
                           [row[0] for row in completed]),
            "timeliness": (sum(row[2] for row in completed), len(completed), [row[0] for row in completed],
                           [row[0] for row in completed if row[2]]),
            "spot_check_pass": (sum(row[3] for row in drawn), len(drawn), [row[0] for row in drawn],
                                [row[0] for row in drawn if row[3]]),
            "field_accuracy": (sum(row[4] - row[5] for row in drawn), sum(row[4] for row in drawn),
                               [row[0] for row in drawn], []),
            "satisfaction": (sum(row[1] for row in calls), len(calls), [row[0] for row in calls],
                             [row[0] for row in calls if row[1]]),
            "authenticity": (sum(row[2] for row in calls), len(calls), [row[0] for row in calls],
                             [row[0] for row in calls if row[2]]),
            "rectification": (sum(row[1] for row in notices), len(notices), [row[0] for row in notices],
                              [row[0] for row in notices if row[1]]),
        }
        figures["completed_volume"] = len(completed)
        sources = {
            "completion": _source([row[3] for row in assignments], [row[0] for row in assignments]),
            "timeliness": _source([row[4] for row in completed], [row[0] for row in completed]),
            "spot_check_pass": _source(*reversed(_one_per_record([(r[0], r[6], r[1], r[2], bool(r[3]))
                                                                  for r in checks]))),
            "field_accuracy": _source(*reversed(_one_per_record([(r[0], r[7], r[1], r[2], r[4], r[5])
                                                                 for r in checks]))),
            "satisfaction": _source(*reversed(_one_per_record([(r[0], r[3], bool(r[1])) for r in calls]))),
            "authenticity": _source(*reversed(_one_per_record([(r[0], r[4], bool(r[2])) for r in calls]))),
            "rectification": _source([row[2] for row in notices], [row[0] for row in notices]),
        }
        digests = ",".join(f'"{key}":"{sources[key]["digest"]}"' for key in sorted(sources))
        fingerprint = {"format": 2, "digest": hashlib.sha256(f'{{"format":1,"sources":{{{digests}}}}}'.encode()).hexdigest(),
                       "sources": dict(sorted(sources.items()))}
        passes, fields = [], []
        for (_, cell), (size, *sums) in cells[cid].items():
            apart = cell == STRATUM_TARGETED
            passes.append(StratumSample(size, *sums[:6], targeted=apart, name=cell))
            fields.append(StratumSample(size, sums[0], *sums[6:11], targeted=apart, name=cell))
        estimates = {"spot_check_pass": design_estimate(passes).as_dict(),
                     "field_accuracy": design_estimate(fields).as_dict()}
        result[cid] = {"figures": figures, "fingerprint": fingerprint, "estimates": estimates}
    return result


def service_figures(review) -> dict:
    """The same shape, read from a scored review's stored figures."""
    figures = {item.key: (item.numerator, item.denominator, list(item.record_ids), list(item.counted_ids or []))
               for item in review.figures.indicators}
    figures["completed_volume"] = review.figures.completed_volume
    return figures


def service_stored(review) -> dict:
    """The figures, the stored fingerprint and the estimates of a scored review, as `full_floor` gives them."""
    return {"figures": service_figures(review), "fingerprint": review.evidence_fingerprint,
            "estimates": {key: estimate.to_json() for key, estimate in review.figures.estimates.items()}}


def _as_stored(found: dict) -> dict:
    """`full_floor`'s estimates read as a review stores them (its `Estimate` rounds nothing more)."""
    from oversight.domain.figures import Estimate

    return {**found, "estimates": {key: Estimate.from_json(value).to_json() for key, value in found["estimates"].items()}}


def _timed(work):
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    return (time.perf_counter() - started, time.process_time() - cpu), result


def one_round(quarter) -> tuple[dict[str, tuple[float, float]], dict, dict, dict]:
    """(wall, CPU seconds) of the service, the figures floor and the full floor, and what each gave."""
    from oversight.extensions import db
    from oversight.services.reviews import score_quarter_reviews

    times = {}
    times["service"], outcomes = _timed(lambda: (score_quarter_reviews(quarter), db.session.flush())[0])
    scored = {outcome.contract.id: service_stored(outcome.review) for outcome in outcomes
              if outcome.action in ("created", "refreshed")}
    db.session.rollback()
    times["floor"], floor = _timed(lambda: floor_figures(sorted(scored), quarter))
    db.session.rollback()
    times["full floor"], full = _timed(lambda: full_floor(sorted(scored), quarter))
    db.session.rollback()
    return times, scored, floor, {cid: _as_stored(found) for cid, found in full.items()}


def _refuse_differences(scored: dict, floor: dict, full: dict) -> None:
    """Raise, naming them, if the service's figures differ from the floor's, or its figures,
    fingerprint or estimates from the full floor's."""
    differences = []
    for cid in sorted(set(scored) | set(floor) | set(full)):
        mine = scored.get(cid, {})
        for key in (*INDICATOR_KEYS, "completed_volume"):
            for name, theirs in (("floor", floor.get(cid, {})), ("full floor", full.get(cid, {}).get("figures", {}))):
                if mine.get("figures", {}).get(key) != theirs.get(key):
                    differences.append(f"contract {cid} {key}: service {str(mine.get('figures', {}).get(key))[:200]} "
                                       f"/ {name} {str(theirs.get(key))[:200]}")
        for part in ("fingerprint", "estimates"):
            if mine.get(part) != full.get(cid, {}).get(part):
                differences.append(f"contract {cid} {part}: service {str(mine.get(part))[:300]} / "
                                   f"full floor {str(full.get(cid, {}).get(part))[:300]}")
    if differences:
        print("\n".join(f"  {line}" for line in differences))
        raise AssertionError("the service's figures differ from a floor's")


def run(kind: str, quarter_text: str | None, repeat: int, gc_freeze: bool = True) -> None:
    from sqlalchemy import func, select

    from oversight.domain.periods import Quarter, quarter_of
    from oversight.extensions import db
    from oversight.models import CompletionRecord, Contract
    from oversight.services.audit import Actor, reset_actor, set_actor

    if not exists(kind):
        sys.exit(f"No {kind} bench database: run bench/history.py build --db {kind} first")
    from datetime import date

    quarter = Quarter.parse(quarter_text) if quarter_text else quarter_of(date.today()).previous()
    app = bench_app(kind)
    if gc_freeze:
        gc.collect()
        gc.freeze()
    with app.app_context():
        records = db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one()
        in_term = db.session.execute(select(func.count()).select_from(Contract).where(
            Contract.term_start <= quarter.end, Contract.term_end >= quarter.start)).scalar_one()
        print(f"Scoring {quarter} on {kind}: {in_term} contracts in term, {records:,} completion records; "
              f"load average {load_average()}; {'app frozen out of the GC' if gc_freeze else 'no gc.freeze'}")
        token = set_actor(Actor(None, "bench-scoring"))
        try:
            one_round(quarter)  # warm the caches (and the ORM's compiled statements)
            rounds = []
            for _ in range(repeat):
                times, scored, floor, full = one_round(quarter)
                rounds.append(times)
                _refuse_differences(scored, floor, full)
        finally:
            reset_actor(token)
    figures = {cid: found["figures"] for cid, found in scored.items()}
    print(f"  {len(scored)} contracts scored, figures identical to both floors', fingerprints and estimates to the "
          f"full floor's ({sum(f['completion'][1] for f in figures.values()):,} assignments due, "
          f"{sum(f['spot_check_pass'][1] for f in figures.values()):,} spot checks, "
          f"{sum(f['satisfaction'][1] for f in figures.values()):,} callbacks answered, "
          f"{sum(f['rectification'][1] for f in figures.values()):,} notices)")
    wall = {name: statistics.median(times[name][0] for times in rounds) for name in rounds[0]}
    cpu = {name: statistics.median(times[name][1] for times in rounds) for name in rounds[0]}
    for name, label in (("service", "service (score_quarter_reviews + flush)"),
                        ("floor", "floor (figures, hand-written SQL)"),
                        ("full floor", "full floor (+ fingerprint, estimates)")):
        print(f"  {label:42s} wall median {wall[name] * 1000:7.1f} ms, best {min(t[name][0] for t in rounds) * 1000:7.1f} ms;"
              f" CPU median {cpu[name] * 1000:6.1f} ms")
    # SQLite works inside this process, so there its CPU time counts the database's work too and
    # is less moved by other work on a shared machine; PostgreSQL's server is another process.
    apart = "" if kind == "sqlite" else " (CPU: this process's, the server apart)"
    for name in ("floor", "full floor"):
        print(f"  service / {name}: wall {wall['service'] / wall[name]:.2f}, CPU {cpu['service'] / cpu[name]:.2f}"
              f" (medians over {repeat} rounds){apart}")
    print(f"  load average {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=KINDS, default="sqlite")
    parser.add_argument("--quarter", default=None, help="e.g. 2026Q3 (default: the last finished quarter)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-gc-freeze", action="store_true", help="leave the loaded app in the GC's sight")
    args = parser.parse_args()
    run(args.db, args.quarter, args.repeat, gc_freeze=not args.no_gc_freeze)


if __name__ == "__main__":
    main()
