"""Small files with real signatures, as phones and scanners write them."""
from __future__ import annotations

from datetime import date

from oversight.adapters.files import uploads_store
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.spot_checks import issue_notice, record_spot_check
from tests.checks_support import AFTER_Q3, add_records
from tests.exports_support import make_review

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64
# An iPhone photo: an ISO base-media `ftyp` box of brand heic, compatible with mif1 and heic.
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(1)</script>"


def attachment_owners(factory) -> dict:
    """A contractor's rectification notice (of a failed spot check), its published and draft
    reviews, and users of every role, one of them another contractor's."""
    ours, theirs = factory.contractor(), factory.contractor()
    contract = factory.contract(ours)
    add_records(contract, {0: 12})
    supervisor = factory.user("supervisor")
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="a").draws[0]
    check = record_spot_check(draw.items[0], checker=supervisor, method="入户复核", checked_on=date(2025, 10, 16),
                              values={"survey_conclusion": "不符合"}, note=None, uploads=[], store=uploads_store(),
                              today=date(2025, 10, 20))
    notice = issue_notice(check, deadline=date(2099, 11, 5), requirement="请更正调查结论", issuer=supervisor,
                          today=date(2025, 10, 20))
    db.session.commit()
    return {"contract": contract, "notice": notice, "check": check,
            "review": make_review(contract, "2025Q3", status="published"),
            "draft": make_review(contract, "2025Q4", status="draft"), "supervisor": supervisor,
            "contractor": factory.user("contractor", ours), "other": factory.user("contractor", theirs),
            "auditor": factory.user("auditor"), "admin": factory.user("admin")}
