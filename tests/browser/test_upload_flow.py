"""A contractor uploads a log with mistakes, reads the errors, uploads the corrected log in the
background with the progress shown, and sees its assignments completed."""
from __future__ import annotations

import signal
import time

import pytest
from playwright.sync_api import expect

from oversight.services import completion_import
from oversight.tasks import queue_of

from tests.completion_support import SURVEY, csv_bytes, good_row, world  # noqa: F401  (fixture)


@pytest.fixture
def queue_worker(app, tmp_path):
    """A Huey consumer for `app`'s queue in threads of this process (so that the test's patches apply)."""
    app.config.update(IMPORT_SYNC=False, QUEUE_IMMEDIATE=False, QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite'}")
    consumer = queue_of(app).huey.create_consumer(workers=1, periodic=False, max_delay=0.5)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()  # it sets its own signal handlers: pytest's come back afterwards
    try:
        yield
    finally:
        consumer.stop(graceful=True)
        for number, handler in handlers.items():
            signal.signal(number, handler)


def test_a_contractor_corrects_a_refused_log_and_sees_the_work_completed(log_in, live_server, queue_worker, factory,
                                                                         world, tmp_path, monkeypatch, nav_to):
    # The real path: the page enqueues, a queue worker imports, the page polls. A row at a time,
    # slowly, so that the page shows the import under way.
    monkeypatch.setattr(completion_import, "READ_ROWS", 1)
    progress = completion_import._progress
    monkeypatch.setattr(completion_import, "_progress", lambda *args, **kwargs: (time.sleep(0.4),
                                                                                 progress(*args, **kwargs)))
    contractor = factory.user("contractor", world.contractor)
    bad = tmp_path / "五月服务记录.csv"
    bad.write_bytes(csv_bytes(SURVEY, [good_row(world, SURVEY, 0, 家庭人口数="三口"),
                                       good_row(world, SURVEY, 1, 服务日期="2025-02-30")], "gbk"))
    good = tmp_path / "五月服务记录-已改.csv"
    good.write_bytes(csv_bytes(SURVEY, [good_row(world, SURVEY, 0), good_row(world, SURVEY, 1)], "gbk"))

    page = log_in(contractor)
    nav_to("上传记录")
    page.click(f"text=上传：{world.contract.code}")
    page.select_option("select[name=service_type]", SURVEY)
    page.set_input_files("input[name=file]", str(bad))
    page.click("text=上传并校验")

    expect(page.locator("#progress-bar")).to_be_visible()
    expect(page.locator("#progress-text")).to_contain_text("已检查")
    errors = page.locator("#error-table")
    expect(errors).to_be_visible(timeout=20_000)
    expect(page.locator("#batch-status")).to_have_text("已拒收")
    expect(errors.locator("tbody tr")).to_have_count(2)
    expect(errors.locator("tbody tr").nth(0)).to_contain_text("家庭人口数")
    expect(errors.locator("tbody tr").nth(0)).to_contain_text("三口")
    expect(errors.locator("tbody tr").nth(0)).to_contain_text("应为1到20之间的整数")
    expect(errors.locator("tbody tr").nth(1)).to_contain_text("日期不存在")
    with page.expect_download() as download:
        page.click("#error-report")
    assert download.value.suggested_filename == "错误标注-五月服务记录.xlsx"

    page.click("#upload-again")
    expect(page.locator("select[name=service_type]")).to_have_value(SURVEY)
    page.set_input_files("input[name=file]", str(good))
    page.click("text=上传并校验")
    expect(page.locator("#batch-accepted")).to_contain_text("已接收 2 条服务记录", timeout=20_000)

    nav_to("任务")
    table = page.locator("#assignment-table")
    for index, assignment in enumerate(world.assignments[SURVEY]):
        row = table.locator("tr", has_text=assignment.number)
        expect(row).to_contain_text("已完成" if index < 2 else "已派发")
    page.click(f"text={world.assignments[SURVEY][0].number}")
    expect(page.locator(".record-table")).to_contain_text("2025-05-01")
    expect(page.locator(".record-table")).to_contain_text("批次")
