"""Page jobs (audit bundles, draws) on the queue: a real `flask run-worker` killed with SIGKILL in the
middle of a bundle's build, on SQLite and on Redis, and the lease's recovery in this process."""
from __future__ import annotations

import os
import signal
import socket
from datetime import timedelta

from sqlalchemy import func, select

from oversight.clock import utcnow
from oversight.domain.vocabulary import ExportJobStatus
from oversight.extensions import db
from oversight.models import AuditEvent, ExportJob
from oversight.services.audit import Actor
from oversight.services.bundle_exports import request_bundle
from oversight.services.jobs import process_name
from oversight.services.page_jobs import INTERRUPTED, REQUEUED, recover_interrupted, working_tag
from oversight.tasks import queue_of
from tests.completion_support import TODAY, world  # noqa: F401  (fixture)
from tests.integration.test_queue import LEASE, PAUSED, Workers, _dead_pid, _until, backend  # noqa: F401  (fixture)

BUNDLE_INTERRUPTED = INTERRUPTED.format(what="审计包")


def _job(job_id: int) -> ExportJob:
    return db.session.get(ExportJob, job_id, populate_existing=True)


def _bundle_events() -> int:
    return db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.object_type == "AuditBundle")).scalar_one()


def _bundles(reports) -> list[str]:
    folder = reports / "bundles"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def _ask(auditor, year: int) -> ExportJob:
    job = request_bundle(auditor, year, full=False)
    db.session.commit()
    queue_of().page_job(job.id, Actor(auditor.id, auditor.username, None))
    return job


def test_a_worker_killed_mid_bundle_stores_and_logs_nothing_and_the_job_is_retried_or_failed(
        app, world, factory, backend, tmp_path):
    name, settings = backend
    # On SQLite the next worker builds it again; on Redis the job may start once only, so it is
    # failed with a Chinese reason and the auditor asks again.
    attempts = "2" if name == "sqlite" else "1"
    reports = tmp_path / "reports"
    workers = Workers(app, tmp_path, PAGE_JOB_MAX_ATTEMPTS=attempts, REPORTS_DIR=str(reports),
                      AUDIT_ANCHOR_FILE=app.config["AUDIT_ANCHOR_FILE"], **settings)
    auditor = factory.user("auditor")
    db.session.commit()
    job = _ask(auditor, TODAY.year)
    assert _job(job.id).status == ExportJobStatus.PENDING
    try:
        first, first_log = workers.start("--no-periodic", PAGE_JOB_TEST_PAUSE_SECONDS="600")
        _until(lambda: PAUSED in first_log.read_text(), "the build to hold its working file", logs=workers.logs)
        held = _job(job.id)
        assert (held.status, held.worker, held.attempts) == ("running", f"{socket.gethostname()}:{first.pid}", 1)
        working = list(reports.glob(f"bundles/.working-{working_tag(job.id)}*"))
        assert len(working) == 1 and working[0].stat().st_size > 0  # the zip was written, not yet kept
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        db.session.rollback()
        assert _job(job.id).status == "running" and _bundle_events() == 0 and _bundles(reports) == [working[0].name]

        workers.start("--no-periodic")
        if name == "sqlite":
            done = _until(lambda: _job(job.id).status == "done" and _job(job.id), "the bundle built again",
                          logs=workers.logs)
            assert (done.attempts, done.error) == (2, None) and done.zip_sha256
        else:
            failed = _until(lambda: _job(job.id).status == "failed" and _job(job.id), "the job failed",
                            logs=workers.logs)
            assert (failed.error, failed.zip_sha256, _bundle_events()) == (BUNDLE_INTERRUPTED, None, 0)
            assert _bundles(reports) == []  # the dead attempt's working file is gone too
            again = _ask(auditor, TODAY.year)
            done = _until(lambda: _job(again.id).status == "done" and _job(again.id), "the new request",
                          logs=workers.logs)
        # One bundle kept and one export logged (as the auditor), from the attempt that finished.
        assert _bundles(reports) == [f"{done.zip_sha256}.zip"] and _bundle_events() == 1
        export = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "AuditBundle")).scalar_one()
        assert export.user_id == auditor.id and export.changes["zip_sha256"] == done.zip_sha256
        outcomes = db.session.execute(select(AuditEvent.changes).where(
            AuditEvent.action == "job_interrupted", AuditEvent.object_id == str(job.id))).scalars().all()
        assert [o["outcome"] for o in outcomes] == ["pending" if name == "sqlite" else "failed"]
    finally:
        workers.stop()


