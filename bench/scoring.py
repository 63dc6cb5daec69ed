"""Quarterly scoring of every contract, against a hand-written SQL floor of the same figures.

    .venv/bin/python bench/scoring.py --db sqlite
    .venv/bin/python bench/scoring.py --db postgresql --quarter 2026Q3 --repeat 5

Needs the bench database (`bench/history.py build --db …`). Each round, in one process:

- service: `score_quarter_reviews(quarter)` — every contract whose term overlaps the quarter,
  evidence gathered, scored, the drafts stored and flushed (with their audit events); then the
  transaction is rolled back, so that the database is left as it was;
- floor: the same figures by hand-written SQL, one query per source over all contracts at once
  — per indicator its numerator and denominator, the ids of the records behind it and of those
  it counted, and the completed volume: what a review stores, and nothing else.

The script asserts that both give identical figures for every contract, then prints the median
(and best) time of each over the rounds and the ratio service / floor.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
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


def service_figures(review) -> dict:
    """The same shape, read from a scored review's stored figures."""
    figures = {item.key: (item.numerator, item.denominator, list(item.record_ids), list(item.counted_ids or []))
               for item in review.figures.indicators}
    figures["completed_volume"] = review.figures.completed_volume
    return figures


def one_round(quarter) -> tuple[tuple[float, float], tuple[float, float], dict, dict]:
    """(service wall, CPU seconds), (floor wall, CPU seconds) and the figures of each."""
    from oversight.extensions import db
    from oversight.services.reviews import score_quarter_reviews

    started, cpu = time.perf_counter(), time.process_time()
    outcomes = score_quarter_reviews(quarter)
    db.session.flush()
    service_seconds = time.perf_counter() - started, time.process_time() - cpu
    scored = {outcome.contract.id: service_figures(outcome.review) for outcome in outcomes
              if outcome.action in ("created", "refreshed")}
    db.session.rollback()
    started, cpu = time.perf_counter(), time.process_time()
    floor = floor_figures(sorted(scored), quarter)
    floor_seconds = time.perf_counter() - started, time.process_time() - cpu
    db.session.rollback()
    return service_seconds, floor_seconds, scored, floor


def run(kind: str, quarter_text: str | None, repeat: int) -> None:
    from sqlalchemy import func, select

    from oversight.domain.periods import Quarter, quarter_of
    from oversight.extensions import db
    from oversight.models import CompletionRecord, Contract
    from oversight.services.audit import Actor, reset_actor, set_actor

    if not exists(kind):
        sys.exit(f"No {kind} bench database: run bench/history.py build --db {kind} first")
    from datetime import date

    quarter = Quarter.parse(quarter_text) if quarter_text else quarter_of(date.today()).previous()
    with bench_app(kind).app_context():
        records = db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one()
        in_term = db.session.execute(select(func.count()).select_from(Contract).where(
            Contract.term_start <= quarter.end, Contract.term_end >= quarter.start)).scalar_one()
        print(f"Scoring {quarter} on {kind}: {in_term} contracts in term, {records:,} completion records; "
              f"load average {load_average()}")
        token = set_actor(Actor(None, "bench-scoring"))
        try:
            one_round(quarter)  # warm the caches (and the ORM's compiled statements)
            service_times, floor_times = [], []
            for _ in range(repeat):
                service_seconds, floor_seconds, scored, floor = one_round(quarter)
                service_times.append(service_seconds)
                floor_times.append(floor_seconds)
                if scored != floor:
                    for cid in sorted(set(scored) | set(floor)):
                        for key in (*INDICATOR_KEYS, "completed_volume"):
                            mine, theirs = scored.get(cid, {}).get(key), floor.get(cid, {}).get(key)
                            if mine != theirs:
                                print(f"  contract {cid} {key}: service {str(mine)[:200]} / floor {str(theirs)[:200]}")
                    raise AssertionError("the service's figures differ from the floor's")
        finally:
            reset_actor(token)
    service, floor_ = (statistics.median(wall for wall, _ in times) for times in (service_times, floor_times))
    service_cpu, floor_cpu = (statistics.median(cpu for _, cpu in times) for times in (service_times, floor_times))
    print(f"  {len(scored)} contracts scored, figures identical to the floor's "
          f"({sum(f['completion'][1] for f in scored.values()):,} assignments due, "
          f"{sum(f['spot_check_pass'][1] for f in scored.values()):,} spot checks, "
          f"{sum(f['satisfaction'][1] for f in scored.values()):,} callbacks answered, "
          f"{sum(f['rectification'][1] for f in scored.values()):,} notices)")
    print(f"  service (score_quarter_reviews + flush): median {service * 1000:7.1f} ms, best {min(service_times)[0] * 1000:7.1f} ms")
    print(f"  floor (hand-written SQL):                median {floor_ * 1000:7.1f} ms, best {min(floor_times)[0] * 1000:7.1f} ms")
    print(f"  ratio service / floor: {service / floor_:.2f} (median over {repeat} rounds); load average {load_average()}")
    # SQLite works inside this process, so there its CPU time counts the database's work too and
    # is less moved by other work on a shared machine; PostgreSQL's server is another process.
    print(f"  CPU time of this process: service {service_cpu * 1000:.1f} ms, floor {floor_cpu * 1000:.1f} ms, "
          f"ratio {service_cpu / floor_cpu:.2f}{'' if kind == 'sqlite' else ' (the server apart)'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=KINDS, default="sqlite")
    parser.add_argument("--quarter", default=None, help="e.g. 2026Q3 (default: the last finished quarter)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run(args.db, args.quarter, args.repeat)


if __name__ == "__main__":
    main()
