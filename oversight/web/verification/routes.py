"""核对比对: the bureau imports other departments' verification data and works through the
contradictions it shows. Bureau staff only: a contractor never sees this data (403 here, and
no flag on its record pages)."""
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from ...adapters.files import uploads_store
from ...clock import county_today
from ...adapters.tables.templates import verification_template
from ...domain.vocabulary import VerificationKind, label_of
from ...extensions import db
from ...models import EvidenceFlag, User, VerificationImport
from ...services.verification import (
    FlagError,
    VerificationRefused,
    close_flag,
    describe,
    flags_by_record,
    flags_of_subject,
    flags_query,
    import_verification,
)
from ...policy import Action
from ..access import contract_scope, get_scoped_or_404, may, managed_area_ids, permission_required, sees_anomaly_flags
from ..downloads import send_stored
from ..params import paginate
from .forms import CloseFlagForm, VerificationForm

bp = Blueprint("verification", __name__, url_prefix="/verification")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global()
def evidence_flags_of_subject(subject_id: int) -> list[EvidenceFlag]:
    """A subject's evidence flags for its page; none for a contractor."""
    return flags_of_subject(subject_id) if sees_anomaly_flags() else []


@bp.app_template_global()
def evidence_flags_by_record(records) -> dict[int, list[EvidenceFlag]]:
    """The evidence flags of a table's records; none for a contractor."""
    return flags_by_record(record.id for record in records) if sees_anomaly_flags() else {}


@bp.route("/", methods=["GET", "POST"])
@permission_required(Action.READ_OVERSIGHT)
def index():
    form = VerificationForm() if may(Action.IMPORT_VERIFICATION_DATA) else None
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            upload = form.file.data
            try:
                outcome = import_verification(form.kind.data, upload.read(), upload.filename, current_user,
                                              county_today(), uploads_store())
            except VerificationRefused as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                db.session.commit()
                entry = outcome.verification_import
                if outcome.accepted:
                    flash(describe(entry), "success")
                else:
                    flash(entry.message or "文件未导入", "danger")
                return redirect(url_for(".detail", import_id=entry.id))
    imports = paginate(db.select(VerificationImport).where(_imports_in_scope()).order_by(VerificationImport.id.desc()))
    return render_template("verification/index.html", form=form, page=imports)


def _imports_in_scope():
    """A verification import is its uploader's area's: seen by the users of that area and above."""
    return VerificationImport.uploaded_by_id.in_(select(User.id).where(User.area_id.in_(managed_area_ids())))


def _import_or_404(import_id: int) -> VerificationImport:
    entry = db.session.execute(select(VerificationImport).where(
        VerificationImport.id == import_id, _imports_in_scope())).scalar_one_or_none()
    if entry is None:
        abort(404)
    return entry


@bp.route("/imports/<int:import_id>")
@permission_required(Action.READ_OVERSIGHT)
def detail(import_id: int):
    entry = _import_or_404(import_id)
    shown = current_app.config["IMPORT_ERRORS_SHOWN"]
    flags = db.session.execute(flags_query(import_id=entry.id, contract_ids=contract_scope())).scalars().all()
    return render_template("verification/detail.html", entry=entry, errors=entry.errors[:shown], flags=flags,
                           summary=describe(entry) if entry.status == "accepted" else None)


@bp.route("/imports/<int:import_id>/errors.xlsx")
@permission_required(Action.IMPORT_VERIFICATION_DATA)
def error_report(import_id: int):
    entry = _import_or_404(import_id)
    return send_stored(uploads_store(), entry.error_report_path, mimetype=XLSX,
                       download_name=f"错误报告-核对数据导入{entry.id}.xlsx")


@bp.route("/template/<kind>.xlsx")
@permission_required(Action.IMPORT_VERIFICATION_DATA)
def template(kind: str):
    if kind not in VerificationKind.codes():
        abort(404)
    return send_file(BytesIO(verification_template(kind)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{label_of(VerificationKind, kind)}导入模板.xlsx")


@bp.route("/flags/")
@permission_required(Action.READ_OVERSIGHT)
def flags():
    status, kind = request.args.get("status", ""), request.args.get("kind", "")
    page = paginate(flags_query(status or None, kind or None, contract_ids=contract_scope()))
    return render_template("verification/flags.html", page=page, status=status, kind=kind)


@bp.route("/flags/<int:flag_id>", methods=["GET", "POST"])
@permission_required(Action.READ_OVERSIGHT)
def flag(flag_id: int):
    item = get_scoped_or_404(EvidenceFlag, flag_id)
    form = CloseFlagForm() if may(Action.IMPORT_VERIFICATION_DATA) and item.status != "closed" else None
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            try:
                close_flag(item, current_user, form.note.data)
            except FlagError as error:
                flash(str(error), "danger")
            else:
                db.session.commit()
                flash("疑点已关闭", "success")
                return redirect(url_for(".flag", flag_id=item.id))
    return render_template("verification/flag.html", flag=item, form=form)
