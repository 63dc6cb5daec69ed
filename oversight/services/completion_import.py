"""Completion logs into Oversight (SPEC section 4): one path for the upload page, the visit form,
the CLI and the benchmark.

read (`reading.iter_table`) → the contract's facts in a few set-based queries → `validate_log`
→ anomaly flags → one raw insert per chunk of records (`adapters.bulk_sql`: a binary COPY on PostgreSQL,
an executemany on SQLite) → the assignments they complete
in one statement → batch accepted and one audit event → commit. Nothing is done a row at a time
in the ORM.

A batch row is committed first (`start_import`), then processed (`run_import`), at once or by a
queue worker (`oversight.tasks.import_later`). The process that runs it holds a lease on the
row (`worker`, `heartbeat_at`); progress goes to the batch row in short transactions of its own
while the file is checked, before the import writes anything, and renews the lease. The records
are written in one transaction, so a failure at any point — the worker killed included — leaves
the database as it was; `recover_interrupted` starts a dead worker's batch again or fails it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path, PurePath

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import Integer, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from ..adapters.bulk_sql import RawInsert, fetch_frame
from ..adapters.files import FileStore, FileStoreError, uploads_store
from ..adapters.tables.cells import EXCEL_ROW, CellError
from ..adapters.tables.marked import error_workbook, unlisted_note
from ..adapters.tables.reading import ReadLimits, UnreadableFile, iter_table
from ..clock import format_county_time, utcnow
from ..domain.anomalies import AnomalyContext, anomaly_flags, has_flags
from ..domain.local_standards import is_urban
from ..domain.completion_log import RECORD_COLUMNS, TEMPLATE_COLUMNS, LogContext, LogValidation, validate_log
from ..domain.vocabulary import OPEN_ASSIGNMENT_STATUSES, RecordSource, ServiceType
from ..extensions import db
from ..models import Assignment, CompletionRecord, Contract, FieldWorker, Subject, UploadBatch, User
from ..policy import Action, may, owns
from . import leases, notifications, row_security
from .audit import record_event
from .completion_places import TOWNSHIP_CENTRES
from .standards import poverty_lines
from .jobs import process_name

log = logging.getLogger(__name__)

ERRORS_KEPT = 1000
READ_ROWS = 20_000
INSERT_CHUNK = 20_000
LOG_FOLDER = "logs"
ERROR_FOLDER = "logs/errors"
SAVING_MESSAGE = "文件检查通过，正在保存记录"
FAILED_MESSAGE = "导入时发生内部错误，未保存任何数据，请稍后重新上传或联系管理员"
INTERRUPTED_MESSAGE = "导入进程意外中断，未保存任何数据；请重新上传该文件"
RESTARTED_MESSAGE = "导入进程意外中断，未保存任何数据，已重新排队导入（第 {attempt} 次）"


class ImportRefused(ValueError):
    """The upload is refused before any reading; the message is Chinese, for the user."""


@dataclass(frozen=True)
class ImportResult:
    """A processed batch and its refused cells, the first UPLOAD_MAX_ERRORS of them (the batch
    row keeps only the first ERRORS_KEPT); `unlisted` counts the others."""

    batch: UploadBatch
    errors: list[CellError]
    unlisted: int = 0

    def as_json(self) -> dict:
        """The `import-log --json` answer ("skipped_rows" only when unstarted rows were left
        out, "unlisted_errors" only when errors were)."""
        answer = {
            "status": self.batch.status,
            "batch_id": self.batch.id, "rows": self.batch.rows_total,
            "errors": [error_dict(error) for error in self.errors], "message": self.batch.message,
        }
        answer |= {"skipped_rows": self.batch.rows_skipped} if self.batch.rows_skipped else {}
        return answer | ({"unlisted_errors": self.unlisted} if self.unlisted else {})


@dataclass(frozen=True)
class Stored:
    """What accepting a set of records changed."""

    rows: int
    flagged: int
    completed: int


def error_dict(error: CellError) -> dict:
    """A refused cell as stored and printed: row, column, value, reason."""
    return {"row": error.row, "column": error.column, "value": error.value, "reason": error.reason}


# --- starting a batch ----------------------------------------------------------------------


def check_may_upload(contract: Contract, service_type: str, uploader: User | None) -> None:
    """Raise ImportRefused unless `uploader` may send `service_type` records for `contract`."""
    if uploader is not None and not may(uploader, Action.ENTER_RECORDS):
        raise ImportRefused("审计人员不能上传服务记录")
    if uploader is not None and not owns(uploader, contract.contractor_id):
        raise ImportRefused(f"合同{contract.code}不属于本承接机构")
    if service_type not in contract.service_types:
        raise ImportRefused(f"合同{contract.code}不包含{ServiceType.labels().get(service_type, service_type)}服务")


def start_import(contract: Contract, service_type: str, data: bytes, filename: str, uploader: User | None,
                 store: FileStore) -> UploadBatch:
    """Keep the original file and add its batch (pending, or rejected when the file was sent
    before); the caller commits. A file over the size limit is refused (ImportRefused) and a
    failed write raises FileStoreError; neither leaves a batch or a file behind."""
    check_may_upload(contract, service_type, uploader)
    limits = read_limits(service_type)
    if len(data) > limits.max_uncompressed_bytes:
        raise ImportRefused(str(limits.too_large()))
    suffix = PurePath(filename or "").suffix.lower()
    stored = store.put_content(LOG_FOLDER, data, suffix if suffix in (".csv", ".xlsx", ".xlsm", ".txt") else "")
    digest = hashlib.sha256(data).hexdigest()
    batch = UploadBatch(contract_id=contract.id, service_type=service_type, filename=(filename or "")[:255],
                        sha256=digest, size_bytes=len(data), stored_path=stored,
                        uploaded_by_id=uploader.id if uploader else None, status="pending")
    earlier = earlier_batch(digest)
    if earlier is not None:
        batch.status, batch.finished_at = "rejected", utcnow()
        batch.message = "该文件已上传过，不能重复上传"
        if db.session.get(Contract, earlier.contract_id).contractor_id == contract.contractor_id:
            batch.message = (f"该文件已于{format_county_time(earlier.uploaded_at, labelled=True)}上传过（批次 #{earlier.id}，"
                             f"文件名 {earlier.filename}），不能重复上传")
    db.session.add(batch)
    db.session.flush()
    return batch


def earlier_batch(digest: str) -> UploadBatch | None:
    """The batch that accepted (or is still processing) a file with this SHA-256."""
    return db.session.execute(
        select(UploadBatch).where(UploadBatch.sha256 == digest,
                                  UploadBatch.status.in_(("accepted", "pending", "processing")))
        .order_by(UploadBatch.id).limit(1)
    ).scalar_one_or_none()


# --- processing a batch --------------------------------------------------------------------


def run_import(batch_id: int, today: date, *, chunk_rows: int | None = None) -> ImportResult:
    """Check a pending batch's stored file and store its records, or refuse it whole; commits.

    Every exception rolls the records back and marks the batch failed (logged, not raised).
    """
    store = uploads_store()
    if not _claim(batch_id):  # already taken by another worker, or finished
        return ImportResult(db.session.get(UploadBatch, batch_id), [])
    batch = db.session.get(UploadBatch, batch_id, populate_existing=True)
    try:
        contract = db.session.get(Contract, batch.contract_id)
        writer = _PieceWriter(contract, batch) if db.engine.dialect.name == "postgresql" else None
        try:
            validation, ctx, rows = _check_file(batch, contract, today, store, chunk_rows or READ_ROWS, writer)
            if writer is not None and validation.accepted:
                writer.flag(validation.records, ctx)
        finally:
            if writer is not None:
                writer.finish()
        if writer is not None:
            writer.settle(validation.accepted)
        if validation.accepted:
            _progress(batch_id, message=SAVING_MESSAGE)
        db.session.refresh(batch)  # the progress was written beside the session
        batch.rows_total = batch.rows_processed = rows
        batch.rows_skipped = validation.skipped
        batch.finished_at = utcnow()
        if not validation.accepted:
            _reject(batch, validation, store)
        else:
            stored = store_rows(validation.records, ctx, contract, batch_id=batch.id,
                                entered_by_id=batch.uploaded_by_id, written=writer)
            _test_pause(batch_id)
            batch.status, batch.rows_accepted, batch.message = "accepted", stored.rows, None
            record_event("import", "CompletionRecord", None, {
                "batch": batch.id, "contract": contract.code, "service_type": batch.service_type,
                "filename": batch.filename, "sha256": batch.sha256, "rows": stored.rows,
                "skipped_rows": validation.skipped,
                "flagged": stored.flagged, "completed_assignments": stored.completed,
            })
        notifications.import_done(batch)
        db.session.commit()
        return ImportResult(batch, validation.errors, validation.unlisted)
    except (UnreadableFile, FileStoreError) as error:
        return ImportResult(_fail(batch_id, str(error)), [])
    except IntegrityError:
        log.exception("completion log batch %s collided with records saved meanwhile", batch_id)
        return ImportResult(_fail(batch_id, "保存时发现与同时上传的记录重复，未保存任何数据，请重新上传"), [])
    except Exception:
        log.exception("completion log batch %s failed", batch_id)
        return ImportResult(_fail(batch_id, FAILED_MESSAGE), [])


def _check_file(batch: UploadBatch, contract: Contract, today: date, store: FileStore,
                chunk_rows: int, writer: _PieceWriter | None) -> tuple[LogValidation, LogContext, int]:
    """Validate the stored file, reporting progress; (validation, context, data rows). With a
    `writer`, each piece's records go to it as soon as the piece is checked.

    The file's bytes live only in this frame: a million-row file is 150 MB that storing the
    records can use.
    """
    data = store.get(batch.stored_path)
    pieces = iter_table(data, batch.filename, chunk_rows, read_limits(batch.service_type))
    _progress(batch.id, rows_total=pieces.rows_hint, rows_processed=0)
    counted = _Counted(pieces, lambda done: _progress(batch.id, rows_processed=done))
    validation, ctx = check_rows(contract, batch.service_type, counted, today, writer=writer)
    return validation, ctx, counted.done


class _PieceWriter:
    """Stores a file's records piece by piece while its later pieces are still being checked
    (PostgreSQL): the server's COPY and the assignments' update run beside the checking.

    Everything is written inside a savepoint of the import's one transaction, by a thread of its
    own that alone uses the session's connection meanwhile (the checking is pure, and progress
    goes through other connections). A refused file rolls the savepoint back (`settle`); an
    accepted one keeps the records, whose anomaly flags are set afterwards (`store_rows`), as
    they need the whole file. A failure while writing stops the writing; it is raised when the
    file is accepted (a file refused for its own errors is refused as ever).
    """

    def __init__(self, contract: Contract, batch: UploadBatch):
        self.contract, self.batch_id, self.entered_by_id = contract, batch.id, batch.uploaded_by_id
        self.savepoint = db.session.begin_nested()
        self.connection = db.session.connection()
        self.pieces: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.rows = self.completed = 0
        self.thread: threading.Thread | None = None
        self.flags: pd.Series | None = None

    def start(self, ctx: LogContext) -> Callable[[pd.DataFrame], None]:
        """Begin writing for this context; returns what takes each checked piece."""
        self.ctx = ctx
        self.worker_ids = pd.Series(ctx.workers["worker_id"].to_numpy(), index=ctx.workers["worker_no"].to_numpy())
        self.insert = RawInsert(CompletionRecord.__table__, {
            "contract_id": self.contract.id, "county_id": self.contract.county_id,
            "service_type": ctx.service_type, "batch_id": self.batch_id,
            "entered_by_id": self.entered_by_id, "created_at": utcnow(), "source": RecordSource.UPLOAD},
            connection=self.connection)
        self.thread = threading.Thread(target=row_security.carried(self._run), name=f"import-{self.batch_id}-writer", daemon=True)
        self.thread.start()
        return self.pieces.put

    def _run(self) -> None:
        began = time.thread_time()
        while (piece := self.pieces.get()) is not None:
            if self.error is not None:
                continue
            try:
                self._write(piece)
            except BaseException as error:  # raised in the importing thread
                self.error = error
        log.debug("batch %s: %s records written beside the checks, %.2f s of this process's CPU",
                  self.batch_id, self.rows, time.thread_time() - began)

    def _write(self, records: pd.DataFrame) -> None:
        service_type = self.ctx.service_type
        worker_ids = self.worker_ids.reindex(records["worker_no"].to_numpy()).to_numpy(dtype=np.int64)
        for start in range(0, len(records), INSERT_CHUNK):
            part = records.iloc[start: start + INSERT_CHUNK]
            stop = start + len(part)
            columns = {key: part[key] for key in RECORD_COLUMNS[service_type] if key != "worker_no"}
            columns.update(worker_id=pd.Series(worker_ids[start:stop]), flagged=pd.Series(False, index=range(len(part))),
                           anomaly_flags=pd.Series("[]", index=range(len(part)), dtype=object))
            self.insert.run(columns, len(part))
            done = np.unique(part["assignment_id"].to_numpy()).tolist()
            self.completed += _complete_assignments(done, service_type, self.connection)
        self.rows += len(records)

    def flag(self, records: pd.DataFrame, ctx: LogContext) -> None:
        """The anomaly flags of the whole file, computed while the last pieces are still being
        written: the stored visits they compare with are read on a connection of its own (the
        committed ones, which is what the import's transaction sees of them but its own)."""
        with db.engine.connect() as reader:
            self.flags = anomaly_flags(records, _anomaly_context(self.contract, ctx, records, self.batch_id, reader))

    def finish(self) -> None:
        """Wait for the pieces given so far to be written (or their writing to have failed)."""
        if self.thread is not None:
            self.pieces.put(None)
            self.thread.join()
            self.thread = None

    def settle(self, accepted: bool) -> None:
        """Keep what was written (the file was accepted; a failure while writing is raised), or
        take it back (refused)."""
        if not accepted:
            self.savepoint.rollback()
            return
        self.check()
        self.savepoint.commit()  # RELEASE SAVEPOINT: the records stay in the import's transaction

    def check(self) -> None:
        """Raise the writing's failure, if any."""
        if self.error is not None:
            raise self.error


def import_file(contract: Contract, service_type: str, path: Path, uploader: User | None,
                today: date, *, chunk_rows: int | None = None) -> ImportResult:
    """Start and run a batch from a file on disk in this thread (the CLI and the benchmark)."""
    limits = read_limits(service_type)
    if path.stat().st_size > limits.max_uncompressed_bytes:
        raise ImportRefused(str(limits.too_large()))
    batch = start_import(contract, service_type, path.read_bytes(), path.name, uploader, uploads_store())
    db.session.commit()
    return run_import(batch.id, today, chunk_rows=chunk_rows)


class _Counted:
    """A table's pieces, reporting the rows read so far after each piece has been checked."""

    def __init__(self, pieces, report: Callable[[int], None]):
        self.pieces, self.report, self.rows_hint = pieces, report, pieces.rows_hint
        self.done = 0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for piece in self.pieces:
            yield piece
            self.done += len(piece)
            self.report(self.done)


def _progress(batch_id: int, **values) -> None:
    """Update the batch row in a transaction of its own, so that the page sees it at once; renews
    this process's lease."""
    with db.engine.begin() as connection:
        connection.execute(update(UploadBatch.__table__).where(UploadBatch.__table__.c.id == batch_id)
                           .values(heartbeat_at=utcnow(), **values))


def _claim(batch_id: int) -> bool:
    """Take a pending batch for this process (one transaction); False when it is not pending."""
    table = UploadBatch.__table__
    with db.engine.begin() as connection:
        taken = connection.execute(
            update(table).where(table.c.id == batch_id, table.c.status == "pending")
            .values(status="processing", worker=process_name(), heartbeat_at=utcnow(),
                    attempts=table.c.attempts + 1, message=None))
    return taken.rowcount == 1


def _test_pause(batch_id: int) -> None:
    """The queue tests' hook: hold the records' transaction open so a worker can be killed in it."""
    seconds = current_app.config["IMPORT_TEST_PAUSE_SECONDS"]
    if seconds:
        log.warning("import of batch %s paused before commit (IMPORT_TEST_PAUSE_SECONDS)", batch_id)
        time.sleep(seconds)


# --- a dead worker's batch ------------------------------------------------------------------


@dataclass(frozen=True)
class Recovered:
    """Interrupted batches: put back in the queue (`restarted`, to enqueue) or failed."""

    restarted: list[int]
    failed: list[int]


def recover_interrupted(now: datetime, lease: timedelta, max_attempts: int) -> Recovered:
    """Batches left 处理中 by a dead worker (its lease older than `lease`, or its process gone on
    this host): started again while they have had fewer than `max_attempts` starts, else failed
    with INTERRUPTED_MESSAGE; commits. Pending batches nobody took within `lease` (their queue
    message lost) are returned to be enqueued again. Nothing of theirs was saved: records are
    written in the transaction that accepts the batch."""
    table = UploadBatch.__table__
    interrupted, lost = leases.recover(
        table, now, lease, max_attempts, running="processing", since="uploaded_at",
        failed_values={"message": INTERRUPTED_MESSAGE, "finished_at": now}, requeued_values={"rows_processed": 0})
    for row in interrupted:
        if row.requeued:
            db.session.execute(update(table).where(table.c.id == row.row_id)
                               .values(message=RESTARTED_MESSAGE.format(attempt=row.attempts + 1)))
        record_event("import_interrupted", "UploadBatch", row.row_id,
                     {"worker": row.worker, "attempts": row.attempts, "outcome": "pending" if row.requeued else "failed"})
    db.session.commit()
    return Recovered([row.row_id for row in interrupted if row.requeued] + lost,
                     [row.row_id for row in interrupted if not row.requeued])


def _reject(batch: UploadBatch, validation: LogValidation, store: FileStore) -> None:
    errors = validation.errors
    listed = f"{ERROR_FOLDER}/{batch.id}.json"
    store.put(listed, json.dumps([error_dict(e) for e in errors], ensure_ascii=False).encode())
    report = error_workbook(store.get(batch.stored_path), batch.filename, errors, unlisted=validation.unlisted,
                            limits=read_limits(batch.service_type))
    store.put(f"{ERROR_FOLDER}/{batch.id}.xlsx", report)
    batch.status = "rejected"
    batch.error_count, batch.errors = validation.error_count, [error_dict(e) for e in errors[:ERRORS_KEPT]]
    batch.error_report_path = f"{ERROR_FOLDER}/{batch.id}.xlsx"
    batch.message = f"文件有 {validation.error_count:,} 处错误，未保存任何数据"


def _fail(batch_id: int, message: str) -> UploadBatch:
    db.session.rollback()
    batch = db.session.get(UploadBatch, batch_id, populate_existing=True)
    batch.status, batch.message, batch.finished_at = "failed", message, utcnow()
    notifications.import_done(batch)
    db.session.commit()
    return batch


def all_errors(batch: UploadBatch, store: FileStore) -> list[dict]:
    """The listed refused cells of a rejected batch: the first UPLOAD_MAX_ERRORS (the row keeps
    the first ERRORS_KEPT of them)."""
    key = f"{ERROR_FOLDER}/{batch.id}.json"
    if batch.error_count > len(batch.errors or []) and store.exists(key):
        return json.loads(store.get(key))
    return list(batch.errors or [])


def skipped_note(batch: UploadBatch) -> str | None:
    """"320 行未填写，已跳过" when rows carrying only the prefilled columns were left out."""
    return f"{batch.rows_skipped:,} 行未填写，已跳过" if batch.rows_skipped else None


def unlisted_errors(batch: UploadBatch, listed: int) -> str | None:
    """"另有 N 处错误未列出" when the batch has more errors than the `listed` ones."""
    return unlisted_note(batch.error_count - listed) if batch.error_count > listed else None


def read_limits(service_type: str) -> ReadLimits:
    """The app's upload limits for a log of `service_type`."""
    return ReadLimits.from_config(current_app.config, len(TEMPLATE_COLUMNS[service_type]))


# --- the shared checking and storing path --------------------------------------------------


# What the anomaly flags read of each assignment's subject.
_ANOMALY_COLUMNS = pd.Index(["assignment_id", "id_number", "township", "urban"])


@dataclass(frozen=True)
class OneVisit:
    """What one visit's row is checked against (`log_context`'s `only`): its assignment and its
    worker. The row can name no other, so the rest of the contract is not read."""

    assignment_id: int
    worker_no: str


def check_rows(contract: Contract, service_type: str, table: pd.DataFrame | Iterable[pd.DataFrame],
               today: date, *, skip_unstarted: bool = True, writer: _PieceWriter | None = None,
               only: OneVisit | None = None) -> tuple[LogValidation, LogContext]:
    """Validate a log (a table or its pieces) against the contract; returns the validation and
    the part of the context that storing still needs (the rest is let go at once). Rows that
    carry only the prefilled columns are skipped unless `skip_unstarted` is false. A `writer`
    gets each piece's records as soon as the piece is checked. `only`: the table is one visit of
    that assignment by that worker (the app's), checked against them alone."""
    ctx = log_context(contract, service_type, today, only)
    on_piece = writer.start(ctx) if writer is not None else None
    validation = validate_log(table, ctx, current_app.config["UPLOAD_MAX_ERRORS"], skip_unstarted=skip_unstarted,
                              on_piece=on_piece)
    return validation, replace(ctx, assignments=ctx.assignments[_ANOMALY_COLUMNS.intersection(ctx.assignments.columns)])


def log_context(contract: Contract, service_type: str, today: date, only: OneVisit | None = None) -> LogContext:
    """The contract's assignments, the contractor's workers and the stored visits, as frames;
    given `only`, just that assignment, that worker and the assignment's stored visits (by
    primary key and the records' unique key: a visit costs the same on any size of contract)."""
    assignments = select(Assignment.number, Assignment.id.label("assignment_id"), Subject.name.label("subject_name"),
                         Subject.id_number, Assignment.service_type, Assignment.status, Subject.township,
                         Subject.village) \
        .join(Subject, Assignment.subject_id == Subject.id).where(Assignment.contract_id == contract.id)
    workers = select(FieldWorker.worker_no, FieldWorker.name, FieldWorker.id.label("worker_id")) \
        .where(FieldWorker.contractor_id == contract.contractor_id, FieldWorker.active)
    existing = select(CompletionRecord.assignment_id, CompletionRecord.service_date, CompletionRecord.start_time) \
        .where(CompletionRecord.contract_id == contract.id, CompletionRecord.service_type == service_type)
    if only is not None:
        assignments = assignments.where(Assignment.id == only.assignment_id)
        workers = workers.where(FieldWorker.worker_no == only.worker_no)
        existing = existing.where(CompletionRecord.assignment_id == only.assignment_id)
    assignments = fetch_frame(assignments, shared=("subject_name", "service_type", "status", "township", "village"))
    workers = fetch_frame(workers)
    existing = fetch_frame(existing, shared=("start_time",))
    lines = poverty_lines(contract.county_id) if service_type == "household_survey" else ()
    if lines:
        assignments["urban"] = _urban(assignments.pop("village"), assignments["township"])
    else:
        assignments = assignments.drop(columns="village")
    return LogContext(service_type, contract.term_start, contract.term_end, today, assignments, workers,
                      existing, poverty_lines=lines)


def _urban(villages: pd.Series, townships: pd.Series) -> pd.Series:
    """Whether each subject is held to the urban 低保标准 (`domain.local_standards.is_urban`)."""
    pairs = pd.Series(list(zip(townships.astype(object), villages.astype(object))), index=villages.index)
    return pairs.map({pair: is_urban(*pair) for pair in set(pairs)}).astype(bool)


def _anomaly_context(contract: Contract, ctx: LogContext, records: pd.DataFrame,
                     batch_id: int | None = None, connection=None, narrow: bool = False) -> AnomalyContext:
    """Stored visits of the contractor's workers on the days of the file (but the records of
    `batch_id`, the file's own when they were written as it was checked), previous conclusions.
    `narrow`: only the file's own workers' visits and its own subjects' conclusions — all that
    the flags compare (overlaps and daily counts are per worker and day): one visit reads its
    worker's day by the records' (worker, date) index."""
    first, last = min(records["service_date"]), max(records["service_date"])
    stored = select(FieldWorker.worker_no, CompletionRecord.service_date, CompletionRecord.start_time,
                    CompletionRecord.end_time) \
        .join(FieldWorker, CompletionRecord.worker_id == FieldWorker.id) \
        .where(FieldWorker.contractor_id == contract.contractor_id,
               CompletionRecord.service_date >= first, CompletionRecord.service_date <= last)
    if narrow:
        stored = stored.where(FieldWorker.worker_no.in_(sorted(set(records["worker_no"]))))
    not_this_batch = or_(CompletionRecord.batch_id.is_(None), CompletionRecord.batch_id != batch_id)
    if batch_id is not None:
        stored = stored.where(not_this_batch)
    existing = fetch_frame(stored, shared=("worker_no", "start_time", "end_time"), connection=connection)
    previous: dict[str, str] = {}
    if ctx.service_type == "self_care_assessment":
        assessed = select(Assignment.subject_id).where(Assignment.contract_id == contract.id,
                                                       Assignment.service_type == ctx.service_type)
        conclusions = select(Subject.id_number, CompletionRecord.conclusion) \
            .join(Assignment, CompletionRecord.assignment_id == Assignment.id) \
            .join(Subject, Assignment.subject_id == Subject.id) \
            .where(CompletionRecord.service_type == ctx.service_type, Assignment.subject_id.in_(assessed)) \
            .order_by(CompletionRecord.service_date, CompletionRecord.id)
        if batch_id is not None:
            conclusions = conclusions.where(not_this_batch)
        if narrow:
            people = ctx.assignments.loc[ctx.assignments["assignment_id"].isin(records["assignment_id"]), "id_number"]
            conclusions = conclusions.where(Subject.id_number.in_(sorted(set(people))))
        previous = dict((connection or db.session).execute(conclusions).all())
    return AnomalyContext(ctx.assignments[_ANOMALY_COLUMNS.intersection(ctx.assignments.columns)], existing,
                          TOWNSHIP_CENTRES, ctx.poverty_line_fen, ctx.poverty_lines, previous)


def store_rows(records: pd.DataFrame, ctx: LogContext, contract: Contract, *, batch_id: int | None,
               entered_by_id: int | None, source: str | None = None,
               more_flags: Callable[[pd.Series], pd.Series] | None = None,
               written: _PieceWriter | None = None, narrow: bool = False) -> Stored:
    """Flag and insert validated records (one COPY or executemany per chunk) and complete their
    assignments; the caller commits. `source` is the records' (`RecordSource`): upload with a
    batch, form without, unless given; `more_flags` adds flags of the caller's own (the app's)
    to the log's. Records a `_PieceWriter` has `written` already (all of them, their assignments
    completed) only get their flags. `narrow`: the flags read only the records' own workers' and
    subjects' stored facts (`_anomaly_context`)."""
    if written is not None:
        written.check()
        flags = written.flags
        if flags is None:
            flags = anomaly_flags(records, _anomaly_context(contract, ctx, records, batch_id))
        if more_flags is not None:
            flags = more_flags(flags)
        flagged = has_flags(flags).to_numpy()
        _set_flags(batch_id, records[EXCEL_ROW].to_numpy()[flagged], flags.to_numpy()[flagged])
        _expire_assignments()
        return Stored(written.rows, int(flagged.sum()), written.completed)
    flags = anomaly_flags(records, _anomaly_context(contract, ctx, records, narrow=narrow))
    if more_flags is not None:
        flags = more_flags(flags)
    workers = pd.Series(ctx.workers["worker_id"].to_numpy(), index=ctx.workers["worker_no"].to_numpy())
    worker_ids = workers.reindex(records["worker_no"].to_numpy()).to_numpy(dtype=np.int64)
    flagged = has_flags(flags).to_numpy()
    insert = RawInsert(CompletionRecord.__table__, {
        "contract_id": contract.id, "county_id": contract.county_id, "service_type": ctx.service_type,
        "batch_id": batch_id,
        "entered_by_id": entered_by_id, "created_at": utcnow(),
        "source": source or (RecordSource.UPLOAD if batch_id is not None else RecordSource.FORM)})
    for start in range(0, len(records), INSERT_CHUNK):
        part = records.iloc[start: start + INSERT_CHUNK]
        stop = start + len(part)
        columns = {key: part[key] for key in RECORD_COLUMNS[ctx.service_type] if key != "worker_no"}
        columns.update(worker_id=pd.Series(worker_ids[start:stop]), flagged=pd.Series(flagged[start:stop]),
                       anomaly_flags=_flags_json(flags.iloc[start:stop].to_numpy()))
        insert.run(columns, len(part))
    if batch_id is None:
        done = np.unique(records["assignment_id"].to_numpy()).tolist()
    else:
        done = select(CompletionRecord.__table__.c.assignment_id).where(
            CompletionRecord.__table__.c.batch_id == batch_id)
    return Stored(len(records), int(flagged.sum()), _complete_assignments(done, ctx.service_type))


def _flags_json(flags: np.ndarray) -> pd.Series:
    """Each record's flags as the JSON text of [{code, reason}]; most records have none."""
    texts = np.full(len(flags), "[]", dtype=object)
    for position in np.flatnonzero([bool(item) for item in flags]):
        texts[position] = json.dumps([flag.as_dict() for flag in flags[position]], ensure_ascii=False)
    return pd.Series(texts)


def _set_flags(batch_id: int, rows: np.ndarray, flags: np.ndarray) -> None:
    """Set the anomaly flags of a batch's records, found by their Excel rows (PostgreSQL)."""
    if not len(rows):
        return
    texts = _flags_json(flags)
    db.session.connection().exec_driver_sql(
        "UPDATE completion_records AS r SET flagged = true, anomaly_flags = CAST(v.flags AS JSON) "
        "FROM unnest(%(rows)s::integer[], %(flags)s::text[]) AS v(excel_row, flags) "
        "WHERE r.batch_id = %(batch)s AND r.excel_row = v.excel_row",
        {"rows": rows.astype(np.int64).tolist(), "flags": texts.tolist(), "batch": batch_id})


def _complete_assignments(done, service_type: str, writer_connection=None) -> int:
    """Complete the open assignments among `done` (ids, or a select of them): a survey or an
    assessment at once, a care visit once it has its required number of visits. On a
    `writer_connection` (a `_PieceWriter`'s thread) the session is not touched: the caller
    expires its assignments afterwards."""
    table = Assignment.__table__
    now = utcnow()
    connection = writer_connection if writer_connection is not None else db.session.connection()
    if isinstance(done, list) and connection.dialect.name == "postgresql":
        chosen = table.c.id == any_(bindparam("done", done, type_=ARRAY(Integer)))  # one parameter, not one per id
    else:
        chosen = table.c.id.in_(done)
    stmt = (update(table).where(chosen, table.c.status.in_(OPEN_ASSIGNMENT_STATUSES))
            .values(status="completed", completed_at=now, updated_at=now))
    if service_type == "care_visit":
        records = CompletionRecord.__table__
        visits = select(func.count()).select_from(records).where(records.c.assignment_id == table.c.id)
        stmt = stmt.where(visits.scalar_subquery() >= table.c.required_visits)
    completed = connection.execute(stmt).rowcount
    if writer_connection is None:
        _expire_assignments()
    return completed


def _expire_assignments() -> None:
    """The session's own Assignment objects must not show the old status."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Assignment):
            db.session.expire(obj)


# --- one visit from the form ---------------------------------------------------------------


def enter_visit(assignment: Assignment, cells: Mapping[str, str], user: User, today: date) -> list[CellError]:
    """Check and store one visit typed into the form, by the same rules as an uploaded row.

    `cells` maps template headers to the typed text; 任务编号, 服务对象姓名 and 身份证号 come
    from the assignment. Returns the refused cells (none when stored); the caller commits.
    """
    contract = db.session.get(Contract, assignment.contract_id)
    check_may_upload(contract, assignment.service_type, user)
    subject = db.session.get(Subject, assignment.subject_id)
    row = {column.header: "" for column in TEMPLATE_COLUMNS[assignment.service_type]}
    row.update({key: value for key, value in cells.items() if key in row})
    row.update({"任务编号": assignment.number, "服务对象姓名": subject.name, "身份证号": subject.id_number})
    table = pd.DataFrame([row], index=pd.Index([2], name=EXCEL_ROW), dtype=object)
    # The form fills the prefilled columns itself: an empty form is refused cell by cell, not skipped.
    validation, ctx = check_rows(contract, assignment.service_type, table, today, skip_unstarted=False)
    if not validation.accepted:
        return validation.errors
    stored = store_rows(validation.records, ctx, contract, batch_id=None, entered_by_id=user.id)
    record_event("enter", "CompletionRecord", None, {
        "assignment": assignment.number, "service_date": cells.get("服务日期"), "start_time": cells.get("开始时间"),
        "flagged": stored.flagged, "completed_assignments": stored.completed,
    })
    return []