# --- recovery in this process ----------------------------------------------------------------


def _held(user, *, worker: str, heartbeat, attempts: int = 1) -> ExportJob:
    job = request_bundle(user, TODAY.year, full=False)
    job.status, job.worker, job.heartbeat_at, job.attempts = "running", worker, heartbeat, attempts
    db.session.commit()
    return job


def test_a_dead_workers_job_is_queued_again_then_failed_and_a_live_lease_is_kept(app, factory, tmp_path):
    auditor = factory.user("auditor")
    now = utcnow()
    dead = _held(auditor, worker=f"{socket.gethostname()}:{_dead_pid()}", heartbeat=now)
    expired = _held(auditor, worker="other-host:1", heartbeat=now - LEASE - timedelta(seconds=1), attempts=2)
    alive = _held(auditor, worker=process_name(), heartbeat=now - timedelta(minutes=1))
    leftover = tmp_path / "reports" / "bundles" / f".working-{working_tag(expired.id)}abc.zip"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"half a zip")
    other = leftover.with_name(f".working-{working_tag(alive.id)}def.zip")
    other.write_bytes(b"a live build")

    assert recover_interrupted(now, LEASE, max_attempts=2) == [dead.id]
    queued, failed, kept = (_job(job.id) for job in (dead, expired, alive))
    assert (queued.status, queued.worker, queued.error) == ("pending", None, REQUEUED.format(what="审计包", attempt=2))
    assert (failed.status, failed.error, failed.zip_sha256) == ("failed", BUNDLE_INTERRUPTED, None)
    assert failed.finished_at is not None
    assert (kept.status, kept.worker) == ("running", process_name())
    assert not leftover.exists() and other.exists()  # only the dead attempt's working file is removed
    assert recover_interrupted(now, LEASE, max_attempts=2) == []  # nothing more to do


def test_a_pending_job_whose_queue_message_was_lost_is_enqueued_again_once_per_lease(app, factory):
    job = request_bundle(factory.user("auditor"), TODAY.year, full=False)
    db.session.commit()
    assert recover_interrupted(utcnow(), LEASE, 2) == []
    later = utcnow() + LEASE + timedelta(minutes=1)
    assert recover_interrupted(later, LEASE, 2) == [job.id]
    assert recover_interrupted(later + timedelta(minutes=1), LEASE, 2) == []


def test_the_heartbeat_renews_a_running_jobs_lease(app, factory):
    from oversight.services import leases

    job = request_bundle(factory.user("auditor"), TODAY.year, full=False)
    db.session.commit()
    table = ExportJob.__table__
    attempt = leases.claim(table, job.id)
    assert attempt == 1 and leases.claim(table, job.id) is None  # taken once
    first = _job(job.id).heartbeat_at
    with leases.heartbeat(table, job.id, attempt, 0.2):
        _until(lambda: _job(job.id).heartbeat_at > first, "a heartbeat", timeout=10)
    assert os.getpid() == int(_job(job.id).worker.rpartition(":")[2])


def test_the_jobs_page_lists_failed_page_jobs_in_chinese(app, factory, client_for):
    auditor = factory.user("auditor")
    failed = _held(auditor, worker="other-host:1", heartbeat=utcnow() - LEASE * 2, attempts=2)
    recover_interrupted(utcnow(), LEASE, 2)
    page = client_for(factory.user("admin")).get("/admin/jobs").get_data(as_text=True)
    assert "失败的页面任务" in page and f"<td>#{failed.id}</td><td>审计包</td>" in page
    assert BUNDLE_INTERRUPTED in page and auditor.display_name in page
