"""One county clock: at 2026-03-31T23:30Z it is already 2026-04-01 07:30 in the county (北京时间).
A server running in UTC must answer exactly as one running in Asia/Shanghai — today, the quarter,
what is overdue, a notice's default deadline, the dates and times pages and exports show."""
from __future__ import annotations

import csv
import io
import os
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, UTC

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from oversight.adapters.files import LocalFileStore
from oversight.clock import county_today, format_county_time
from oversight.domain.periods import Quarter, quarter_of
from oversight.extensions import db
from oversight.jobs import JOBS_BY_NAME
from oversight.models import AuditEvent, JobRun, UploadBatch
from oversight.services.draws import make_draws
from oversight.services.spot_checks import assign_items, issue_notice, notice_overdue, record_spot_check
from tests.checks_support import AFTER_Q3, add_records
from tests.exports_support import download_bundle, make_review

FROZEN = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # 2026-04-01 07:30 北京时间
SERVER_ZONES = ("UTC", "Asia/Shanghai")
FAILING = {"household_size": 5, "annual_income_fen": 9_000_000, "survey_conclusion": "不符合"}


@contextmanager
def process_zone(name: str) -> Iterator[None]:
    """The process runs in zone `name` (TZ + tzset) within the block, as a server configured so would."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def _stat(page: str, label: str) -> int:
    match = re.search(r'<div class="num">(?:<a [^>]*>)?(\d+)(?:</a>)?</div><div class="label">' + re.escape(label), page)
    assert match, label
    return int(match.group(1))


def _input_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bid="{name}"[^>]*>', page)
    assert tag, name
    return re.search(r'value="([^"]*)"', tag.group(0)).group(1)


def _world(factory) -> dict:
    """Due and overdue work around the county's 2026-03-31 / 2026-04-01 midnight."""
    contractor = factory.contractor(workers=2)
    contract = factory.contract(contractor)
    due_yesterday = factory.assignment(contract, due_date=date(2026, 3, 31))
    due_today = factory.assignment(contract, due_date=date(2026, 4, 1))
    add_records(contract, {0: 10, 1: 10})
    supervisor, admin = factory.user("supervisor"), factory.user("admin")
    draw = make_draws("spot_check", Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="clock").draws[0]
    items = draw.items[:3]
    assign_items(draw, [item.id for item in items], supervisor)
    checks = [record_spot_check(item, checker=supervisor, method="入户复核", checked_on=AFTER_Q3, values=FAILING,
                                note=None, uploads=[], store=LocalFileStore("/nonexistent"), today=AFTER_Q3)
              for item in items]
    lapsed = issue_notice(checks[0], deadline=date(2026, 3, 31), requirement="重新入户核实", issuer=supervisor,
                          today=AFTER_Q3)
    running = issue_notice(checks[1], deadline=date(2026, 4, 1), requirement="重新入户核实", issuer=supervisor,
                           today=AFTER_Q3)
    review = make_review(contract, "2025Q3")  # computed 2025-10-08 09:00 UTC = 17:00 北京时间
    db.session.commit()
    return {"contract": contract, "due_yesterday": due_yesterday, "due_today": due_today, "supervisor": supervisor,
            "admin": admin, "unanswered_check": checks[2], "lapsed": lapsed, "running": running, "review": review}


