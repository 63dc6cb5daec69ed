"""Corrections (更正申请) of stored completion records: request, approve or refuse, versions.

A contractor asks to correct cells of one of its records (with a reason and evidence files); a
supervisor approves or refuses with a note. Approval writes the new values into the record's
row, so that everything reading records reads the corrected one, and keeps every version in
`completion_record_versions` (version 1: the record as first stored). The values are checked by
the completion log's rules (`domain.completion_log.validate_log`), the record's own row left out
of the duplicate check. What may not be corrected is `domain.corrections.correction_blocker`'s.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import Select, func, select

from ..adapters.tables.cells import EXCEL_ROW, CellError, time_minutes
from ..clock import utcnow
from ..domain.attachments import AttachmentRefused
from ..domain.audit_chain import to_json_value
from ..domain.completion_log import RECORD_COLUMNS, TEMPLATE_COLUMNS, day_numbers, validate_log
from ..domain.corrections import (
    DERIVED_KEYS,
    Change,
    CorrectionRefused,
    FrozenDraw,
    LockedReview,
    changed_cells,
    correctable_columns,
    correction_blocker,
    moved_into_drawn_quarter,
    record_cells,
)
from ..domain.periods import quarter_of
from ..domain.vocabulary import AttachmentOwner, CorrectionStatus, DrawPurpose, label_of
from .. import policy
from ..extensions import db
from ..models import (
    CompletionRecord,
    CompletionRecordVersion,
    Contract,
    CorrectionRequest,
    QuarterlyReview,
    SamplingDraw,
    User,
)
from ..policy import Action
from . import notifications
from .attachments import OwnerKind, Upload, attach_all, may_see, register_owner
from .completion_import import log_context

class CorrectionInvalid(CorrectionRefused):
    """The corrected row breaks the completion log's rules; `errors` are the refused cells."""

    def __init__(self, errors: Sequence[CellError]):
        self.errors = list(errors)
        super().__init__("；".join(f"{error.column}：{error.reason}" if error.column else error.reason
                                  for error in self.errors))


def _value_keys(service_type: str) -> list[str]:
    """The record's own values in the log's keys (the worker by 工号)."""
    return [key for key in RECORD_COLUMNS[service_type] if key not in (EXCEL_ROW, "assignment_id")]


def record_values(record: CompletionRecord) -> dict[str, Any]:
    """The record's values in the log's keys, the worker by 工号."""
    values = {key: getattr(record, key) for key in _value_keys(record.service_type) if key != "worker_no"}
    values["worker_no"] = record.worker.worker_no
    return values


def _identity(record: CompletionRecord, worker_name: str | None = None) -> dict[str, str]:
    subject = record.assignment.subject
    return {"number": record.assignment.number, "subject_name": subject.name, "id_number": subject.id_number,
            "worker_name": worker_name if worker_name is not None else record.worker.name}


def current_cells(record: CompletionRecord) -> dict[str, str]:
    """The record as its template row: header → text."""
    return record_cells(record.service_type, record_values(record), _identity(record))


def correctable_headers(service_type: str) -> set[str]:
    return {column.header for column in correctable_columns(service_type)}


# --- who may ------------------------------------------------------------------------------------


def _contract(record: CompletionRecord) -> Contract:
    return db.session.get(Contract, record.contract_id)


def may_request(record: CompletionRecord, user: User) -> bool:
    """Only a person of the record's contractor asks for a correction."""
    return policy.may(user, Action.REQUEST_CORRECTIONS, record)


def _frozen_draws(record: CompletionRecord) -> list[FrozenDraw]:
    """The draws of the record's contract, service and quarter (a draw freezes one quarter's records)."""
    rows = db.session.execute(
        select(SamplingDraw.id, SamplingDraw.purpose, SamplingDraw.quarter, SamplingDraw.population)
        .where(SamplingDraw.contract_id == record.contract_id, SamplingDraw.service_type == record.service_type,
               SamplingDraw.quarter == str(quarter_of(record.service_date)))).all()
    return [FrozenDraw(draw_id, label_of(DrawPurpose, purpose), quarter, frozenset(row[0] for row in population))
            for draw_id, purpose, quarter, population in rows]


