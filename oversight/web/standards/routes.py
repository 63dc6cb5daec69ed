"""Local standards (SPEC 8): each year's version in force and its history for the bureau; a new
version, the sheet template and the care-allowance sheet for finance."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from ...clock import county_today, utcnow
from ...domain.local_standards import DATES, TERMS, StandardInvalid, StandardTerms, form_value, format_term, parse_draft
from ...extensions import db
from ...policy import Action
from ...services import standards as service
from ...services.audit import record_event
from ...models import Area
from ..access import county_choices, permission_required, visible_county_ids
from ..forms_common import redirect_refused
from .forms import VersionForm

bp = Blueprint("standards", __name__, url_prefix="/standards")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FIELD_BY_LABEL = {term.label: term.key for term in TERMS} | {"生效日期": "effective_from", "变更原因": "reason"}


def _year(value: int | None) -> int:
    if value is None:
        return county_today().year
    if not 2000 <= value <= 2100:
        abort(404)
    return value


def _county() -> Area:
    """The county the page is about: `county` of the query if the user's area covers it, else the
    first the area covers (404 when none or another county's)."""
    ids = visible_county_ids()
    chosen = request.args.get("county", type=int)
    if chosen is None and ids:
        chosen = ids[0]
    if chosen is None or chosen not in ids:
        abort(404)
    return db.session.get(Area, chosen)


@bp.app_template_global()
def care_allowance(record):
    """The tier of an assessment record's 评估结论 and its monthly allowance by its county's
    standard in force on its service day."""
    cache = g.setdefault("care_allowances", {})
    return service.allowance_for(record.county_id, record.conclusion, record.service_date, cache)


@bp.app_template_global()
def subject_care_allowance(subject):
    """A person's tier by the latest assessment and its allowance today."""
    return service.current_allowance(subject, county_today())


@bp.route("/")
@permission_required(Action.READ_STANDARDS)
def index():
    county = _county()
    year = _year(request.args.get("year", type=int))
    standard = service.standard_of_year(county.id, year)
    today = county_today()
    day = today if today.year == year else None
    in_force = service.version_on(county.id, day) if day else None
    history = service.history(standard) if standard else []
    current = next((item for item in history if in_force is not None and item.version.id == in_force.id), None)
    view = current or (history[0] if history else None)
    if standard is not None and view is None:  # a row stored without versions (before they were kept)
        view = service.VersionView(None, StandardTerms.of(standard), [])
    newest = service.latest_terms(county.id, year - 1) if standard is None else None
    years = sorted(set(service.years_kept(county.id)) | {today.year, year, today.year + 1}, reverse=True)
    return render_template("standards/index.html", county=county, counties=county_choices(),
                           year=year, years=years, standard=standard, history=history,
                           in_force=in_force, current=current, view=view, newest=newest, terms=TERMS, DATES=DATES,
                           format_term=format_term, today=today)


@bp.route("/<int:year>/new", methods=["GET", "POST"])
@permission_required(Action.MANAGE_STANDARDS)
def new_version(year: int):
    county = _county()
    year = _year(year)
    same_year = service.latest_terms(county.id, year)
    previous = same_year or service.latest_terms(county.id, year - 1)
    form = VersionForm()
    if request.method == "GET" and previous is not None:
        for term in TERMS:
            if term.kind != DATES or same_year is not None:  # last year's holidays are not this year's
                form[term.key].data = form_value(term, getattr(previous, term.key))
    if form.validate_on_submit():
        values = {name: form[name].data for name in _FIELD_BY_LABEL.values()}
        try:
            draft = parse_draft(values, year=year, previous=None)
        except StandardInvalid as invalid:
            for label, reason in invalid.errors.items():
                form[_FIELD_BY_LABEL[label]].errors = [*form[_FIELD_BY_LABEL[label]].errors, reason]
        else:
            version = service.add_version(county.id, draft, current_user._get_current_object())
            db.session.commit()
            flash(f"已保存{county.name} {year} 年地方标准第 {version.number} 版，自 {version.effective_from} 起执行",
                  "success")
            return redirect(url_for(".index", county=county.id, year=year, _anchor=f"version-{version.number}"))
    refused = redirect_refused(form)
    if refused is not None:
        return refused
    return render_template("standards/form.html", form=form, county=county, year=year, terms=TERMS)


@bp.route("/template.xlsx")
@permission_required(Action.READ_STANDARDS)
def template():
    from ...exports.standards_sheet import standards_template

    return send_file(io.BytesIO(standards_template()), mimetype=XLSX, as_attachment=True,
                     download_name="地方标准导入模板.xlsx")


@bp.route("/care-allowances/<int:year>.xlsx")
@permission_required(Action.EXPORT_CARE_ALLOWANCES)
def care_allowances(year: int):
    """特困人员 month by month: tier in force and its allowance; audited like the other exports."""
    from ...exports.standards_sheet import care_allowance_sheet

    county = _county()
    year = _year(year)
    rows = service.finance_rows(county.id, year)
    data = care_allowance_sheet(county.name, year, rows, generated_at=utcnow())
    record_event("export", "FinanceExport", year, {"county": county.code, "persons": len(rows),
                                                    "total_fen": sum(row.total_fen for row in rows)})
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"特困人员护理补贴表_{county.name}_{year}.xlsx")
