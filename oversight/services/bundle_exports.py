"""Audit bundles asked for on the exports page and built by a queue task (a page job,
`services.page_jobs`).

The request only records the job; the task builds the bundle from one snapshot into a working
file, keeps it in the reports store under its SHA-256 and logs the export (what was exported, its
digests) in the same commit that marks the job done, so a done job always has its bundle and its
audit event. Nothing is stored when the build raises or its worker dies (the working file is
dropped, by the build or by the recovery).
"""
from __future__ import annotations

from ..adapters.files import reports_store
from ..domain.vocabulary import ExportJobKind, ExportJobStatus
from ..exports.bundle import BUNDLE_FOLDER, BundleRefused, build_audit_bundle, consistent_snapshot, record_export
from ..models import ExportJob, User
from ..policy import may_export_full_personal_data
from . import page_jobs

UNEXPECTED = page_jobs.UNEXPECTED.format(failed="审计包未能生成")


def request_bundle(user: User, year: int, *, full: bool) -> ExportJob:
    """A pending job for the year's bundle (flushed, not committed); a full one only for an admin."""
    if full and not may_export_full_personal_data(user):
        raise BundleRefused("只有系统管理员可以导出含完整个人信息的审计包")
    return page_jobs.new_job(user, ExportJobKind.AUDIT_BUNDLE, year=year, full=full)


def bundle_key(job: ExportJob) -> str | None:
    """Where a done job's bundle is in the reports store."""
    return f"{BUNDLE_FOLDER}/{job.zip_sha256}.zip" if job.status == ExportJobStatus.DONE else None


def jobs_of(user: User) -> list[ExportJob]:
    """The user's newest audit-bundle jobs."""
    return page_jobs.jobs_of(user, ExportJobKind.AUDIT_BUNDLE)


def build_requested_bundle(job_id: int, *, last_attempt: bool) -> None:
    """Build, store and log a pending job's bundle, as the current actor (see page_jobs.run_job)."""
    page_jobs.run_job(job_id, last_attempt=last_attempt)


def _build(job: ExportJob) -> None:
    """Build the bundle, keep it and log the export (flushed; run_job commits with 已完成)."""
    store = reports_store()
    try:
        with store.working_file(BUNDLE_FOLDER, ".zip", tag=page_jobs.working_tag(job.id)) as working:
            with consistent_snapshot():
                result = build_audit_bundle(job.year, working.name, full=job.full, exported_by=job.requested_by)
            page_jobs.test_pause(job.id)
    except BundleRefused as error:
        raise page_jobs.JobRefused(str(error)) from None
    record_export(result)
    job.zip_sha256 = result.zip_sha256


page_jobs.register_kind(ExportJobKind.AUDIT_BUNDLE, "审计包", _build, failed="审计包未能生成")
