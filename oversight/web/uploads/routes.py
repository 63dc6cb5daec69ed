import math
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ...adapters.files import FileStoreError, uploads_store
from ...clock import county_today
from ...domain.vocabulary import BatchStatus, ServiceType, label_of
from ...extensions import db
from ...models import CompletionRecord, Contract, UploadBatch
from ...policy import Action
from ...services.completion_import import (
    ImportRefused,
    all_errors,
    earlier_batch,
    skipped_note,
    start_import,
    unlisted_errors,
)
from ...services.completion_records import filtered_batches, log_template
from ...tasks import import_later
from ..access import get_scoped_or_404
from ..access import contract_scope, get_contract_or_404, permission_required, scope_to_own_contracts
from ..downloads import send_stored
from ..params import database_int, page_number, paginate
from .forms import UploadForm

bp = Blueprint("uploads", __name__, url_prefix="/uploads")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUNNING = ("pending", "processing")
STATUS_BADGES = {"pending": "assigned", "processing": "assigned", "accepted": "ok", "rejected": "bad", "failed": "bad"}


@dataclass(frozen=True)
class ListPage:
    """One page of a plain list, shaped like Flask-SQLAlchemy's pagination for the `pager` macro."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _batch_or_404(batch_id: int) -> UploadBatch:
    batch = get_scoped_or_404(UploadBatch, batch_id)
    get_contract_or_404(batch.contract_id)
    return batch


@bp.app_context_processor
def _labels() -> dict:
    return {"BATCH_STATUS_BADGES": STATUS_BADGES}


@bp.route("/")
@login_required
def index():
    contract_id = request.args.get("contract", type=database_int)
    if contract_id:
        get_contract_or_404(contract_id)
    page = paginate(filtered_batches(contract_id, contract_scope()))
    contracts = db.session.execute(
        scope_to_own_contracts(select(Contract).order_by(Contract.code), Contract.id)).scalars().all()
    return render_template("uploads/index.html", page=page, contracts=contracts, contract_id=contract_id)


@bp.route("/contracts/<int:contract_id>/new", methods=["GET", "POST"])
@permission_required(Action.ENTER_RECORDS)
def upload(contract_id: int):
    contract = get_contract_or_404(contract_id)
    form = UploadForm()
    form.service_type.choices = [(line.service_type, line.label) for line in contract.service_lines]
    if not form.is_submitted() and request.args.get("service_type") in contract.service_types:
        form.service_type.data = request.args["service_type"]
    if form.validate_on_submit():
        upload_file = form.file.data
        try:
            batch = start_import(contract, form.service_type.data, upload_file.read(), upload_file.filename,
                                 current_user, uploads_store())
        except (ImportRefused, FileStoreError) as error:
            flash(str(error), "danger")
        else:
            db.session.commit()
            if batch.status == "pending":
                import_later(batch.id, county_today())
            return redirect(url_for(".detail", batch_id=batch.id))
    recent = db.session.execute(filtered_batches(contract.id).limit(10)).scalars().all()
    return render_template("uploads/upload.html", contract=contract, form=form, recent=recent)


@bp.route("/contracts/<int:contract_id>/template/<service_type>.xlsx")
@permission_required(Action.ENTER_RECORDS)
def template(contract_id: int, service_type: str):
    contract = get_contract_or_404(contract_id)
    if service_type not in contract.service_types:
        abort(404)
    prefill = request.args.get("prefill") == "1"
    data = log_template(contract, service_type, current_user, prefill=prefill)
    db.session.commit()  # the audit event of a pre-filled template's full ID numbers
    name = f"{contract.code}-{label_of(ServiceType, service_type)}服务记录{'（预填）' if prefill else ''}.xlsx"
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.route("/batches/<int:batch_id>")
@login_required
def detail(batch_id: int):
    batch = _batch_or_404(batch_id)
    errors = all_errors(batch, uploads_store()) if batch.status == "rejected" else []
    per_page = current_app.config["UPLOAD_ERRORS_PAGE_SIZE"]
    number = page_number(per_page)
    errors_page = ListPage(errors[(number - 1) * per_page: number * per_page], number, per_page, len(errors))
    flagged = db.session.execute(select(func.count()).select_from(CompletionRecord).where(
        CompletionRecord.batch_id == batch.id, CompletionRecord.flagged)).scalar_one()
    earlier = earlier_batch(batch.sha256) if batch.status == "rejected" and not batch.error_count else None
    if earlier is not None and earlier.contract.contractor_id != batch.contract.contractor_id:
        earlier = None  # another contractor's batch is not pointed at
    return render_template("uploads/detail.html", batch=batch, errors_page=errors_page, flagged=flagged,
                           earlier=earlier, running=batch.status in RUNNING, skipped=skipped_note(batch),
                           unlisted=unlisted_errors(batch, len(errors)) if errors else None)


@bp.route("/batches/<int:batch_id>/status")
@login_required
def status(batch_id: int):
    batch = _batch_or_404(batch_id)
    return jsonify(status=batch.status, label=label_of(BatchStatus, batch.status), rows_total=batch.rows_total,
                   rows_processed=batch.rows_processed, message=batch.message, done=batch.status not in RUNNING)


@bp.route("/batches/<int:batch_id>/errors.xlsx")
@login_required
def error_report(batch_id: int):
    batch = _batch_or_404(batch_id)
    return send_stored(uploads_store(), batch.error_report_path, mimetype=XLSX,
                       download_name=f"错误标注-{Path(batch.filename).stem}.xlsx")


@bp.route("/batches/<int:batch_id>/original")
@login_required
def original(batch_id: int):
    batch = _batch_or_404(batch_id)
    return send_stored(uploads_store(), batch.stored_path, download_name=batch.filename)
