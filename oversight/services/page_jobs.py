"""Page jobs: heavy work a user asks for on a page, recorded as an `export_jobs` row and run by a
queue task as that user — an audit bundle (`bundle_exports`), a draw over every contract
(`draw_jobs`).

A job is 排队中 (pending) until a worker takes it under a lease (`services.leases`: 生成中,
running, with the worker, its heartbeat and the attempt), then 已完成 or 失败. The work's result
and the job's 已完成 are committed together and only while the lease still stands, so a done job
always has its result and its audit events, and a job recovered from a dead worker is never
finished by it. A worker killed mid-job leaves nothing of that attempt: its transaction is lost
and its working file is removed by the recovery, which queues the job again while it has had
fewer than PAGE_JOB_MAX_ATTEMPTS starts, else fails it with INTERRUPTED. A task that raises is
given back to the queue (pending) for the queue's own retry; after the last it is failed with a
Chinese reason. Work refused for a reason the user can act on (`JobRefused`) fails at once.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from ..clock import utcnow
from ..domain.vocabulary import ExportJobKind, ExportJobStatus
from ..extensions import db
from ..models import ExportJob, User
from . import leases
from .audit import record_event

log = logging.getLogger(__name__)

SHOWN_JOBS = 30
UNEXPECTED = "{failed}：系统内部错误，已记入系统的失败任务列表；请稍后重试或联系系统管理员"
INTERRUPTED = "{what}进程意外中断，未保存任何结果；请重新提交"
REQUEUED = "{what}进程意外中断，未保存任何结果，已重新排队（第 {attempt} 次）"
WORKING_FOLDER = "bundles"


class JobRefused(ValueError):
    """The job cannot be done as asked; the message is Chinese, for the user. Failed at once."""


@dataclass(frozen=True)
class Kind:
    """How one kind of job is done: `work(job)` does it in the session (flushed, not committed);
    `what` names it in messages, `failed` begins its failure reasons (审计包未能生成)."""

    what: str
    work: Callable[[ExportJob], None]
    failed: str


KINDS: dict[str, Kind] = {}


def register_kind(code: str, what: str, work: Callable[[ExportJob], None], *, failed: str) -> None:
    KINDS[code] = Kind(what, work, failed)


def _kind(code: str) -> Kind:
    from . import bundle_exports, draw_jobs  # noqa: F401  (each registers its kind on import)

    return KINDS[code]


def what_of(job: ExportJob) -> str:
    """The job's kind in words: 审计包, 抽样."""
    return ExportJobKind.labels().get(job.kind, job.kind)


def new_job(user: User, kind: str, *, year: int, full: bool = False, params: dict | None = None) -> ExportJob:
    """A pending job (flushed, not committed)."""
    job = ExportJob(requested_by_id=user.id, kind=kind, year=year, full=full, params=params,
                    status=ExportJobStatus.PENDING)
    db.session.add(job)
    db.session.flush()
    return job


def jobs_of(user: User, kind: str) -> list[ExportJob]:
    """The user's newest jobs of one kind."""
    return list(db.session.execute(
        select(ExportJob).where(ExportJob.requested_by_id == user.id, ExportJob.kind == kind)
        .order_by(ExportJob.requested_at.desc(), ExportJob.id.desc()).limit(SHOWN_JOBS)).scalars())


def unfinished(job: ExportJob) -> bool:
    return job.status in (ExportJobStatus.PENDING, ExportJobStatus.RUNNING)


def test_pause(job_id: int) -> None:
    """The queue tests' hook: hold a job's work open (its transaction, its working file) so that
    a worker can be killed in it."""
    seconds = current_app.config["PAGE_JOB_TEST_PAUSE_SECONDS"]
    if seconds:
        log.warning("page job %s paused before commit (PAGE_JOB_TEST_PAUSE_SECONDS)", job_id)
        time.sleep(seconds)