def _locked_reviews(contract_id: int) -> list[LockedReview]:
    """The contract's locked reviews with the ids their indicators counted."""
    rows = db.session.execute(
        select(QuarterlyReview.id, QuarterlyReview.quarter, QuarterlyReview.revision, QuarterlyReview.figures)
        .where(QuarterlyReview.contract_id == contract_id, QuarterlyReview.locked.is_(True))).all()
    return [LockedReview(review_id, quarter, revision,
                         {} if figures is None else {item.key: item.record_ids for item in figures.indicators})
            for review_id, quarter, revision, figures in rows]


def pending_request(record: CompletionRecord) -> CorrectionRequest | None:
    return db.session.execute(
        select(CorrectionRequest).where(CorrectionRequest.record_id == record.id,
                                        CorrectionRequest.status == CorrectionStatus.PENDING)
        .order_by(CorrectionRequest.id).limit(1)).scalar_one_or_none()


def blocker(record: CompletionRecord, deciding: CorrectionRequest | None = None) -> str | None:
    """Why the record cannot be corrected now (None: it can). While `deciding` a request, that
    request is not in the way of itself."""
    pending = pending_request(record)
    pending_id = pending.id if pending is not None and pending is not deciding else None
    return correction_blocker(record.id, record.assignment_id, _frozen_draws(record),
                              _locked_reviews(record.contract_id), pending_id)


def _drawn_quarters(record: CompletionRecord) -> set[str]:
    return set(db.session.execute(
        select(SamplingDraw.quarter).where(SamplingDraw.contract_id == record.contract_id,
                                           SamplingDraw.service_type == record.service_type).distinct()).scalars())


# --- checking the corrected row -----------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """The corrected row's values (log keys), the worker's id and name, and its cells."""

    values: dict[str, Any]
    worker_id: int
    cells: dict[str, str]


def _plain(value: Any) -> Any:
    """A value of the validated records frame as the model stores it."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def check_corrected(record: CompletionRecord, cells: Mapping[str, str], today: dt.date) -> Checked:
    """Validate the record's row with `cells` replacing its own, by the completion log's rules
    (the record itself left out of the duplicate check); CorrectionInvalid names the bad cells."""
    row = current_cells(record)
    row.update({header: text for header, text in cells.items() if header in row})
    ctx = log_context(_contract(record), record.service_type, today)
    number, name = _worker_headers(record.service_type)
    if number in cells and name not in cells:  # the name follows the 工号 unless given
        named = ctx.workers.loc[ctx.workers["worker_no"] == str(cells[number]).strip(), "name"]
        row[name] = str(named.iloc[0]) if len(named) else ""
    existing = ctx.existing
    if len(existing):
        itself = ((existing["assignment_id"].to_numpy() == record.assignment_id)
                  & (day_numbers(existing["service_date"]).to_numpy() == record.service_date.toordinal())
                  & (time_minutes(existing["start_time"]).to_numpy(dtype=float) == _minutes(record.start_time)))
        existing = existing[~itself].reset_index(drop=True)
    table = pd.DataFrame([row], index=pd.Index([2], name=EXCEL_ROW), dtype=object)
    validation = validate_log(table, replace(ctx, existing=existing), current_app.config["UPLOAD_MAX_ERRORS"])
    if not validation.accepted:
        raise CorrectionInvalid(validation.errors)
    found = validation.records.iloc[0]
    values = {key: _plain(found[key]) for key in _value_keys(record.service_type)}
    workers = ctx.workers.set_index("worker_no")
    worker_id, worker_name = int(workers.at[values["worker_no"], "worker_id"]), str(workers.at[values["worker_no"], "name"])
    cells = record_cells(record.service_type, values, _identity(record, worker_name))
    return Checked(values, worker_id, cells)


def _worker_headers(service_type: str) -> tuple[str, str]:
    headers = {column.key: column.header for column in TEMPLATE_COLUMNS[service_type]}
    return headers["worker_no"], headers["worker_name"]


def _minutes(text: str) -> float:
    hours, minutes = text.split(":")[:2]
    return float(int(hours) * 60 + int(minutes))


def _date_blocker(record: CompletionRecord, checked: Checked) -> str | None:
    return moved_into_drawn_quarter(checked.values["service_date"], record.service_date, _drawn_quarters(record),
                                    quarter_of)


# --- the workflow -------------------------------------------------------------------------------


def request_correction(record: CompletionRecord, user: User, cells: Mapping[str, str], reason: str,
                       today: dt.date, uploads: Sequence[Upload] = ()) -> CorrectionRequest:
    """A contractor's request to correct cells of its record (header → the corrected text); the
    caller commits. Refused (CorrectionRefused, Chinese) when the record may not be corrected,
    nothing changes, the corrected row breaks the log's rules, or a file is refused."""
    if not may_request(record, user):
        raise CorrectionRefused("只有本合同承接机构的人员可以申请更正服务记录")
    why = blocker(record)
    if why:
        raise CorrectionRefused(why)
    reason = (reason or "").strip()
    if not reason:
        raise CorrectionRefused("请写明更正原因")
    allowed = correctable_headers(record.service_type) | _derived_headers(record.service_type)
    checked = check_corrected(record, {h: t for h, t in cells.items() if h in allowed}, today)
    changes = changed_cells(record.service_type, current_cells(record), checked.cells)
    if not changes:
        raise CorrectionRefused("没有更正任何内容：请把要更正的字段改为正确的值")
    why = _date_blocker(record, checked)
    if why:
        raise CorrectionRefused(why)
    request = CorrectionRequest(record_id=record.id, contract_id=record.contract_id, status=CorrectionStatus.PENDING,
                                changes=[change.as_dict() for change in changes], reason=reason,
                                requested_by_id=user.id)
    db.session.add(request)
    db.session.flush()
    try:
        attach_all(request, list(uploads), user)
    except AttachmentRefused as error:
        raise CorrectionRefused(str(error)) from None
    return request


