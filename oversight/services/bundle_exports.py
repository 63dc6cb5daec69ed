"""Audit bundles asked for on the exports page and built by a queue task.

The request only records an export job; the task builds the bundle from one snapshot, keeps it in
the reports store under its SHA-256 and logs the export (what was exported, its digests) in the
same commit that marks the job done, so a done job always has its bundle and its audit event. A
build that raises is retried by the queue; after the last attempt the job is failed with a
Chinese reason. Nothing is stored when the build raises (the working file is dropped).
"""
from __future__ import annotations

from sqlalchemy import select

from ..adapters.files import FileStoreError, reports_store
from ..clock import utcnow
from ..domain.vocabulary import ExportJobStatus
from ..exports.bundle import BUNDLE_FOLDER, BundleRefused, build_audit_bundle, consistent_snapshot, record_export
from ..extensions import db
from ..models import ExportJob, User
from ..policy import may_export_full_personal_data

UNEXPECTED = "审计包未能生成：系统内部错误，已记入系统的失败任务列表；请稍后重试或联系系统管理员"
SHOWN_JOBS = 30


def request_bundle(user: User, year: int, *, full: bool) -> ExportJob:
    """A pending job for the year's bundle (flushed, not committed); a full one only for an admin."""
    if full and not may_export_full_personal_data(user):
        raise BundleRefused("只有系统管理员可以导出含完整个人信息的审计包")
    job = ExportJob(requested_by_id=user.id, year=year, full=full, status=ExportJobStatus.PENDING)
    db.session.add(job)
    db.session.flush()
    return job


def bundle_key(job: ExportJob) -> str | None:
    """Where a done job's bundle is in the reports store."""
    return f"{BUNDLE_FOLDER}/{job.zip_sha256}.zip" if job.status == ExportJobStatus.DONE else None


def jobs_of(user: User) -> list[ExportJob]:
    """The user's newest export jobs."""
    return list(db.session.execute(
        select(ExportJob).where(ExportJob.requested_by_id == user.id)
        .order_by(ExportJob.requested_at.desc(), ExportJob.id.desc()).limit(SHOWN_JOBS)).scalars())


def build_requested_bundle(job_id: int, *, last_attempt: bool) -> None:
    """Build, store and log a pending job's bundle, as the current actor.

    Raises what the build raised (so that the queue tries again); on the last attempt the job is
    failed first. A refused bundle is failed at once: trying again changes nothing.
    """
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status != ExportJobStatus.PENDING:
        return
    store = reports_store()
    try:
        with store.working_file(BUNDLE_FOLDER, ".zip") as working:
            with consistent_snapshot():
                result = build_audit_bundle(job.year, working.name, full=job.full, exported_by=job.requested_by)
        record_export(result)
        job.status, job.zip_sha256, job.finished_at = ExportJobStatus.DONE, result.zip_sha256, utcnow()
        db.session.commit()
    except BundleRefused as error:
        _fail(job_id, str(error))
    except Exception as error:
        if last_attempt:
            _fail(job_id, f"审计包未能生成：{error}" if isinstance(error, FileStoreError) else UNEXPECTED)
        else:
            db.session.rollback()
        raise


def _fail(job_id: int, reason: str) -> None:
    db.session.rollback()
    job = db.session.get(ExportJob, job_id)
    job.status, job.error, job.finished_at = ExportJobStatus.FAILED, reason, utcnow()
    db.session.commit()
