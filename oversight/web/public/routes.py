"""公示: the year's public notice of contractors, contracts, amounts and final ratings, without log-in.

Rate-limited per address (`PUBLIC_REQUESTS_PER_ADDRESS`); only a year and a county's GB/T 2260
code are in the address, no row id. Among several counties the year's page lists each county's
notice (`/public/<year>/<county_code>/` and its PDF), each titled with that county's bureau.
"""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, render_template, send_file, url_for

from ...clock import county_today, utcnow
from ...exports.ocds import buyer_name, county_bureau_name
from ...exports.public_notice import HEADERS, contract_row, explanation, title, to_pdf
from ...extensions import limiter
from ...services import row_security
from ...services.public_notice import notice_counties, notice_county, public_notice, public_years, several_counties

bp = Blueprint("public", __name__, url_prefix="/public")
# One budget per address for every page and PDF of the notice.
bp_limit = limiter.shared_limit(lambda: current_app.config["PUBLIC_REQUESTS_PER_ADDRESS"], scope="public-notice")


@bp.before_request
def _every_county():
    """The notice is public, whoever asks: it reads every county's published contracts (the
    row-level security's system scope; what is published is the notice's own filter)."""
    row_security.bind_request(row_security.SYSTEM)


def _year_or_404(year: int) -> int:
    if year not in public_years(county_today()):
        abort(404)
    return year


@bp.route("/")
@bp_limit
def index():
    """The years with a notice, newest first."""
    return render_template("public/index.html", years=public_years(county_today()))


@bp.route("/<int:year>/")
@bp_limit
def year(year: int):
    """The year's notice; among several counties, the list of the counties' notices."""
    _year_or_404(year)
    if several_counties():
        return render_template("public/counties.html", year=year, counties=[
            (county, county_bureau_name(year, county.county_id)) for county in notice_counties(year)])
    notice = public_notice(year)
    return render_template("public/year.html", notice=notice, title=title(notice, buyer_name(year)),
                           headers=HEADERS, rows=[contract_row(c) for c in notice.contracts],
                           explanation=explanation(notice), pdf_url=url_for("public.year_pdf", year=year))


@bp.route("/<int:year>/notice.pdf")
@bp_limit
def year_pdf(year: int):
    """The install's notice as a PDF: a one-county install's only (among several counties each
    county's PDF is its own notice's)."""
    _year_or_404(year)
    if several_counties():
        abort(404)
    notice = public_notice(year)
    data = to_pdf(notice, buyer_name(year), generated_at=utcnow())
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"履约情况公示_{year}.pdf")


def _county_notice_or_404(year: int, county_code: str):
    """(county, its notice) of the year; 404 for a code of no county or a county with no contract
    in the year."""
    _year_or_404(year)
    county = notice_county(county_code)
    if county is None:
        abort(404)
    notice = public_notice(year, county.id)
    if not notice.contracts:
        abort(404)
    return county, notice


@bp.route("/<int:year>/<county_code>/")
@bp_limit
def county(year: int, county_code: str):
    """One county's notice of the year: its own contracts, titled with its bureau."""
    county, notice = _county_notice_or_404(year, county_code)
    return render_template("public/year.html", notice=notice, county=county,
                           title=title(notice, county_bureau_name(year, county.id)), headers=HEADERS,
                           rows=[contract_row(c) for c in notice.contracts], explanation=explanation(notice),
                           pdf_url=url_for("public.county_pdf", year=year, county_code=county.code),
                           several=several_counties())


@bp.route("/<int:year>/<county_code>/notice.pdf")
@bp_limit
def county_pdf(year: int, county_code: str):
    county, notice = _county_notice_or_404(year, county_code)
    data = to_pdf(notice, county_bureau_name(year, county.id), generated_at=utcnow())
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"履约情况公示_{year}_{county.code}.pdf")
