"""The public notice (公示) read on a phone without log-in, and the way from a contractor's page to
its profile and the profile's exports."""
from __future__ import annotations

from datetime import date

import time_machine

from oversight.clock import day_starts_at
from oversight.extensions import db
from seeds.demo import build_demo

TODAY = date(2026, 5, 20)
WIDER_THAN_THE_SCREEN = "document.documentElement.scrollWidth - window.innerWidth"


def test_the_notice_reads_on_a_390_px_phone_without_log_in(app, live_server, page):
    with time_machine.travel(day_starts_at(TODAY).replace(hour=4), tick=True):
        build_demo("small", 7, TODAY)
        db.session.commit()
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/public/")
        page.get_by_role("link", name="2025 年度").click()
        page.wait_for_url(f"{live_server.url}/public/2025/")
        assert "履约情况公示" in page.locator("h1").inner_text()
        assert page.locator("#public-notice tbody tr").count() == 2
        assert page.evaluate(WIDER_THAN_THE_SCREEN) <= 0  # the wide table scrolls in its own box
        with page.expect_download() as download:
            page.get_by_role("link", name="下载公示（.pdf）").click()
        assert download.value.suggested_filename == "履约情况公示_2025.pdf"


def test_a_supervisor_goes_from_the_contractor_to_its_profile_and_exports_it(app, live_server, page, factory,
                                                                              log_in):
    contract = factory.contract()
    supervisor = factory.user("supervisor")
    db.session.commit()
    log_in(supervisor)
    page.goto(f"{live_server.url}/contractors/{contract.contractor_id}")
    page.get_by_role("link", name="履约档案").click()
    assert page.locator("#profile-contracts").inner_text().count(contract.code) == 1
    assert "过往履约得分" in page.locator("#past-performance").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出履约档案（.xlsx）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
