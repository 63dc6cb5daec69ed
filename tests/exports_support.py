"""Builders for the rows the exports read: quarterly reviews, annual evaluations, payments; and
the audit bundle asked for and downloaded through the pages.

Reviews are stored directly (their evidence would take hundreds of records) with figures written
by the review service's `figures_for`; evaluations come from the evaluation service itself.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

from oversight.domain.scoring import DEFAULT_SCHEME, Evidence, ManualItem, score_quarter
from oversight.extensions import db
from oversight.models import PaymentRecord, QuarterlyReview
from oversight.services.evaluations import add_annual_item, approve_evaluation, compute_evaluation, publish_evaluation
from oversight.services.reviews import figures_for
from oversight.services.schemes import ensure_default_scheme

# (numerator, denominator) per indicator; rectification left without notices.
GOOD_QUARTER = {"completion": (98, 100), "timeliness": (90, 98), "spot_check_pass": (9, 10),
                "field_accuracy": (95, 100), "satisfaction": (18, 20), "authenticity": (20, 20)}


def make_review(contract, quarter: str, *, status: str = "approved", counts=GOOD_QUARTER, manual=(),
                record_ids=(), volume: int = 98, comment: str | None = None, revision: int = 1) -> QuarterlyReview:
    """A stored review whose figures the review service's own `figures_for` wrote."""
    scheme = ensure_default_scheme()
    evidence = {key: Evidence(key, n, d, tuple(record_ids)) for key, (n, d) in counts.items()}
    result = score_quarter(DEFAULT_SCHEME, evidence, [ManualItem(Decimal(p), r) for p, r in manual])
    figures = figures_for(scheme, quarter, result, volume, {})
    approved = status == "approved"
    review = QuarterlyReview(
        contract_id=contract.id, quarter=quarter, revision=revision, scheme_id=scheme.id, status=status,
        figures=figures, total_centi=int(result.total.scaleb(2)), rating=result.rating, completed_volume=volume,
        computed_at=datetime(2025, 10, 8, 9, 0), contractor_position="disagree" if comment else None,
        contractor_comment=comment, approved_at=datetime(2025, 10, 20, 10, 0) if approved else None,
        locked=approved,
    )
    db.session.add(review)
    db.session.commit()
    return review


def make_evaluation(contract, year: int, *, approver=None, annual_items=()):
    """The evaluation service's own evaluation of the year (approved when `approver` is given)."""
    evaluation = compute_evaluation(contract, year)
    for points, reason in annual_items:
        add_annual_item(evaluation, points, reason)
    if approver is not None:  # published, the comment window passes in silence, then approved
        publish_evaluation(evaluation, date(year + 1, 1, 10), window_days=7)
        approve_evaluation(evaluation, approver, date(year + 1, 1, 18))
    db.session.commit()
    return evaluation


def make_payment(contract, paid_on: date, amount_fen: int, kind: str = "fixed", note: str | None = None):
    payment = PaymentRecord(contract_id=contract.id, paid_on=paid_on, amount_fen=amount_fen, kind=kind,
                            year=paid_on.year if kind == "performance" else None, note=note)
    db.session.add(payment)
    db.session.commit()
    return payment


BUNDLES_PAGE = "/exports/audit-bundles/"
_BUNDLE_LINK = re.compile(r'href="(/exports/audit-bundles/\d+\.zip)"')


def ask_for_bundle(client, year: int, *, full: bool = False):
    """Ask for the year's bundle on the exports page, as its button does; the answer (a redirect)."""
    return client.post("/exports/audit-bundles", {"year": year, **({"full": "1"} if full else {})},
                       token_from=f"/exports/?year={year}")


def download_bundle(client, year: int, *, full: bool = False):
    """Ask for the year's bundle (the tests' queue builds it at once) and follow the newest download
    link on the bundles page; the download's response."""
    answer = ask_for_bundle(client, year, full=full)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(BUNDLES_PAGE)
    page = client.get(BUNDLES_PAGE).get_data(as_text=True)
    link = _BUNDLE_LINK.search(page)
    assert link, page
    return client.get(link.group(1))


def bundle_texts(path, *, binaries: bool = False) -> dict[str, str]:
    """Every member as text; for .xlsx and .docx the XML parts inside them; PDF and PNG left out,
    or with `binaries` read as raw bytes (what a scan for names finds in them)."""
    texts = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            raw = archive.read(name)
            if name.endswith((".xlsx", ".docx")):
                with zipfile.ZipFile(io.BytesIO(raw)) as inner:
                    texts[name] = "".join(inner.read(part).decode("utf-8") for part in inner.namelist()
                                          if part.endswith(".xml"))
            elif not name.endswith((".pdf", ".png")):
                texts[name] = raw.decode("utf-8")
            elif binaries:
                texts[name] = raw.decode("utf-8", errors="replace")
    return texts
