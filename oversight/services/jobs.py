"""Running scheduled jobs exactly once per period, whatever the number of processes.

A run first claims its (job, period) row in a transaction of its own; the unique key lets only
one process win. The work then runs in a second transaction and the row records the outcome.
"""
from __future__ import annotations

import os
import socket
import traceback
from dataclasses import dataclass
from datetime import date
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..domain.schedule import Cadence
from ..extensions import db
from ..models import JobRun
from . import row_security
from .audit import SYSTEM_ACTOR, reset_actor, set_actor


@dataclass(frozen=True)
class JobContext:
    period_key: str
    today: date
    config: dict


@dataclass(frozen=True)
class JobSpec:
    name: str
    label: str
    cadence: Cadence
    cron: dict  # crontab fields (minute, hour, day, month, day_of_week), county time
    body: Callable[[JobContext], dict]


def process_name() -> str:
    """This process as "host:pid", the name job runs and import leases record."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(name: str, period_key: str, trigger: str) -> JobRun | None:
    """Insert the run's row and commit; None when another process already claimed the period."""
    run = JobRun(job_name=name, period_key=period_key, trigger=trigger, process=process_name())
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run


def execute(spec: JobSpec, period_key: str, trigger: str, today: date, config: dict,
            run_key: str | None = None) -> JobRun | None:
    """Claim the period (or `run_key`) and run the job's body; None if already claimed."""
    run = claim(spec.name, run_key or period_key, trigger)
    if run is None:
        return None
    token = set_actor(SYSTEM_ACTOR)
    try:
        with row_security.system_scope():  # a job is the system's work, whoever started it
            summary = spec.body(JobContext(period_key, today, config)) or {}
            run.summary, run.outcome = summary, "succeeded"
            run.finished_at = utcnow()
            db.session.commit()
    except Exception:  # a failed job is recorded, never lost
        db.session.rollback()
        run = db.session.get(JobRun, run.id)
        run.outcome, run.error, run.finished_at = "failed", traceback.format_exc(limit=20), utcnow()
        db.session.commit()
    finally:
        reset_actor(token)
    return run


def run_now(spec: JobSpec, today: date, config: dict) -> JobRun:
    """An admin's 'run now': the due period again, recorded apart (jobs are idempotent)."""
    period = spec.cadence.due_period(today)
    return execute(spec, period, "manual", today, config, run_key=f"{period}@{utcnow():%Y%m%dT%H%M%S%f}")


def catch_up(specs: list[JobSpec], today: date, config: dict) -> list[JobRun]:
    """Run each job's latest due period once if no process has run it yet (after downtime)."""
    runs = []
    for spec in specs:
        period = spec.cadence.due_period(today)
        done = db.session.execute(select(JobRun.id).where(
            JobRun.job_name == spec.name, JobRun.period_key == period)).first()
        if not done and (run := execute(spec, period, "catch_up", today, config)) is not None:
            runs.append(run)
    return runs


def last_runs(specs: list[JobSpec]) -> dict[str, JobRun | None]:
    result = {}
    for spec in specs:
        result[spec.name] = db.session.execute(
            select(JobRun).where(JobRun.job_name == spec.name).order_by(JobRun.id.desc()).limit(1)
        ).scalar_one_or_none()
    return result
