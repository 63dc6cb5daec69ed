"""Printing a review: the 打印 button opens the print dialog, and the printed page shows the
record without the navigation, forms or buttons, with the stamp only the paper carries."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.exports_support import make_review


def test_printing_a_review_leaves_out_the_navigation_and_the_forms(log_in, live_server, factory, page):
    contract = factory.contract()
    review = make_review(contract, "2025Q3", status="draft")
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    log_in(factory.user("supervisor"))
    page.goto(f"{live_server.url}/reviews/{review.id}")

    stamp = page.locator(".print-stamp")
    expect(stamp).to_be_hidden()
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.printed") == 1

    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("nav.mainnav")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    assert page.locator("main form").count() > 0  # the draft's forms (publish, items) are on the page …
    assert page.evaluate("[...document.querySelectorAll('main form')].every(f => !f.offsetParent)")  # … not on paper
    expect(page.locator("#review-actions")).to_be_hidden()  # 办理: the steps, not the record
    expect(page.locator("h1")).to_contain_text("2025Q3 季度考核")
    expect(stamp).to_be_visible()
    expect(stamp).to_contain_text("打印时间：")
    page.emulate_media(media="screen")
    expect(page.locator("header.topbar")).to_be_visible()
    assert blocked == []
