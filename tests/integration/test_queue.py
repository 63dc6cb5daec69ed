"""The task queue: real `flask run-worker` processes on the SQLite and the Redis backend, a worker
killed in the middle of an import, dead-worker recovery, and exactly-once jobs with two workers."""
from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from oversight.adapters.files import uploads_store
from oversight.clock import county_today, utcnow
from oversight.extensions import db
from oversight.jobs import JOBS
from oversight.models import Assignment, AuditEvent, CompletionRecord, JobRun, TaskFailure, UploadBatch
from oversight.services.completion_import import (
    INTERRUPTED_MESSAGE,
    RESTARTED_MESSAGE,
    recover_interrupted,
    start_import,
)
from oversight.services.jobs import process_name
from oversight.tasks import county_crontab, import_later, queue_of
from tests.completion_support import SURVEY, TODAY, csv_bytes, good_row, world  # noqa: F401  (fixture)
from tests.process_support import flask, subprocess_env

REDIS_URL = "redis://127.0.0.1:6379/0"
LEASE = timedelta(minutes=10)
PAUSED = "paused before commit"


def _until(check, what: str, timeout: float = 240, logs=()):
    """Poll `check` (in a fresh transaction each time) until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        if value := check():
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; worker output:\n" + "\n".join(
        path.read_text(errors="replace")[-4000:] for path in logs))


def _batch(batch_id: int) -> UploadBatch:
    return db.session.get(UploadBatch, batch_id, populate_existing=True)


def _records_of(batch_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(CompletionRecord)
                              .where(CompletionRecord.batch_id == batch_id)).scalar_one()


class Workers:
    """`flask run-worker` processes of one test, each logging to a file; all stopped at the end."""

    def __init__(self, app, tmp_path, **settings: str):
        self.env = subprocess_env(app, tmp_path, QUEUE_IMMEDIATE="false", UPLOADS_DIR=app.config["UPLOADS_DIR"],
                                  **settings)
        self.tmp_path, self.running = tmp_path, []

    def start(self, *args: str, **settings: str):
        log = self.tmp_path / f"worker-{len(self.running) + 1}.log"
        env = {**self.env, **{f"OVERSIGHT_{name}": value for name, value in settings.items()}}
        with log.open("w") as out:
            process = flask(["run-worker", *args], env, stdout=out, stderr=out)
        self.running.append((process, log))
        return process, log

    @property
    def logs(self):
        return [log for _, log in self.running]

    def stop(self):
        for process, _ in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process, _ in self.running:
            try:
                process.wait(timeout=60)
            except Exception:
                process.kill()
                process.wait(timeout=30)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, app, tmp_path):
    """The app's queue on one backend, not immediate; Redis under a name of this test only, flushed after."""
    settings = {"QUEUE_NAME": f"oversight-test-{uuid.uuid4().hex[:12]}"}
    settings["QUEUE_URL"] = REDIS_URL if request.param == "redis" else f"sqlite:///{tmp_path / 'queue.sqlite'}"
    app.config.update(QUEUE_IMMEDIATE=False, IMPORT_SYNC=False, **settings)
    queue = queue_of(app)
    yield request.param, settings
    queue.huey.flush()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_batch_is_retried_or_failed(app, world, backend, tmp_path):
    name, settings = backend
    # On SQLite the new worker starts the batch again; on Redis it may start it once only, so it
    # fails it and the contractor uploads the same file again.
    attempts = "2" if name == "sqlite" else "1"
    workers = Workers(app, tmp_path, IMPORT_MAX_ATTEMPTS=attempts, **settings)
    data = csv_bytes(SURVEY, [good_row(world, SURVEY, i) for i in range(3)])
    batch = start_import(world.contract, SURVEY, data, "log.csv", None, uploads_store())
    db.session.commit()
    import_later(batch.id, TODAY)
    try:
        first, first_log = workers.start("--no-periodic", IMPORT_TEST_PAUSE_SECONDS="600")
        _until(lambda: PAUSED in first_log.read_text(), "the import to hold its transaction", logs=workers.logs)
        held = _batch(batch.id)
        assert (held.status, held.worker, held.attempts) == ("processing", f"{socket.gethostname()}:{first.pid}", 1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        db.session.rollback()
        assert _batch(batch.id).status == "processing" and _records_of(batch.id) == 0

        workers.start("--no-periodic")
        if name == "sqlite":
            done = _until(lambda: _batch(batch.id).status == "accepted" and _batch(batch.id), "the batch retried",
                          logs=workers.logs)
            assert (done.attempts, done.rows_accepted, _records_of(batch.id)) == (2, 3, 3)
        else:
            failed = _until(lambda: _batch(batch.id).status == "failed" and _batch(batch.id), "the batch failed",
                            logs=workers.logs)
            assert (failed.message, _records_of(batch.id)) == (INTERRUPTED_MESSAGE, 0)
            again = start_import(world.contract, SURVEY, data, "log.csv", None, uploads_store())
            db.session.commit()
            assert again.status == "pending"  # the failed batch does not make the file a duplicate
            import_later(again.id, TODAY)
            done = _until(lambda: _batch(again.id).status == "accepted" and _batch(again.id), "the new upload",
                          logs=workers.logs)
            assert (done.rows_accepted, _records_of(again.id)) == (3, 3)
        assert db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one() == 3
        statuses = db.session.execute(select(Assignment.status).where(
            Assignment.id.in_([a.id for a in world.assignments[SURVEY]]))).scalars().all()
        assert statuses == ["completed"] * 3
        outcomes = db.session.execute(select(AuditEvent.changes).where(
            AuditEvent.action == "import_interrupted")).scalars().all()
        assert [o["outcome"] for o in outcomes] == ["pending" if name == "sqlite" else "failed"]
    finally:
        workers.stop()


def test_two_workers_run_each_period_of_a_job_once(app, factory, tmp_path):
    contract = factory.contract()
    late = [factory.assignment(contract, due_date=county_today() - timedelta(days=3)) for _ in range(20)]
    today = county_today()
    # Every other job's period is already done, so that the workers only contend for this one.
    for spec in JOBS:
        if spec.name != "mark_overdue":
            db.session.add(JobRun(job_name=spec.name, period_key=spec.cadence.due_period(today), trigger="manual",
                                  outcome="succeeded"))
    db.session.commit()
    every_minute = {"minute": "*", "hour": "*", "day": "*", "month": "*"}
    workers = Workers(app, tmp_path, QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite'}",
                      JOB_SCHEDULE=json.dumps({"mark_overdue": every_minute}))
    try:
        for _ in range(2):
            workers.start()

        def scheduled_in_both():
            return all('"job": "mark_overdue"' in log.read_text() for log in workers.logs)

        _until(scheduled_in_both, "both workers to run the periodic job", logs=workers.logs)
    finally:
        workers.stop()
    runs = db.session.execute(select(JobRun).where(JobRun.job_name == "mark_overdue")).scalars().all()
    assert [(r.period_key, r.outcome, r.summary["assignments_overdue"]) for r in runs] == [
        (today.isoformat(), "succeeded", 20)]
    claimed = sum(log.read_text().count('"outcome": "already_claimed"') for log in workers.logs)
    assert claimed >= 2  # each worker's scheduler ran the job and found the period taken
    db.session.expire_all()
    assert {db.session.get(Assignment, a.id).status for a in late} == {"overdue"}


# --- recovery and scheduling, in this process ----------------------------------------------


def _held(world, data: bytes, *, worker: str, heartbeat: datetime, attempts: int = 1) -> UploadBatch:
    batch = start_import(world.contract, SURVEY, data, "log.csv", None, uploads_store())
    batch.status, batch.worker, batch.heartbeat_at, batch.attempts = "processing", worker, heartbeat, attempts
    db.session.commit()
    return batch


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_dead_workers_batch_is_restarted_then_failed_and_a_live_lease_is_kept(world):
    now = utcnow()
    rows = [csv_bytes(SURVEY, [good_row(world, SURVEY, i)]) for i in range(3)]
    dead = _held(world, rows[0], worker=f"{socket.gethostname()}:{_dead_pid()}", heartbeat=now)
    expired = _held(world, rows[1], worker="other-host:1", heartbeat=now - LEASE - timedelta(seconds=1), attempts=2)
    alive = _held(world, rows[2], worker=process_name(), heartbeat=now - timedelta(minutes=1))
    recovered = recover_interrupted(now, LEASE, max_attempts=2)
    assert (recovered.restarted, recovered.failed) == ([dead.id], [expired.id])
    restarted, failed, kept = (_batch(b.id) for b in (dead, expired, alive))
    assert (restarted.status, restarted.worker, restarted.message) == ("pending", None, RESTARTED_MESSAGE.format(attempt=2))
    assert (failed.status, failed.message) == ("failed", INTERRUPTED_MESSAGE)
    assert (kept.status, kept.worker) == ("processing", process_name())
    # A second recovery finds nothing more to do; the restarted batch waits in the queue.
    assert recover_interrupted(now, LEASE, max_attempts=2).failed == []
    # The failed batch does not refuse its file again.
    assert start_import(world.contract, SURVEY, rows[1], "log.csv", None, uploads_store()).status == "pending"


def test_a_pending_batch_whose_queue_message_was_lost_is_enqueued_again_once_per_lease(world):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY)])
    batch = start_import(world.contract, SURVEY, data, "log.csv", None, uploads_store())
    db.session.commit()
    assert recover_interrupted(utcnow(), LEASE, 2).restarted == []
    later = utcnow() + LEASE + timedelta(minutes=1)
    assert recover_interrupted(later, LEASE, 2).restarted == [batch.id]
    assert recover_interrupted(later + timedelta(minutes=1), LEASE, 2).restarted == []


