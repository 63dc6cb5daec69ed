from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...adapters.files import FileStoreError, uploads_store
from ...clock import county_today
from ...domain.completion_log import TEMPLATE_COLUMNS
from ...domain.corrections import CorrectionRefused, correctable_columns
from ...extensions import db
from ...models import CompletionRecord, CorrectionRequest
from ...services import corrections as service
from ...services.completion_records import registered_workers
from ...services.field_app import app_visit_of, visit_media_file
from ...services.media_audit import reviews_of_record
from ...policy import Action
from ..access import get_scoped_or_404
from ..access import contract_scope, get_contract_or_404, is_contractor_user, may, permission_required
from ..attachments_common import received
from ..downloads import send_stored
from ..params import paginate
from ..visit_form import cells, visit_form
from ..forms_common import redirect_refused_listing, refilled, send_back
from .forms import ApproveForm, CorrectionForm, RefuseForm

bp = Blueprint("corrections", __name__, url_prefix="/corrections")


def _record_or_404(record_id: int) -> CompletionRecord:
    """A record the user may see: a contractor only its own contracts' (else 404)."""
    record = get_scoped_or_404(CompletionRecord, record_id)
    get_contract_or_404(record.contract_id)
    return record


def _request_or_404(request_id: int) -> CorrectionRequest:
    found = get_scoped_or_404(CorrectionRequest, request_id)
    get_contract_or_404(found.contract_id)
    return found


@bp.route("/")
@login_required
def index():
    status = request.args.get("status", "")
    page = paginate(service.requests_query(contract_scope(), status or None))
    return render_template("corrections/index.html", page=page, status=status)


@bp.route("/records/<int:record_id>")
@login_required
def history(record_id: int):
    """The record as it stands, every version it had, and its correction requests."""
    record = _record_or_404(record_id)
    requests = db.session.execute(service.requests_query(record_id=record.id)).scalars().all()
    return render_template("corrections/history.html", record=record, versions=service.history(record),
                           app_visit=app_visit_of(record), media_reviews=reviews_of_record(record.id),
                           columns=service.shown_columns(record), requests=requests,
                           blocker=service.blocker(record) if is_contractor_user() else None,
                           may_request=service.may_request(record, current_user))


@bp.route("/records/<int:record_id>/media/<sha256>")
@login_required
def record_media(record_id: int, sha256: str):
    """A photo or the signature of a visit recorded in the app, to those who see the record."""
    record = _record_or_404(record_id)
    media = visit_media_file(record, sha256)
    if media is None:
        abort(404)
    return send_stored(uploads_store(), media.stored_path, mimetype=media.content_type,
                       download_name=f"{media.kind}-{media.sha256[:12]}{Path(media.stored_path).suffix}")


def _prefilled(form, record: CompletionRecord) -> None:
    current = service.current_cells(record)
    for column in correctable_columns(record.service_type):
        text = current[column.header]
        form[column.key].data = [item for item in text.split("、") if item] if column.key == "care_items" else text


def _field_errors(form, record: CompletionRecord, error: service.CorrectionInvalid) -> list[str]:
    """Put each refused cell's reason on its field; the ones without a field come back as messages."""
    keys = {column.header: column.key for column in TEMPLATE_COLUMNS[record.service_type]}
    loose = []
    for cell in error.errors:
        key = "worker_no" if keys.get(cell.column) == "worker_name" else keys.get(cell.column)
        if key in form:
            form[key].errors = [*form[key].errors, cell.reason]
        else:
            loose.append(f"{cell.column}：{cell.reason}" if cell.column else cell.reason)
    return loose


@bp.route("/records/<int:record_id>/new", methods=["GET", "POST"])
@permission_required(Action.REQUEST_CORRECTIONS)
def new(record_id: int):
    """The request form: the record's fields as they stand, to be changed where they are wrong."""
    record = _record_or_404(record_id)
    why = service.blocker(record)
    if why:  # said before anything is typed, and refused again if posted
        if request.method == "POST":
            flash(why, "danger")
        return render_template("corrections/new.html", record=record, form=None, blocker=why, refused=[]), \
            (409 if request.method == "POST" else 200)
    workers = registered_workers(record.worker.contractor_id)
    form = visit_form(record.service_type, workers, base=CorrectionForm)
    if not form.is_submitted():
        _prefilled(form, record)
    refused = []
    if form.validate_on_submit():
        try:
            created = service.request_correction(record, current_user, cells(form, record.service_type, workers),
                                                 form.reason.data, county_today(), received(form.attachments.data))
        except service.CorrectionInvalid as error:
            db.session.rollback()
            refused = _field_errors(form, record, error) or ["更正后的记录不符合服务记录规则，请按提示修改"]
        except (CorrectionRefused, FileStoreError) as error:
            db.session.rollback()
            refused = [str(error)]
        else:
            db.session.commit()
            flash("已提交更正申请，等待监管人员审核", "success")
            return redirect(url_for(".detail", request_id=created.id))
    kept, refused = redirect_refused_listing(form, refused)
    if kept:
        return kept
    current = service.current_cells(record)
    return render_template("corrections/new.html", record=record, form=form, blocker=None, refused=refused,
                           columns=correctable_columns(record.service_type), current=current)


@bp.route("/<int:request_id>")
@login_required
def detail(request_id: int):
    found = _request_or_404(request_id)
    deciding = may(Action.DECIDE_CORRECTIONS, found)
    return render_template("corrections/detail.html", request_=found, record=found.record,
                           changes=service.changes_of(found),
                           approve_form=ApproveForm() if deciding else None,
                           refuse_form=refilled(RefuseForm()) if deciding else None,
                           blocker=service.blocker(found.record, deciding=found) if deciding else None)


def _decided(request_id: int, decide, success: str):
    found = _request_or_404(request_id)
    try:
        decide(found)
    except CorrectionRefused as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for(".detail", request_id=found.id))


@bp.route("/<int:request_id>/approve", methods=["POST"])
@permission_required(Action.DECIDE_CORRECTIONS)
def approve(request_id: int):
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    return _decided(request_id, lambda found: service.approve(found, current_user, county_today(), form.note.data),
                    "已批准更正：服务记录已更新为新版本，原版本保留在历史中")


@bp.route("/<int:request_id>/refuse", methods=["POST"])
@permission_required(Action.DECIDE_CORRECTIONS)
def refuse(request_id: int):
    form = RefuseForm()
    if not form.validate_on_submit():
        return send_back(form, url_for(".detail", request_id=request_id))
    return _decided(request_id, lambda found: service.refuse(found, current_user, form.note.data), "已驳回更正申请")
