"""Audit bundles asked for on the exports page and built by a queue task (a page job,
`services.page_jobs`).

A user whose area covers every county gets the whole database (every county, the city chain);
any other user of the bureau gets their counties' bundle (`exports.bundle`: those counties' rows
and audit chains only). The job keeps the counties it was asked for in `params["county_ids"]`
(no params: the whole database), the bundle is built for exactly those, and only its requester
downloads it while their area still covers them.

The request only records the job; the task builds the bundle from one snapshot into a working
file, keeps it in the reports store under its SHA-256 and logs the export (what was exported, its
digests) in the same commit that marks the job done, so a done job always has its bundle and its
audit event. Nothing is stored when the build raises or its worker dies (the working file is
dropped, by the build or by the recovery).
"""
from __future__ import annotations

from sqlalchemy import select

from ..adapters.files import reports_store
from ..domain.vocabulary import ExportJobKind, ExportJobStatus
from ..exports.bundle import (
    BUNDLE_FOLDER,
    BundleRefused,
    build_audit_bundle,
    consistent_snapshot,
    counties_text,
    record_export,
    scope_areas,
)
from ..extensions import db
from ..models import Area, ExportJob, User
from ..policy import may_export_full_personal_data
from . import page_jobs
from .areas import county_ids_under, every_county_id

WHOLE_CITY = "全部区县"

UNEXPECTED = page_jobs.UNEXPECTED.format(failed="审计包未能生成")


def bundle_counties(user: User) -> list[int] | None:
    """The counties of the user's bundle: None (the whole database) when their area covers every
    county, else those it covers (none below a township's area)."""
    ids = county_ids_under(user.area_id)
    return None if ids and len(ids) == len(every_county_id()) else ids


def job_counties(job: ExportJob) -> list[int] | None:
    """The counties a bundle job was asked for; None: every county and the city chain."""
    ids = (job.params or {}).get("county_ids")
    return None if ids is None else sorted(ids)


def request_bundle(user: User, year: int, *, full: bool) -> ExportJob:
    """A pending job for the year's bundle of the user's counties (flushed, not committed); a full
    one only for an admin."""
    if full and not may_export_full_personal_data(user):
        raise BundleRefused("只有系统管理员可以导出含完整个人信息的审计包")
    counties = bundle_counties(user)
    if counties == []:
        raise BundleRefused("您的账户所在区域下没有区县，没有可导出的审计包")
    params = None if counties is None else {"county_ids": counties}
    return page_jobs.new_job(user, ExportJobKind.AUDIT_BUNDLE, year=year, full=full, params=params)


def may_download(user: User, job: ExportJob) -> bool:
    """The requester's own done bundle, while they may still have it: a full one while an admin,
    a county's while their area covers its counties, the whole database's while it covers every county."""
    if job.kind != ExportJobKind.AUDIT_BUNDLE or job.requested_by_id != user.id:
        return False
    if job.full and not may_export_full_personal_data(user):
        return False
    asked, now = job_counties(job), bundle_counties(user)
    return now is None or (asked is not None and set(asked) <= set(now))


def scope_names(jobs: list[ExportJob]) -> dict[int, str]:
    """Each job's counties in words (全部区县 for the whole database), by job id."""
    names = {}
    for job in jobs:
        counties = job_counties(job)
        try:
            names[job.id] = WHOLE_CITY if counties is None else counties_text((area.name, area.code) for area in scope_areas(counties))
        except BundleRefused:  # an area since removed or changed in level
            names[job.id] = "、".join(f"区县 #{county}" for county in counties)
    return names


def download_name(job: ExportJob) -> str:
    """审计包_2026.zip, 审计包_2026_赣县区.zip (a county's), …_完整个人信息 for a full one."""
    counties = job_counties(job)
    place = ""
    if counties is not None:
        areas = list(db.session.execute(select(Area).where(Area.id.in_(counties)).order_by(Area.code)).scalars())
        place = "_" + ("_".join(area.name for area in areas) if len(areas) <= 3 else f"{len(areas)}个区县")
    return f"审计包_{job.year}{place}{'_完整个人信息' if job.full else ''}.zip"


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
                result = build_audit_bundle(job.year, working.name, full=job.full, exported_by=job.requested_by,
                                            county_ids=job_counties(job))
            page_jobs.test_pause(job.id)
    except BundleRefused as error:
        raise page_jobs.JobRefused(str(error)) from None
    record_export(result)
    job.zip_sha256 = result.zip_sha256


page_jobs.register_kind(ExportJobKind.AUDIT_BUNDLE, "审计包", _build, failed="审计包未能生成")