def county_answers(app, client_for, world) -> dict:
    """Everything the county clock decides, as the code and the pages give it."""
    staff = client_for(world["supervisor"])
    admin = client_for(world["admin"])
    dashboard = staff.get("/dashboard").get_data(as_text=True)
    job = app.test_cli_runner().invoke(args=["run-job", "mark_overdue"])
    assert job.exit_code == 0, job.output
    overdue_list = staff.get("/assignments/?status=overdue").get_data(as_text=True)
    audit_page = admin.get("/audit/").get_data(as_text=True)
    review_page = staff.get(f"/reviews/{world['review'].id}").get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(staff.get(f"/reviews/{world['review'].id}/sheet.xlsx").data)).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    db.session.expire_all()
    return {
        "county_today": county_today(),
        "quarter": str(quarter_of(county_today())),
        "overdue": {name: notice_overdue(world[name], county_today()) for name in ("lapsed", "running")},
        "dashboard_day": re.search(r'<small class="muted">([\d-]+)</small>', dashboard).group(1),
        "dashboard_overdue_assignments": _stat(dashboard, "已逾期"),
        "dashboard_overdue_notices": _stat(dashboard, "逾期整改通知"),
        "notice_default_deadline": _input_value(
            staff.get(f"/spot-checks/{world['unanswered_check'].id}").get_data(as_text=True), "deadline"),
        "score_form_quarter": _input_value(staff.get("/reviews/").get_data(as_text=True), "quarter"),
        "job_periods": sorted(db.session.execute(select(JobRun.period_key).where(JobRun.job_name == "mark_overdue")).scalars()),
        "due_period": JOBS_BY_NAME["mark_overdue"].cadence.due_period(county_today()),
        "overdue_listed": [world[name].number in overdue_list for name in ("due_yesterday", "due_today")],
        "audit_time_heading": "时间（北京时间）" in audit_page,
        "audit_shows_now": "2026-04-01 07:30:00" in audit_page and "2026-03-31 23:30" not in audit_page,
        "review_computed_shown": "2025-10-08 17:00" in review_page,
        "sheet_computed": [cells[i + 1] for i, value in enumerate(cells) if value == "计算时间（北京时间）"],
        "sheet_footer": sheet.oddFooter.left.text.removeprefix(f"{world['contract'].code} "),
    }


EXPECTED = {
    "county_today": date(2026, 4, 1),
    "quarter": "2026Q2",
    "overdue": {"lapsed": True, "running": False},
    "dashboard_day": "2026-04-01",
    "dashboard_overdue_assignments": 1,
    "dashboard_overdue_notices": 1,
    "notice_default_deadline": "2026-04-22",  # 15 working days after today (no standard: weekends only)
    "score_form_quarter": "2026Q1",  # the quarter just ended
    "job_periods": ["2026-04-01"],
    "due_period": "2026-04-01",
    "overdue_listed": [True, False],
    "audit_time_heading": True,
    "audit_shows_now": True,
    "review_computed_shown": True,
    "sheet_computed": [datetime(2025, 10, 8, 17, 0)],
    "sheet_footer": "2025Q3　导出于 2026-04-01 07:30（北京时间）",
}


@pytest.mark.parametrize("zone", SERVER_ZONES)
@time_machine.travel(FROZEN, tick=False)
def test_a_server_in_any_zone_answers_in_county_time(app, client_for, factory, zone):
    with process_zone(zone):
        # The zone really is the server's: its own idea of today differs between the two.
        assert date.today() == (date(2026, 3, 31) if zone == "UTC" else date(2026, 4, 1))
        answers = county_answers(app, client_for, _world(factory))
    assert answers == EXPECTED


def _bundle_csv(client, year: int, member: str) -> list[dict]:
    response = download_bundle(client, year)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        raw = archive.read(member)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("zone", SERVER_ZONES)
def test_the_audit_bundle_writes_county_times_under_labelled_headings(client_for, factory, zone):
    contract = factory.contract()
    admin = factory.user("admin")
    # 16:30 UTC on New Year's Eve is 00:30 on New Year's Day in the county: a 2026 upload.
    batch = UploadBatch(contract_id=contract.id, service_type="household_survey", filename="一月.csv",
                        sha256="0" * 64, size_bytes=1, stored_path="x", uploaded_by_id=admin.id, status="accepted",
                        uploaded_at=datetime(2025, 12, 31, 16, 30))
    db.session.add(batch)
    db.session.commit()
    client = client_for(admin)
    with process_zone(zone):
        batches_2026 = _bundle_csv(client, 2026, "records/upload_batches.csv")
        batches_2025 = _bundle_csv(client, 2025, "records/upload_batches.csv")
        events = _bundle_csv(client, 2026, "audit_log/audit_events.csv")
    assert [row["上传时间（北京时间）"] for row in batches_2026] == ["2026-01-01 00:30:00"]
    assert batches_2025 == []
    assert "时间（北京时间）" in events[0] and "时间(UTC)" not in events[0]
    stored = db.session.execute(select(AuditEvent.occurred_at).order_by(AuditEvent.id)).scalars().first()
    assert events[0]["时间（北京时间）"] == format_county_time(stored, "%Y-%m-%d %H:%M:%S")