def _derived_headers(service_type: str) -> set[str]:
    return {column.header for column in TEMPLATE_COLUMNS[service_type] if column.key in DERIVED_KEYS}


def _decidable(request: CorrectionRequest, user: User) -> None:
    if not policy.may(user, Action.DECIDE_CORRECTIONS):
        raise CorrectionRefused("只有监管人员可以审核更正申请")
    if request.status != CorrectionStatus.PENDING:
        raise CorrectionRefused(f"该更正申请{label_of(CorrectionStatus, request.status)}，不能再审核")


def approve(request: CorrectionRequest, user: User, today: dt.date, note: str | None = None) -> CompletionRecordVersion:
    """Approve: the record takes the corrected values and its new version is kept (the first
    approval also keeps version 1, the record as first stored); the caller commits. Refused when
    the record can no longer be corrected or the corrected row no longer passes the rules."""
    _decidable(request, user)
    record = request.record
    why = blocker(record, deciding=request)
    if why:
        raise CorrectionRefused(f"不能批准：{why}；请驳回该申请")
    try:
        checked = check_corrected(record, {change["header"]: change["after"] for change in request.changes}, today)
    except CorrectionInvalid as error:
        raise CorrectionRefused(f"不能批准：更正后的记录不符合服务记录规则（{error}）；请驳回该申请") from None
    why = _date_blocker(record, checked)
    if why:
        raise CorrectionRefused(f"不能批准：{why}；请驳回该申请")
    latest = _latest_version(record)
    if latest == 0:
        db.session.add(CompletionRecordVersion(record_id=record.id, version=1, values=_snapshot(record),
                                               recorded_at=record.created_at, recorded_by_id=record.entered_by_id))
        latest = 1
    for key, value in checked.values.items():
        if key != "worker_no":
            setattr(record, key, value)
    record.worker_id = checked.worker_id
    db.session.flush()
    db.session.refresh(record, ["worker"])
    version = CompletionRecordVersion(record_id=record.id, version=latest + 1, values=_snapshot(record),
                                      correction_id=request.id, recorded_by_id=user.id)
    db.session.add(version)
    request.status, request.decided_by_id, request.decided_at = CorrectionStatus.APPROVED, user.id, utcnow()
    request.decision_note = (note or "").strip() or None
    db.session.flush()
    notifications.correction_decided(request)
    return version


