"""Under the Content-Security-Policy the pages still work: confirmations ask (and a refusal stops the
action), and the browser reports no blocked script or style."""
from __future__ import annotations

from playwright.sync_api import expect


def test_a_confirmation_asks_and_refusing_it_changes_nothing(log_in, live_server, factory):
    contract = factory.contract()
    assignment = factory.assignment(contract)
    page = log_in(factory.user("supervisor"))
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    asked = []

    page.goto(f"{live_server.url}/assignments/{assignment.id}")
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("button:has-text('取消任务')")
    expect(page.locator("h1")).to_contain_text("已派发")
    assert asked == ["确定取消该任务？"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('取消任务')")
    expect(page.locator("h1")).to_contain_text("已取消")

    for path in ("/dashboard", "/assignments/", "/subjects/", "/uploads/", "/reviews/", "/draws/", "/exports/"):
        page.goto(f"{live_server.url}{path}")
    assert blocked == []
