"""Leases on queued rows: the process building a page job holds it, and a dead holder's row is
queued again or failed; upload batches (`completion_import.recover_interrupted`) and page jobs
(`page_jobs.recover_interrupted`) share it.

A row is taken by one UPDATE from pending to running that records this process (`worker`, host:pid),
`heartbeat_at` and one more of `attempts` (`claim`). While the work runs, a thread renews the
heartbeat (`heartbeat`). The work's own result is committed only while the lease still stands
(`still_held`: the same row, running, the same attempt), so a row recovered meanwhile is never
finished by its old holder. `recover` finds running rows whose holder is gone from this host or
showed no life within the lease: queued again while attempts remain, else failed.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, func, select, update

from ..clock import utcnow
from ..extensions import db
from . import row_security
from .jobs import process_name

log = logging.getLogger(__name__)

PENDING, RUNNING, FAILED = "pending", "running", "failed"


def claim(table: Table, row_id: int) -> int | None:
    """Take a pending row for this process in a transaction of its own: its attempt number, or
    None when the row is not pending (finished, or held by another process)."""
    with db.engine.begin() as connection:
        taken = connection.execute(
            update(table).where(table.c.id == row_id, table.c.status == PENDING)
            .values(status=RUNNING, worker=process_name(), heartbeat_at=utcnow(), attempts=table.c.attempts + 1))
        if taken.rowcount != 1:
            return None
        return connection.execute(select(table.c.attempts).where(table.c.id == row_id)).scalar_one()


def still_held(table: Table, row_id: int, attempt: int):
    """The WHERE clause of a row still held by this attempt."""
    return (table.c.id == row_id, table.c.status == RUNNING, table.c.attempts == attempt,
            table.c.worker == process_name())


def release(table: Table, row_id: int, attempt: int) -> None:
    """Give a held row back to the queue (the task raised and will be tried again)."""
    with db.engine.begin() as connection:
        connection.execute(update(table).where(*still_held(table, row_id, attempt))
                           .values(status=PENDING, worker=None, heartbeat_at=utcnow()))


@contextmanager
def heartbeat(table: Table, row_id: int, attempt: int, every_seconds: float) -> Iterator[None]:
    """Renew the row's heartbeat every `every_seconds` from a thread while the block runs."""
    engine, stop = db.engine, threading.Event()

    def beat() -> None:
        while not stop.wait(every_seconds):
            try:
                with engine.begin() as connection:
                    connection.execute(update(table).where(*still_held(table, row_id, attempt))
                                       .values(heartbeat_at=utcnow()))
            except Exception:  # a missed beat only shortens the lease; the work goes on
                log.warning("heartbeat of %s #%s failed", table.name, row_id, exc_info=True)

    thread = threading.Thread(target=row_security.carried(beat), name=f"heartbeat-{table.name}-{row_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def beat_interval(lease: timedelta) -> float:
    """Seconds between heartbeats: a quarter of the lease, at most a minute."""
    return max(0.5, min(60.0, lease.total_seconds() / 4))


@dataclass(frozen=True)
class Interrupted:
    """A running row whose holder died: `requeued` (to enqueue again) or failed."""

    row_id: int
    worker: str | None
    attempts: int
    requeued: bool


def worker_gone(worker: str | None) -> bool:
    """True when `worker` ("host:pid") was a process of this host that no longer exists."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def recover(table: Table, now: datetime, lease: timedelta, max_attempts: int, *,
            failed_values: dict, requeued_values: dict | None = None, running: str = RUNNING,
            since: str = "requested_at") -> tuple[list[Interrupted], list[int]]:
    """Rows left `running` by a dead holder (no heartbeat within `lease`, or its process gone on
    this host), queued again while they have had fewer than `max_attempts` starts, else set to
    `failed_values`; and pending rows nobody took within `lease` (their queue message lost; the
    `since` column dates a row never taken), whose heartbeat is renewed so that they are returned
    once per lease. The caller commits."""
    held = db.session.execute(select(table.c.id, table.c.worker, table.c.attempts, table.c.heartbeat_at)
                              .where(table.c.status == running)).all()
    interrupted = []
    for row_id, worker, attempts, beat in held:
        if not (beat is None or beat < now - lease or worker_gone(worker)):
            continue
        same_lease = (table.c.id == row_id, table.c.status == running, table.c.attempts == attempts)
        again = attempts < max_attempts
        values = ({"status": PENDING, "worker": None, "heartbeat_at": now, **(requeued_values or {})} if again
                  else {"status": FAILED, **failed_values})
        if db.session.execute(update(table).where(*same_lease).values(**values)).rowcount == 1:
            interrupted.append(Interrupted(row_id, worker, attempts, again))  # else another worker was first
    dated = func.coalesce(table.c.heartbeat_at, table.c[since])
    lost = db.session.execute(select(table.c.id).where(table.c.status == PENDING, dated < now - lease)).scalars().all()
    for row_id in lost:
        db.session.execute(update(table).where(table.c.id == row_id, table.c.status == PENDING).values(heartbeat_at=now))
    return interrupted, list(lost)
