"""Downloads: quarterly review sheets, annual evaluation reports, the audit bundles (built on the
queue, listed on their own page), the OCDS package."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ...adapters.files import reports_store
from ...clock import county_today, utcnow
from ...extensions import db
from ...models import AnnualEvaluation, ExportJob, QuarterlyReview
from ...policy import EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS, Action
from ...services.audit import record_event
from ...services.kpi_evidence import evidence_rows
from ...services.reviews import current_reviews_query
from ..access import covers_every_county, visible_county_ids
from ..access import (
    get_evaluation_or_404,
    get_review_or_404,
    permission_required,
    scope_to_own_contracts,
    sees_draft_reviews,
    sees_unapproved_evaluations,
)
from ...tasks import export_later
from ..downloads import send_stored

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _posted_year() -> int:
    """The year a form posts (the years the page offers), else 400."""
    year = request.form.get("year", type=int)
    if year is None or not 2000 <= year <= 2100:
        abort(400)
    return year


def _year() -> int:
    """The year asked for, else the newest year with a quarterly review, else this year."""
    year = request.args.get("year", type=int)
    if year and 2000 <= year <= 2100:
        return year
    newest = db.session.execute(select(func.max(QuarterlyReview.quarter))).scalar()
    return int(newest[:4]) if newest else county_today().year


@bp.route("/exports/")
@login_required
def index():
    year = _year()
    reviews = db.session.execute(
        scope_to_own_contracts(current_reviews_query(published_only=not sees_draft_reviews()), QuarterlyReview.contract_id)
        .where(QuarterlyReview.quarter.like(f"{year:04d}Q_"))
        .order_by(QuarterlyReview.contract_id, QuarterlyReview.quarter)
    ).scalars().all()
    evaluations = select(AnnualEvaluation).where(AnnualEvaluation.year == year)
    if not sees_unapproved_evaluations():
        evaluations = evaluations.where(AnnualEvaluation.status.in_(EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS))
    evaluations = db.session.execute(
        scope_to_own_contracts(evaluations, AnnualEvaluation.contract_id)
        .order_by(AnnualEvaluation.contract_id, AnnualEvaluation.revision)
    ).scalars().all()
    return render_template("exports/index.html", year=year, reviews=reviews, evaluations=evaluations)


@bp.route("/reviews/<int:review_id>/sheet.xlsx")
@login_required
def review_sheet(review_id: int):
    from ...exports.sheets import review_sheet as build

    review = get_review_or_404(review_id)
    data = build(review, generated_at=utcnow(), evidence=evidence_rows(review.figures))
    name = f"季度考核表_{review.contract.code}_{review.quarter}_第{review.revision}版.xlsx"
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.route("/evaluations/<int:evaluation_id>/report.<any(docx, pdf):kind>")
@login_required
def evaluation_report(evaluation_id: int, kind: str):
    from ...exports.reports import build_report, to_docx, to_pdf

    evaluation = get_evaluation_or_404(evaluation_id)
    report = build_report(evaluation, generated_at=utcnow())
    data = to_docx(report) if kind == "docx" else to_pdf(report)
    name = f"年度绩效评价报告_{evaluation.contract.code}_{evaluation.year}_第{evaluation.revision}版.{kind}"
    return send_file(io.BytesIO(data), mimetype=DOCX if kind == "docx" else "application/pdf", as_attachment=True,
                     download_name=name)


@bp.route("/exports/audit-bundles", methods=["POST"])
@permission_required(Action.EXPORT_AUDIT_DATA)
def request_bundle():
    """Queue the year's bundle as the current user; it is built apart, listed on the bundles page.
    It holds the whole database for a user whose area covers every county, else their counties'
    (`services.bundle_exports`)."""
    from ...exports.bundle import BundleRefused
    from ...services.bundle_exports import request_bundle as new_job

    year = _posted_year()
    try:
        job = new_job(current_user._get_current_object(), year, full=request.form.get("full") == "1")
    except BundleRefused:
        abort(403)
    db.session.commit()
    export_later(job.id)
    flash(f"已开始生成 {year} 年度审计包，完成后可在本页下载", "success")
    return redirect(url_for(".bundles"))


@bp.route("/exports/audit-bundles/")
@permission_required(Action.EXPORT_AUDIT_DATA)
def bundles():
    from ...services.bundle_exports import jobs_of

    from ...services.page_jobs import unfinished

    from ...services.bundle_exports import scope_names

    jobs = jobs_of(current_user._get_current_object())
    return render_template("exports/bundles.html", jobs=jobs, scopes=scope_names(jobs),
                           pending=any(unfinished(job) for job in jobs))


@bp.route("/exports/audit-bundles/<int:job_id>.zip")
@permission_required(Action.EXPORT_AUDIT_DATA)
def bundle_download(job_id: int):
    """A done bundle, to the user who asked for it only, while they may still have it (404 to anyone else)."""
    from ...services.bundle_exports import bundle_key, download_name, may_download

    job = db.session.get(ExportJob, job_id)
    if job is None or not may_download(current_user._get_current_object(), job):
        abort(404)
    return send_stored(reports_store(), bundle_key(job), mimetype="application/zip", download_name=download_name(job))


@bp.route("/exports/ocds/<int:year>.json")
@permission_required(Action.EXPORT_AUDIT_DATA)
def ocds_package(year: int):
    from ...exports.ocds import InvalidPackage, NothingToPublish, build_package, package_json

    if not 2000 <= year <= 2100:  # the years the page offers; others have no calendar dates to build
        abort(404)
    try:
        package = build_package(year, url_for(".ocds_package", year=year, _external=True), today=county_today(),
                                county_ids=None if covers_every_county() else visible_county_ids())
    except NothingToPublish as error:
        flash(str(error), "warning")
        return redirect(url_for(".index", year=year))
    except InvalidPackage as error:
        current_app.logger.error("OCDS package for %s failed validation: %s", year, error.errors)
        flash("OCDS 数据未通过模式校验，请联系系统管理员查看日志", "danger")
        return redirect(url_for(".index", year=year))
    record_event("export", "OcdsPackage", year, {"releases": len(package["releases"])})
    db.session.commit()
    return send_file(io.BytesIO(package_json(package).encode("utf-8")), mimetype="application/json", as_attachment=True,
                     download_name=f"ocds_{year}.json")
