"""The task queue: completion-log imports, the page jobs (audit bundles asked for on the exports
page, draws asked for on the 抽样 page), the recovery of interrupted imports and page jobs, and the
scheduled jobs run as Huey tasks in `flask run-worker` processes, apart from the web processes.

Huey keeps its queue in SQLite in the instance folder by default (no server to run) and in
Redis when QUEUE_URL is `redis://…`; the worker's own scheduler enqueues the periodic tasks.
Each app builds its queue on first use (`queue_of`); QUEUE_IMMEDIATE runs every task at once in
the caller, as the tests do. Every task runs in an app context as the actor who asked for it.

A task that raises (the database unreachable, say) is retried TASK_RETRIES times, TASK_RETRY_DELAY
seconds apart, and a last failure is kept in `task_failures` for the 定时任务 page. A job's own
failure is on its job run, an import's on its batch; a job's period stays claimed whichever
worker ran it, so two workers never do a period's work twice (`services.jobs.execute`).
"""
from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.signals import SIGNAL_ERROR

from .clock import county_today, county_wall_time, utcnow
from .extensions import db
from .jobs import JOBS
from .services import row_security
from .services.audit import SYSTEM_ACTOR, Actor, current_actor, reset_actor, set_actor
from .services.completion_import import recover_interrupted, run_import
from .services.jobs import JobSpec, execute
from .services.mailer import SmtpSettings
from .services.notifications import deliver_pending_emails

log = logging.getLogger(__name__)
_KEY = "oversight_queue"
_build_lock = threading.Lock()


@dataclass(frozen=True)
class Queue:
    """An app's Huey and the tasks the web enqueues (the others are periodic)."""

    huey: Huey
    import_batch: TaskWrapper
    page_job: TaskWrapper

    def describe(self) -> str:
        """Where the queue lives, for the 定时任务 page and the worker's banner."""
        storage = self.huey.storage
        if self.huey.immediate:
            return "立即执行（不经队列）"
        if isinstance(self.huey, RedisHuey):
            kwargs = storage.conn.connection_pool.connection_kwargs
            return f"Redis {kwargs.get('host', '')}:{kwargs.get('port', '')}/{kwargs.get('db', 0)}（{self.huey.name}）"
        return f"SQLite {storage.filename}"


def queue_of(app: Flask | None = None) -> Queue:
    """The app's queue, built once."""
    app = app or current_app._get_current_object()
    with _build_lock:
        if _KEY not in app.extensions:
            app.extensions[_KEY] = _build(app)
    return app.extensions[_KEY]


def import_later(batch_id: int, today: date) -> None:
    """Process the batch on the queue as the current actor, or here and now when IMPORT_SYNC is set."""
    if current_app.config["IMPORT_SYNC"]:
        run_import(batch_id, today)
        return
    queue_of().import_batch(batch_id, today, current_actor())


def export_later(job_id: int) -> None:
    """Run the page job (an audit bundle, a draw) on the queue as the current actor."""
    queue_of().page_job(job_id, current_actor())


def recover_now(app: Flask) -> list[int]:
    """Recover interrupted batches and page jobs and enqueue those started again; the batches' ids."""
    queue = queue_of(app)
    with _in_app(app, SYSTEM_ACTOR):
        return _recover(app, queue)


def _huey(app: Flask) -> Huey:
    config = app.config
    options = {"immediate": bool(config["QUEUE_IMMEDIATE"]), "results": False, "utc": True}
    url = config["QUEUE_URL"]
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(config["QUEUE_NAME"], url=url, **options)
    filename = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "queue.sqlite")
    return SqliteHuey(config["QUEUE_NAME"], filename=filename, **options)


def county_crontab(fields: dict):
    """A Huey periodic test for crontab `fields` read in county time (the worker passes UTC)."""
    matches = crontab(**{key: str(value) for key, value in fields.items()})
    return lambda moment: matches(county_wall_time(moment))


@contextmanager
def _in_app(app: Flask, actor: Actor) -> Iterator[None]:
    with app.app_context():
        token = set_actor(actor)
        try:
            with row_security.county_scope(_counties_of(actor)):
                yield
        finally:
            reset_actor(token)
            db.session.remove()


