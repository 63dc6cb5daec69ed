"""公示: the year's public notice of contractors, contracts, amounts and final ratings, without log-in.

Rate-limited per address (`PUBLIC_REQUESTS_PER_ADDRESS`); only a year is in the address, no row id.
"""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, render_template, send_file

from ...clock import county_today, utcnow
from ...exports.ocds import buyer_name
from ...exports.public_notice import HEADERS, contract_row, explanation, title, to_pdf
from ...extensions import limiter
from ...services import row_security
from ...services.public_notice import public_notice, public_years

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
    notice = public_notice(_year_or_404(year))
    return render_template("public/year.html", notice=notice, title=title(notice, buyer_name(year)),
                           headers=HEADERS, rows=[contract_row(c) for c in notice.contracts],
                           explanation=explanation(notice))


@bp.route("/<int:year>/notice.pdf")
@bp_limit
def year_pdf(year: int):
    notice = public_notice(_year_or_404(year))
    data = to_pdf(notice, buyer_name(year), generated_at=utcnow())
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"履约情况公示_{year}.pdf")