def test_job_times_are_county_times_whatever_the_workers_zone():
    anchor = county_crontab({"hour": 0, "minute": 30})
    assert anchor(datetime(2026, 3, 1, 16, 30))  # 00:30 on 2 March in 北京时间
    assert not anchor(datetime(2026, 3, 2, 0, 30))
    quarterly = county_crontab({"month": "1,4,7,10", "day": 1, "hour": 3, "minute": 0})
    assert quarterly(datetime(2026, 3, 31, 19, 0)) and not quarterly(datetime(2026, 4, 1, 3, 0))


def test_the_jobs_page_lists_failed_tasks_and_failed_batches_in_chinese(app, world, factory, client_for):
    data = csv_bytes(SURVEY, [good_row(world, SURVEY)])
    failed = _held(world, data, worker="other-host:1", heartbeat=utcnow() - LEASE * 2, attempts=2)
    recover_interrupted(utcnow(), LEASE, 2)
    db.session.add(TaskFailure(task_name="import_batch", task_id="t-1", arguments="(7,)",
                               error="OperationalError: could not connect"))
    db.session.commit()
    page = client_for(factory.user("admin")).get("/admin/jobs").get_data(as_text=True)
    assert "失败的后台任务" in page and "OperationalError: could not connect" in page
    assert f"#{failed.id}" in page and INTERRUPTED_MESSAGE in page
    assert "立即执行（不经队列）" in page or "SQLite" in page
