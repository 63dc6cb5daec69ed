"""Downloads: quarterly review sheets, annual evaluation reports, the audit bundle, the OCDS package."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ...adapters.files import FileStoreError, reports_store
from ...clock import county_today, utcnow
from ...extensions import db
from ...models import AnnualEvaluation, QuarterlyReview
from ...policy import EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS, Action, may_export_full_personal_data
from ...services.audit import record_event
from ...services.kpi_evidence import evidence_rows
from ...services.reviews import current_reviews_query
from ..access import (
    get_evaluation_or_404,
    get_review_or_404,
    permission_required,
    scope_to_own_contracts,
    sees_draft_reviews,
    sees_unapproved_evaluations,
)
from ..downloads import send_stored

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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


@bp.route("/exports/audit-bundle.zip")
@permission_required(Action.EXPORT_AUDIT_DATA)
def audit_bundle():
    from ...exports.bundle import BUNDLE_FOLDER, build_audit_bundle, consistent_snapshot, record_export

    year = _year()
    full = request.args.get("full") == "1"
    if full and not may_export_full_personal_data(current_user):
        abort(403)
    store = reports_store()
    try:
        # Assembled in a local working file, kept in the store under its SHA-256 (BUNDLE_FOLDER) and
        # sent from there; the export is logged only once the bundle is safely stored.
        with store.working_file(BUNDLE_FOLDER, ".zip") as working:
            with consistent_snapshot():
                result = build_audit_bundle(year, working.name, full=full,
                                            exported_by=current_user._get_current_object())
        record_export(result)
        db.session.commit()
    except FileStoreError as error:
        db.session.rollback()
        flash(f"审计包未能生成：{error}", "danger")
        return redirect(url_for(".index", year=year))
    return send_stored(store, working.key, mimetype="application/zip",
                       download_name=f"审计包_{year}{'_完整个人信息' if full else ''}.zip")


@bp.route("/exports/ocds/<int:year>.json")
@permission_required(Action.EXPORT_AUDIT_DATA)
def ocds_package(year: int):
    from ...exports.ocds import InvalidPackage, NothingToPublish, build_package, package_json

    if not 2000 <= year <= 2100:  # the years the page offers; others have no calendar dates to build
        abort(404)
    try:
        package = build_package(year, url_for(".ocds_package", year=year, _external=True), today=county_today())
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
