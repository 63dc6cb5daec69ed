import logging

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for
from sqlalchemy import select, text

from ...clock import county_today
from ...domain.vocabulary import describe_counts
from ...extensions import csrf, db
from ...jobs import JOBS, JOBS_BY_NAME
from ...models import ExportJob, JobRun, TaskFailure, UploadBatch, User
from ...policy import Action
from ...services.jobs import last_runs, run_now
from ...tasks import queue_of
from ..access import managed_area_ids, scope_to_own_contracts
from ..access import permission_required
from ..params import paginate

bp = Blueprint("operations", __name__)
log = logging.getLogger(__name__)


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """Liveness and database reachability, for load balancers and monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # the point is to report it, not to crash
        return jsonify(status="error", database=str(error.__class__.__name__)), 503
    return jsonify(status="ok", database="ok")


@bp.route("/admin/jobs")
@permission_required(Action.RUN_JOBS)
def jobs():
    history = paginate(select(JobRun).order_by(JobRun.id.desc()))
    queue = queue_of()
    try:
        waiting = queue.huey.pending_count()
    except Exception:  # a queue that cannot be reached is what the page must say
        log.exception("queue unreachable")
        waiting = None
    failures = db.session.execute(select(TaskFailure).order_by(TaskFailure.id.desc()).limit(20)).scalars().all()
    failed_batches = db.session.execute(scope_to_own_contracts(select(UploadBatch), UploadBatch.contract_id)
                                        .where(UploadBatch.status == "failed")
                                        .order_by(UploadBatch.id.desc()).limit(20)).scalars().all()
    failed_page_jobs = db.session.execute(select(ExportJob).where(
        ExportJob.status == "failed", ExportJob.requested_by_id.in_(select(User.id).where(User.area_id.in_(managed_area_ids()))))
                                          .order_by(ExportJob.id.desc()).limit(20)).scalars().all()
    return render_template("operations/jobs.html", jobs=JOBS, jobs_by_name=JOBS_BY_NAME, last=last_runs(JOBS),
                           history=history, queue=queue.describe(), waiting=waiting, failures=failures,
                           failed_batches=failed_batches, failed_page_jobs=failed_page_jobs)


@bp.route("/admin/jobs/<name>/run", methods=["POST"])
@permission_required(Action.RUN_JOBS)
def run_job(name: str):
    spec = JOBS_BY_NAME.get(name)
    if spec is None:
        return redirect(url_for(".jobs"))
    run = run_now(spec, county_today(), dict(current_app.config))
    flash(f"{spec.label}：{'完成' if run.outcome == 'succeeded' else '失败'} {describe_counts(run.summary or {})}",
          "success" if run.outcome == "succeeded" else "danger")
    return redirect(url_for(".jobs"))
