"""What keying the audit chain costs per appended event, on SQLite and PostgreSQL.

    .venv/bin/python bench/audit_append.py [--events 2000] [--rounds 3] [--db sqlite,postgresql]
                                          [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

"before": the append as it was before keying (plain SHA-256 of the event and the previous hash);
"after": `record_event` as it is now (the key ring looked up, HMAC-SHA256, the key id stored).
Both take PostgreSQL's advisory lock and read the previous hash the same way. Each is timed two
ways: appends inside one transaction (the cost of the append itself), and one transaction per
event (an append and its commit, as a single audited request). Rounds alternate before/after on
the same database, emptied in between, and the median round is printed, in ms per event.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from oversight import create_app  # noqa: E402
from oversight.domain.audit_chain import GENESIS_HASH, event_hash, to_json_value  # noqa: E402
from oversight.extensions import db  # noqa: E402
from oversight.models import AuditEvent  # noqa: E402
from oversight.clock import utcnow  # noqa: E402
from oversight.services.audit import SYSTEM_ACTOR, append_only_lifted, lock_chain, record_event  # noqa: E402


def legacy_append(action: str, object_type: str, object_id, changes: dict) -> None:
    """The append before keying, as it was written."""
    connection = db.session.connection()
    lock_chain(connection)
    prev = connection.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none() or GENESIS_HASH
    actor = SYSTEM_ACTOR
    fields = {"occurred_at": utcnow(), "user_id": actor.user_id, "actor": actor.name, "action": action,
              "object_type": object_type, "object_id": None if object_id is None else str(object_id),
              "changes": to_json_value(changes), "ip_address": actor.ip_address}
    connection.execute(insert(AuditEvent).values(**fields, prev_hash=prev, hash=event_hash(fields, prev)))


APPENDS = {"before": legacy_append, "after": record_event}


def empty_log() -> None:
    with append_only_lifted(db.session.connection()):
        db.session.execute(AuditEvent.__table__.delete())
    db.session.commit()


def timed(append, events: int, per_event_commit: bool) -> float:
    """ms per event for `events` appends of a typical event (a personal-data view)."""
    empty_log()
    started = time.perf_counter()
    for n in range(events):
        append("view_personal_data", "Subject", n, {"fields": ["id_number", "phone"], "reason": "回访核实"})
        if per_event_commit:
            db.session.commit()
    db.session.commit()
    return (time.perf_counter() - started) * 1000 / events


def measure(app, events: int, rounds: int) -> dict[tuple[str, str], float]:
    results: dict[tuple[str, str], list[float]] = {}
    with app.app_context():
        db.create_all()
        record_event("view_personal_data", "Subject", 0, {})  # creates the key file
        db.session.commit()
        for _ in range(rounds):
            for mode, per_event in (("one transaction", False), ("commit per event", True)):
                for name, append in APPENDS.items():
                    results.setdefault((mode, name), []).append(timed(append, events // (4 if per_event else 1),
                                                                      per_event))
        empty_log()
        db.engine.dispose()
    return {key: statistics.median(values) for key, values in results.items()}


def sqlite_app(folder: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "SECRET_KEY": "bench",
                       "UPLOADS_DIR": folder, "LOG_LEVEL": "WARNING", "AUDIT_KEY_FILE": f"{folder}/keys.json",
                       "AUDIT_ANCHOR_FILE": f"{folder}/anchors.jsonl"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    print(f"{args.events:,} appends in one transaction, {args.events // 4:,} with a commit each; "
          f"median of {args.rounds} rounds; load average {os.getloadavg()[0]:.1f}")
    print(f"{'database':<12} {'mode':<18} {'before ms/event':>16} {'after ms/event':>15} {'after/before':>13}")
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.db.split(","):
            if kind == "sqlite":
                figures = measure(sqlite_app(folder), args.events, args.rounds)
            else:
                schema = f"bench_audit_{secrets.token_hex(4)}"
                admin = create_engine(args.postgres)
                with admin.begin() as connection:
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    app = create_app({"SQLALCHEMY_DATABASE_URI": args.postgres, "SECRET_KEY": "bench",
                                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
                                      "UPLOADS_DIR": folder, "LOG_LEVEL": "WARNING",
                                      "AUDIT_KEY_FILE": f"{folder}/pg-keys.json",
                                      "AUDIT_ANCHOR_FILE": f"{folder}/pg-anchors.jsonl"})
                    figures = measure(app, args.events, args.rounds)
                finally:
                    with admin.begin() as connection:
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
            for mode in ("one transaction", "commit per event"):
                before, after = figures[(mode, "before")], figures[(mode, "after")]
                print(f"{kind:<12} {mode:<18} {before:>16.3f} {after:>15.3f} {after / before:>12.2f}×", flush=True)


if __name__ == "__main__":
    main()
