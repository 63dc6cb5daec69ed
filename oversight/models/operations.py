"""Scheduled-job runs, queued audit bundles and in-app notices."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..domain.vocabulary import EmailStatus, ExportJobKind, ExportJobStatus, JobOutcome, JobTrigger, NotificationKind
from .base import one_of, utcnow


class JobRun(db.Model):
    """One run of a scheduled job for one period; the unique key makes each period run once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_name", "period_key"), one_of("trigger", JobTrigger),
                      one_of("outcome", JobOutcome))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(64))
    period_key: Mapped[str] = mapped_column(String(32))  # "2026-11-25", "2026-11", "2026Q3", "2026"
    trigger: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    process: Mapped[str | None] = mapped_column(String(64))


class TaskFailure(db.Model):
    """A queue task that raised after its last retry (a job's or an import's own failure is on its
    job run or batch row instead)."""

    __tablename__ = "task_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(String(64))
    task_id: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[str] = mapped_column(String(300))
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ExportJob(db.Model):
    """Heavy work a user asked for on a page, run by a queue task (后台任务): an audit bundle
    (`kind` audit_bundle; once done the zip is in the reports store under
    `bundles/<zip_sha256>.zip`, the digest its audit event logs) or a draw (`draw`: `params` the
    form's choices, `result` the draws made and the scopes skipped). The worker building it holds
    a lease (`worker`, `heartbeat_at`, `attempts`; `services.leases`); a failed one keeps the
    Chinese reason shown on its page."""

    __tablename__ = "export_jobs"
    __table_args__ = (one_of("status", ExportJobStatus), one_of("kind", ExportJobKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="audit_bundle", server_default="audit_bundle")
    year: Mapped[int]
    full: Mapped[bool] = mapped_column(default=False)
    params: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    zip_sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    requested_by: Mapped[User] = relationship()  # noqa: F821


class Notification(db.Model):
    """An in-app notice to one user, and the outbox row of its e-mail.

    `dedup_key` keeps an event from notifying a user twice. The e-mail is sent apart, by
    `services.notifications.deliver_pending_emails` (a worker or `flask send-notifications`),
    which claims a pending row (`sending`) before it talks to the mail server.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "dedup_key"), one_of("kind", NotificationKind),
                      one_of("email_status", EmailStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    email_status: Mapped[str] = mapped_column(String(16), default="skipped", index=True)
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_error: Mapped[str | None] = mapped_column(Text)  # the last failure, or why it is skipped
    email_to: Mapped[str | None] = mapped_column(String(254))
    email_claimed_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class NotificationPreference(db.Model):
    """Whether a user wants e-mail for one kind of notification; no row: the kind's default (yes)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"), one_of("kind", NotificationKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    email: Mapped[bool] = mapped_column(default=True)