def _counties_of(actor: Actor) -> list[int] | None:
    """The counties a task sees: those of the user it acts for; the system's (None) for the
    system's own tasks (the recovery, the scheduled jobs)."""
    if actor.user_id is None:
        return None
    from .models import User

    user = db.session.get(User, actor.user_id)
    return row_security.counties_of_user(user) if user is not None else []


def _recover(app: Flask, queue: Queue) -> list[int]:
    recovered = recover_interrupted(utcnow(), timedelta(minutes=app.config["IMPORT_LEASE_MINUTES"]),
                                    app.config["IMPORT_MAX_ATTEMPTS"])
    for batch_id in recovered.restarted:
        queue.import_batch(batch_id, county_today(), SYSTEM_ACTOR)
    _recover_page_jobs(app, queue)
    return recovered.restarted


def _recover_page_jobs(app: Flask, queue: Queue) -> list[int]:
    """Page jobs left 生成中 by a dead worker: queued again as the user who asked, or failed."""
    from .models import ExportJob
    from .services.page_jobs import recover_interrupted as recover_jobs

    again = recover_jobs(utcnow(), timedelta(minutes=app.config["PAGE_JOB_LEASE_MINUTES"]),
                         app.config["PAGE_JOB_MAX_ATTEMPTS"])
    for job_id in again:
        job = db.session.get(ExportJob, job_id)
        user = job.requested_by
        queue.page_job(job_id, Actor(user.id, user.username, None))
    return again


def _build(app: Flask) -> Queue:
    huey = _huey(app)
    retry = {"retries": app.config["TASK_RETRIES"], "retry_delay": app.config["TASK_RETRY_DELAY"]}

    @huey.task(name="import_batch", **retry)
    def import_batch(batch_id: int, today: date, actor: Actor) -> None:
        with _in_app(app, actor):
            run_import(batch_id, today)

    def run_page_job(job_id: int, actor: Actor, task) -> None:
        from .services.page_jobs import run_job  # the bundle's and the draws' libraries load on first use

        with _in_app(app, actor):
            run_job(job_id, last_attempt=not task.retries)

    @huey.task(name="page_job", context=True, **retry)
    def page_job(job_id: int, actor: Actor, task=None) -> None:
        run_page_job(job_id, actor, task)

    @huey.task(name="export_bundle", context=True, **retry)
    def export_bundle(job_id: int, actor: Actor, task=None) -> None:
        """The page job's former name: messages queued before an upgrade still run."""
        run_page_job(job_id, actor, task)

    @huey.periodic_task(crontab(), name="recover_imports", **retry)
    def recover_imports() -> None:
        with _in_app(app, SYSTEM_ACTOR):
            _recover(app, queue)

    @huey.periodic_task(crontab(minute=f"*/{app.config['EMAIL_DELIVERY_MINUTES']}"), name="deliver_emails", **retry)
    def deliver_emails() -> None:
        with _in_app(app, SYSTEM_ACTOR):
            deliver_pending_emails(SmtpSettings.from_config(app.config))

    for spec in JOBS:
        _schedule(app, huey, spec, retry)

    @huey.signal(SIGNAL_ERROR)
    def keep_failure(signal, task, exc=None) -> None:
        if task.retries:  # it will be tried again
            return
        from .models import TaskFailure

        with _in_app(app, SYSTEM_ACTOR):
            db.session.add(TaskFailure(
                task_name=task.name[:64], task_id=str(task.id), arguments=repr(task.args)[:300],
                error="".join(traceback.format_exception(exc, limit=20)) if exc else "未知错误"))
            db.session.commit()

    queue = Queue(huey, import_batch, page_job)
    return queue


def _schedule(app: Flask, huey: Huey, spec: JobSpec, retry: dict) -> None:
    fields = {**spec.cron, **app.config["JOB_SCHEDULE"].get(spec.name, {})}

    @huey.periodic_task(county_crontab(fields), name=f"job_{spec.name}", **retry)
    def scheduled() -> None:
        with _in_app(app, SYSTEM_ACTOR):
            today = county_today()
            run = execute(spec, spec.cadence.due_period(today), "schedule", today, dict(app.config))
            log.info("scheduled job", extra={"fields": {
                "job": spec.name, "period": spec.cadence.due_period(today),
                "outcome": run.outcome if run else "already_claimed"}})
