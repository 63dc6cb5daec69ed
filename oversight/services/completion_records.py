"""Completion-log templates, and the lists of stored records and upload batches."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..adapters.tables.templates import build_template
from ..domain.vocabulary import OPEN_ASSIGNMENT_STATUSES, ServiceType, label_of
from ..extensions import db
from ..models import Assignment, CompletionRecord, Contract, FieldWorker, Subject, UploadBatch, User
from .audit import record_event
from .completion_import import check_may_upload


def registered_workers(contractor_id: int) -> list[tuple[str, str]]:
    """(工号, name) of the contractor's active field workers."""
    return [tuple(row) for row in db.session.execute(
        select(FieldWorker.worker_no, FieldWorker.name)
        .where(FieldWorker.contractor_id == contractor_id, FieldWorker.active)
        .order_by(FieldWorker.worker_no))]


def log_template(contract: Contract, service_type: str, user: User | None, prefill: bool = False) -> bytes:
    """The .xlsx template for one service of a contract; `prefill` adds one row per open
    assignment with the subject's full ID number, a full view that is audited."""
    check_may_upload(contract, service_type, user)
    rows = []
    if prefill:
        rows = db.session.execute(
            select(Assignment.number, Subject.name, Subject.id_number)
            .join(Subject, Assignment.subject_id == Subject.id)
            .where(Assignment.contract_id == contract.id, Assignment.service_type == service_type,
                   Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))
            .order_by(Assignment.due_date, Assignment.number)).all()
        record_event("view_full", "Subject", None, {
            "purpose": f"{label_of(ServiceType, service_type)}预填模板", "contract": contract.code,
            "assignments": len(rows), "fields": ["id_number"],
        })
    return build_template(service_type, registered_workers(contract.contractor_id), [tuple(r) for r in rows])


@dataclass(frozen=True)
class RecordFilters:
    contract_id: int | None = None
    assignment_id: int | None = None
    service_type: str | None = None
    batch_id: int | None = None
    flagged_only: bool = False


def filtered_records(filters: RecordFilters, contract_scope: Select | None = None) -> Select:
    """Records with their assignment, subject, worker and batch loaded, newest visit first."""
    stmt = select(CompletionRecord).options(
        joinedload(CompletionRecord.assignment).joinedload(Assignment.subject),
        joinedload(CompletionRecord.worker), joinedload(CompletionRecord.batch))
    if contract_scope is not None:
        stmt = stmt.where(CompletionRecord.contract_id.in_(contract_scope))
    if filters.contract_id:
        stmt = stmt.where(CompletionRecord.contract_id == filters.contract_id)
    if filters.assignment_id:
        stmt = stmt.where(CompletionRecord.assignment_id == filters.assignment_id)
    if filters.service_type:
        stmt = stmt.where(CompletionRecord.service_type == filters.service_type)
    if filters.batch_id:
        stmt = stmt.where(CompletionRecord.batch_id == filters.batch_id)
    if filters.flagged_only:
        stmt = stmt.where(CompletionRecord.flagged)
    return stmt.order_by(CompletionRecord.service_date.desc(), CompletionRecord.start_time.desc(),
                         CompletionRecord.id.desc())


def filtered_batches(contract_id: int | None, contract_scope: Select | None = None) -> Select:
    """Upload batches with their contract and uploader loaded, newest first."""
    stmt = select(UploadBatch).options(joinedload(UploadBatch.contract), joinedload(UploadBatch.uploaded_by))
    if contract_scope is not None:
        stmt = stmt.where(UploadBatch.contract_id.in_(contract_scope))
    if contract_id:
        stmt = stmt.where(UploadBatch.contract_id == contract_id)
    return stmt.order_by(UploadBatch.id.desc())
