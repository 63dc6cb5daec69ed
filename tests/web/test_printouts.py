"""The review and evaluation pages print: a 打印 button run by a static script (the CSP allows no
inline one), a stamp only the paper shows, and a print style sheet without navigation or forms."""
from __future__ import annotations

import re
from pathlib import Path

from tests.exports_support import make_evaluation, make_review

STYLE = Path(__file__).resolve().parents[2] / "static" / "style.css"


def _print_rules() -> str:
    css = STYLE.read_text(encoding="utf-8")
    start = css.index("@media print {")
    depth = 0
    for position, char in enumerate(css[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "}" and depth == 0:
            return css[start:position]
    raise AssertionError("unclosed @media print")


def _printable(page: str, user) -> None:
    assert re.search(r'<button type="button" class="print-button" data-print>打印</button>', page)
    assert '<script src="/static/js/print.js" defer></script>' in page
    assert "onclick" not in page
    stamp = re.search(r'<p class="print-only print-stamp">打印时间：(\S+ \S+)（北京时间）　打印人：([^<]+)</p>', page)
    assert stamp and stamp.group(2) == user.display_name


def test_the_review_and_evaluation_pages_have_a_print_button_and_stamp(client_for, factory):
    contract = factory.contract()
    for quarter in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        review = make_review(contract, quarter)
    admin = factory.user("admin")
    evaluation = make_evaluation(contract, 2025, approver=admin)
    supervisor = factory.user("supervisor")
    client = client_for(supervisor)
    _printable(client.get(f"/reviews/{review.id}").get_data(as_text=True), supervisor)
    _printable(client.get(f"/evaluations/{evaluation.id}").get_data(as_text=True), supervisor)
    contractor_user = factory.user("contractor", contract.contractor)
    _printable(client_for(contractor_user).get(f"/evaluations/{evaluation.id}").get_data(as_text=True),
               contractor_user)


def test_the_print_style_leaves_out_navigation_forms_and_buttons():
    rules = _print_rules()
    hidden = re.search(r"([^{}]+)\{ display:none !important; \}", rules).group(1)
    for selector in ("header.topbar", ".flashes", ".actions", "form", "button", ".pager", "#review-actions",
                     "#evaluation-actions"):
        assert selector in [part.strip() for part in hidden.split(",")]
    assert ".print-only { display:block; }" in rules
    assert "@page { size:A4;" in rules
    css = STYLE.read_text(encoding="utf-8")
    assert ".print-only { display:none; }" in css[:css.index("@media print {")]  # the screen hides the stamp