def refuse(request: CorrectionRequest, user: User, note: str) -> None:
    """Refuse with a reason; the record stays as it is. The caller commits."""
    _decidable(request, user)
    note = (note or "").strip()
    if not note:
        raise CorrectionRefused("请写明驳回理由")
    request.status, request.decided_by_id, request.decided_at = CorrectionStatus.REFUSED, user.id, utcnow()
    request.decision_note = note
    db.session.flush()
    notifications.correction_decided(request)


# --- versions and lists -------------------------------------------------------------------------


def _snapshot(record: CompletionRecord) -> dict[str, Any]:
    """The record's values as a version keeps them (JSON: dates ISO), with the worker's id and name."""
    values = {key: to_json_value(value) for key, value in record_values(record).items()}
    return values | {"worker_id": record.worker_id, "worker_name": record.worker.name}


def _latest_version(record: CompletionRecord) -> int:
    return db.session.execute(select(func.max(CompletionRecordVersion.version))
                              .where(CompletionRecordVersion.record_id == record.id)).scalar() or 0


@dataclass(frozen=True)
class VersionView:
    """One version of a record as its history shows it."""

    number: int
    cells: dict[str, str]
    changed: frozenset[str]  # headers that differ from the version before
    recorded_at: dt.datetime
    recorded_by: User | None
    correction: CorrectionRequest | None
    current: bool


def history(record: CompletionRecord) -> list[VersionView]:
    """Every version of the record, oldest first; an uncorrected record has only its first."""
    stored = list(db.session.execute(select(CompletionRecordVersion).where(
        CompletionRecordVersion.record_id == record.id).order_by(CompletionRecordVersion.version)).scalars())
    identity = _identity(record)
    if not stored:
        entered_by = db.session.get(User, record.entered_by_id) if record.entered_by_id else None
        return [VersionView(1, current_cells(record), frozenset(), record.created_at, entered_by, None, True)]
    views, before = [], None
    for version in stored:
        cells = record_cells(record.service_type, version.values,
                             {**identity, "worker_name": version.values.get("worker_name", "")})
        changed = frozenset() if before is None else frozenset(
            change.header for change in changed_cells(record.service_type, before, cells))
        views.append(VersionView(version.version, cells, changed, version.recorded_at, version.recorded_by,
                                 version.correction, version is stored[-1]))
        before = cells
    return views


def shown_columns(record: CompletionRecord) -> list[str]:
    """The headers a record's history shows: its template row without the identity columns."""
    return [column.header for column in correctable_columns(record.service_type)]


def requests_query(contract_ids: Select | None = None, status: str | None = None,
                   record_id: int | None = None) -> Select:
    """Correction requests, pending first, newest first; scoped to contracts when given."""
    stmt = select(CorrectionRequest)
    if contract_ids is not None:
        stmt = stmt.where(CorrectionRequest.contract_id.in_(contract_ids))
    if status in CorrectionStatus.codes():
        stmt = stmt.where(CorrectionRequest.status == status)
    if record_id is not None:
        stmt = stmt.where(CorrectionRequest.record_id == record_id)
    return stmt.order_by(CorrectionRequest.status != CorrectionStatus.PENDING, CorrectionRequest.id.desc())


def record_label(record: CompletionRecord) -> str:
    """"RW… 王秀英 2025-05-10 09:00", for headings and lists."""
    return f"{record.assignment.number} {record.assignment.subject.name} {record.service_date} {record.start_time}"


def changes_of(request: CorrectionRequest) -> list[Change]:
    return [Change(**change) for change in request.changes]


register_owner(OwnerKind(
    AttachmentOwner.CORRECTION_REQUEST, CorrectionRequest, contract_id=lambda request: request.contract_id,
    may_attach=lambda request, user: (policy.may(user, Action.REQUEST_CORRECTIONS) and may_see(request, user)
                                      and request.status == CorrectionStatus.PENDING),
))