def run_job(job_id: int, *, last_attempt: bool) -> None:
    """Take a pending job, do it and commit its result with 已完成, as the current actor.

    Raises what the work raised (so that the queue tries again; the job is pending again
    meanwhile); on the last attempt the job is failed first. A job not pending (done, failed,
    taken by another worker) is left alone.
    """
    table = ExportJob.__table__
    code = db.session.execute(select(table.c.kind).where(table.c.id == job_id)).scalar_one_or_none()
    if code is None:
        return
    kind = _kind(code)
    db.session.rollback()
    attempt = leases.claim(table, job_id)
    if attempt is None:
        return
    job = db.session.get(ExportJob, job_id, populate_existing=True)
    lease = timedelta(minutes=current_app.config["PAGE_JOB_LEASE_MINUTES"])
    try:
        with leases.heartbeat(table, job_id, attempt, leases.beat_interval(lease)):
            kind.work(job)
            # The lease is checked (and the row locked) in the transaction that finishes the job.
            if db.session.execute(update(table).where(*leases.still_held(table, job_id, attempt))
                                  .values(heartbeat_at=utcnow())).rowcount != 1:
                log.warning("page job %s: lease lost before commit; its result is dropped", job_id)
                db.session.rollback()
                return
            job.status, job.finished_at, job.error = ExportJobStatus.DONE, utcnow(), None
            db.session.commit()
    except JobRefused as error:
        _fail(job_id, attempt, str(error))
    except Exception as error:
        if last_attempt:
            _fail(job_id, attempt, _reason(kind, error))
        else:
            db.session.rollback()
            leases.release(table, job_id, attempt)
        raise


def _reason(kind: Kind, error: Exception) -> str:
    from ..adapters.files import FileStoreError

    if isinstance(error, FileStoreError):
        return f"{kind.failed}：{error}"
    return UNEXPECTED.format(failed=kind.failed)


def _fail(job_id: int, attempt: int, reason: str) -> None:
    db.session.rollback()
    table = ExportJob.__table__
    if db.session.execute(update(table).where(*leases.still_held(table, job_id, attempt)).values(heartbeat_at=utcnow())
                          ).rowcount != 1:
        db.session.rollback()
        return
    job = db.session.get(ExportJob, job_id, populate_existing=True)
    job.status, job.error, job.finished_at = ExportJobStatus.FAILED, reason, utcnow()
    db.session.commit()


def working_tag(job_id: int) -> str:
    """The mark in a job's working file names, so that the recovery can remove a dead attempt's."""
    return f"job{job_id}-"


def recover_interrupted(now: datetime, lease: timedelta, max_attempts: int) -> list[int]:
    """Jobs left 生成中 by a dead worker, queued again or failed (with INTERRUPTED), each recorded
    in the audit log, their working files removed; commits. Returns the ids to enqueue: those
    queued again and the pending ones whose queue message was lost."""
    from ..adapters.files import reports_store

    table = ExportJob.__table__
    kinds = dict(db.session.execute(select(table.c.id, table.c.kind).where(table.c.status == "running")).all())
    interrupted, lost = leases.recover(table, now, lease, max_attempts,
                                       failed_values={"finished_at": now}, requeued_values={})
    store = reports_store()
    for row in interrupted:
        what = ExportJobKind.labels().get(kinds.get(row.row_id, ""), "后台任务")
        message = REQUEUED.format(what=what, attempt=row.attempts + 1) if row.requeued else INTERRUPTED.format(what=what)
        db.session.execute(update(table).where(table.c.id == row.row_id).values(error=message))
        record_event("job_interrupted", "ExportJob", row.row_id,
                     {"worker": row.worker, "attempts": row.attempts,
                      "outcome": "pending" if row.requeued else "failed"})
        try:
            store.discard_working(WORKING_FOLDER, working_tag(row.row_id))
        except Exception:  # a leftover scratch file is harmless; the job's state is what matters
            log.warning("could not remove the working files of page job %s", row.row_id, exc_info=True)
    db.session.commit()
    return [row.row_id for row in interrupted if row.requeued] + lost
