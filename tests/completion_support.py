"""Helpers for the completion-log tests: a contract with assignments, and log files built from it."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from oversight.domain import self_care
from oversight.domain.completion_log import TEMPLATE_COLUMNS
from oversight.extensions import db
from oversight.models import Assignment, AuditEvent, CompletionRecord, Contract, Contractor, FieldWorker
from tests.unit.test_completion_log import csv_bytes  # noqa: F401  (shared with the log tests)

TODAY = date(2025, 6, 30)
SERVICES = ("household_survey", "self_care_assessment", "care_visit")
SURVEY, SELF_CARE, CARE = SERVICES


@dataclass
class World:
    """One contractor, one contract of every service, its workers and open assignments."""

    contractor: Contractor
    contract: Contract
    workers: list[FieldWorker]
    assignments: dict[str, list[Assignment]]


@pytest.fixture
def world(factory) -> World:
    contractor = factory.contractor(workers=2)
    contract = factory.contract(contractor, service_types=SERVICES)
    assignments = {service: [factory.assignment(contract, service_type=service) for _ in range(3)]
                   for service in SERVICES}
    workers = db.session.execute(select(FieldWorker).where(FieldWorker.contractor_id == contractor.id)
                                 .order_by(FieldWorker.worker_no)).scalars().all()
    return World(contractor, contract, list(workers), assignments)


@pytest.fixture
def sync_imports(app):
    """Imports run in the request, as the CLI runs them."""
    app.config["IMPORT_SYNC"] = True
    return app


def good_row(world: World, service_type: str, index: int = 0, **changes: str) -> dict[str, str]:
    """A row every rule accepts, for the index-th assignment of the service; `changes` by header."""
    assignment = world.assignments[service_type][index]
    subject = assignment.subject
    worker = world.workers[index % len(world.workers)]
    row = {"任务编号": assignment.number, "服务对象姓名": subject.name, "身份证号": subject.id_number,
           "服务日期": f"2025-05-0{index + 1}", "开始时间": "09:00", "结束时间": "09:45",
           "服务人员工号": worker.worker_no, "服务人员姓名": worker.name}
    row.update({
        "household_survey": {"家庭人口数": "3", "家庭年收入(元)": str(24_000 + 1_000 * index),
                             "家庭金融资产(元)": "5000", "调查结论": "需复核"},
        "self_care_assessment": {**{label: "能" for label in self_care.ITEM_LABELS.values()},
                                 "评估结论": self_care.CONCLUSION_FULL},
        "care_visit": {"服务项目": "日常看护、生活照料", "对象签字确认": "是"},
    }[service_type])
    row.update(changes)
    return row


def xlsx_bytes(service_type: str, rows: list[dict], cell_values: dict | None = None) -> bytes:
    """An .xlsx log; `cell_values` maps (row index, header) to a typed cell value (dates, times)."""
    headers = [column.header for column in TEMPLATE_COLUMNS[service_type]]
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for index, row in enumerate(rows):
        sheet.append([(cell_values or {}).get((index, header), row.get(header, "")) for header in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fill_template(data: bytes, rows: dict[str, dict[str, str]]) -> bytes:
    """A prefilled template with the rows of some assignments (by 任务编号) filled in by header,
    the other rows left as downloaded."""
    book = load_workbook(io.BytesIO(data))
    sheet = book["服务记录"]
    headers = [cell.value for cell in sheet[1]]
    for line in sheet.iter_rows(min_row=2):
        for header, value in rows.get(line[0].value, {}).items():
            line[headers.index(header)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def database_state() -> dict:
    """Every record, every assignment's status, and the audit events not about upload batches."""
    records = CompletionRecord.__table__
    return {
        "records": sorted(map(tuple, db.session.execute(select(records)).all())),
        "assignments": sorted(map(tuple, db.session.execute(
            select(Assignment.id, Assignment.status, Assignment.completed_at, Assignment.updated_at)).all())),
        "events": db.session.execute(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.object_type != "UploadBatch")).scalar_one(),
    }


def upload(world: World, service_type: str, data: bytes, filename: str = "log.csv", uploader=None):
    """Start and run an import as the CLI does; returns the ImportResult."""
    from oversight.adapters.files import uploads_store
    from oversight.services.completion_import import run_import, start_import

    batch = start_import(world.contract, service_type, data, filename, uploader, uploads_store())
    db.session.commit()
    return run_import(batch.id, TODAY)
