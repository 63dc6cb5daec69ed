import re
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, render_template, send_file

from ...adapters.files import FileStoreError, uploads_store
from ...adapters.tables.templates import sheet_template
from ...clock import county_today
from ...domain.vocabulary import ImportKind, label_of
from ...extensions import db
from ...policy import Action
from ...services.bulk_import import REPORT_FOLDER, import_assignments, import_subjects, keep_sheet, save_error_report
from ..access import county_for_new_row, permission_required, visible_county_ids
from ..downloads import send_stored
from .forms import ImportForm

bp = Blueprint("imports", __name__, url_prefix="/imports")

_REPORT_NAME = re.compile(r"^[0-9a-f]{16}\.xlsx$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/", methods=["GET", "POST"])
@permission_required(Action.IMPORT_REGISTERS)
def index():
    form = ImportForm()
    outcome, report = None, None
    if form.validate_on_submit():
        upload = form.file.data
        data, filename = upload.read(), upload.filename
        if form.kind.data == "subjects":
            outcome = import_subjects(data, filename, county_today(), county_for_new_row())
        else:
            outcome = import_assignments(data, filename, county_today(), visible_county_ids())
        if outcome.accepted:
            try:
                keep_sheet(data, filename, uploads_store())
            except FileStoreError as error:
                db.session.rollback()
                flash(f"未导入：{error}", "danger")
                outcome = None
            else:
                db.session.commit()
                flash(f"已导入{label_of(ImportKind, form.kind.data)} {outcome.rows} 条", "success")
        else:
            db.session.rollback()
            if outcome.status == "rejected":
                try:
                    report = save_error_report(data, filename, outcome, uploads_store())
                except FileStoreError as error:
                    flash(f"标注错误的文件未能生成：{error}", "danger")
    return render_template("imports/index.html", form=form, outcome=outcome, report=report,
                           errors=outcome.errors[:current_app.config["IMPORT_ERRORS_SHOWN"]] if outcome else [])


@bp.route("/template/<kind>.xlsx")
@permission_required(Action.IMPORT_REGISTERS)
def template(kind: str):
    if kind not in ImportKind.codes():
        abort(404)
    return send_file(BytesIO(sheet_template(kind)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{label_of(ImportKind, kind)}导入模板.xlsx")


@bp.route("/errors/<name>")
@permission_required(Action.IMPORT_REGISTERS)
def error_report(name: str):
    if not _REPORT_NAME.match(name):
        abort(404)
    return send_stored(uploads_store(), f"{REPORT_FOLDER}/{name}", mimetype=XLSX, download_name=f"错误报告-{name}")
