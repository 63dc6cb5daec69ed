"""Bulk import of subjects and assignments from a sheet: all rows or none, one transaction."""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

import pandas as pd
from flask import current_app
from sqlalchemy import insert, select

from ..adapters.files import FileStore
from ..adapters.tables.cells import CellError
from ..adapters.tables.marked import error_workbook, unlisted_note
from ..adapters.tables.reading import ReadLimits, UnreadableFile, read_table
from ..domain.registry_import import (
    ASSIGNMENT_COLUMNS,
    SUBJECT_COLUMNS,
    SheetValidation,
    validate_assignments,
    validate_subjects,
)
from ..domain.vocabulary import OPEN_ASSIGNMENT_STATUSES
from ..extensions import db
from ..models import Assignment, Contract, Subject
from .assignments import next_number
from .audit import record_event

_LOOKUP_CHUNK = 500
REPORT_FOLDER = "import-errors"
SHEET_FOLDER = "imports"


@dataclass
class ImportOutcome:
    status: str  # accepted | rejected | unreadable
    rows: int = 0
    errors: list[CellError] = field(default_factory=list)
    message: str = ""
    sha256: str = ""
    unlisted: int = 0  # errors found past the listed ones (UPLOAD_MAX_ERRORS)

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.unlisted

    @property
    def unlisted_note(self) -> str | None:
        """"另有 N 处错误未列出", when some are."""
        return unlisted_note(self.unlisted) if self.unlisted else None

    @classmethod
    def rejected(cls, rows: int, result: SheetValidation, digest: str) -> ImportOutcome:
        return cls("rejected", rows, result.errors, sha256=digest, unlisted=result.unlisted)


def _chunks(values, size=_LOOKUP_CHUNK):
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _id_numbers_in(table: pd.DataFrame) -> set[str]:
    column = next((c for c in table.columns if str(c).replace(" ", "") == "身份证号"), None)
    if column is None:
        return set()
    return {str(v).strip().upper() for v in table[column] if str(v).strip()}


def _subjects_with_ids(id_numbers: set[str], county_ids=None) -> list:
    """The registered subjects with these ID numbers (of `county_ids`, None: of any county, as
    the numbers are unique across counties)."""
    rows = []
    for chunk in _chunks(sorted(id_numbers)):
        stmt = select(Subject.kind, Subject.id_number, Subject.id, Subject.name, Subject.county_id).where(
            Subject.id_number.in_(chunk))
        if county_ids is not None:
            stmt = stmt.where(Subject.county_id.in_(county_ids))
        rows.extend(db.session.execute(stmt).all())
    return rows


def _limits() -> ReadLimits:
    """The app's upload limits for either sheet (their templates differ by a column)."""
    return ReadLimits.from_config(current_app.config, max(len(SUBJECT_COLUMNS), len(ASSIGNMENT_COLUMNS)))


def _read(data: bytes, filename: str) -> tuple[pd.DataFrame | None, ImportOutcome | None]:
    try:
        return read_table(data, filename, _limits()), None
    except UnreadableFile as error:
        return None, ImportOutcome("unreadable", message=str(error), sha256=hashlib.sha256(data).hexdigest())


def import_subjects(data: bytes, filename: str, today: date, county_id: int) -> ImportOutcome:
    """Validate the sheet; when every row is right, insert all of them into county `county_id`
    (the caller commits)."""
    table, unreadable = _read(data, filename)
    if unreadable:
        return unreadable
    digest = hashlib.sha256(data).hexdigest()
    # Numbers are unique across counties: one registered in another county is refused too.
    existing = {(kind, number) for kind, number, *_ in _subjects_with_ids(_id_numbers_in(table))}
    result = validate_subjects(table, existing, today, current_app.config["UPLOAD_MAX_ERRORS"])
    if result.rows is None:
        return ImportOutcome.rejected(len(table), result, digest)
    rows = [{**row, "county_id": county_id} for row in result.rows.to_dict("records")]
    if rows:
        db.session.execute(insert(Subject), rows)
    record_event("import", "Subject", None, {"filename": filename, "sha256": digest, "rows": len(rows)})
    return ImportOutcome("accepted", len(rows), sha256=digest)


def _contracts_frame(county_ids) -> pd.DataFrame:
    contracts = db.session.execute(select(Contract).where(Contract.county_id.in_(county_ids))).scalars().all()
    return pd.DataFrame([
        {"code": c.code, "contract_id": c.id, "county_id": c.county_id, "term_start": c.term_start,
         "term_end": c.term_end,
         "service_types": frozenset(c.service_types),
         "visits_per_month": next((line.visits_per_month for line in c.service_lines if line.service_type == "care_visit"), 1)}
        for c in contracts
    ], columns=["code", "contract_id", "county_id", "term_start", "term_end", "service_types", "visits_per_month"])


def _open_assignments(subject_ids: set[int]) -> pd.DataFrame:
    """The open assignments of these subjects, which the sheet may not repeat."""
    rows = []
    for chunk in _chunks(sorted(subject_ids)):
        rows.extend(db.session.execute(
            select(Assignment.contract_id, Assignment.subject_id, Assignment.service_type, Assignment.due_date,
                   Assignment.number)
            .where(Assignment.subject_id.in_(chunk), Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES))).all())
    return pd.DataFrame(rows, columns=["contract_id", "subject_id", "service_type", "due_date", "number"])


def import_assignments(data: bytes, filename: str, today: date, county_ids) -> ImportOutcome:
    """Validate the sheet of assignments (on contracts and of subjects of `county_ids`); when
    every row is right, issue all of them, each in its contract's county."""
    table, unreadable = _read(data, filename)
    if unreadable:
        return unreadable
    digest = hashlib.sha256(data).hexdigest()
    subjects = pd.DataFrame(_subjects_with_ids(_id_numbers_in(table), county_ids),
                            columns=["kind", "id_number", "subject_id", "name", "county_id"])
    contracts = _contracts_frame(county_ids)
    number_column = next((c for c in table.columns if str(c).replace(" ", "") == "任务编号"), None)
    wanted = {str(v).strip() for v in table[number_column]} - {""} if number_column else set()
    taken = set()
    for chunk in _chunks(sorted(wanted)):
        taken.update(db.session.execute(select(Assignment.number).where(Assignment.number.in_(chunk))).scalars())
    result = validate_assignments(table, contracts=contracts, subjects=subjects.drop(columns=["county_id"]),
                                  taken_numbers=taken,
                                  today=today, max_errors=current_app.config["UPLOAD_MAX_ERRORS"],
                                  open_assignments=_open_assignments({int(i) for i in subjects["subject_id"]}))
    if result.rows is None:
        return ImportOutcome.rejected(len(table), result, digest)
    rows = result.rows.to_dict("records")
    prefix, first = next_number(today).rsplit("-", 1)
    free_numbers = (n for n in (f"{prefix}-{i:06d}" for i in itertools.count(int(first))) if n not in wanted)
    county_of = dict(zip(contracts["contract_id"], contracts["county_id"]))
    subject_county = dict(zip(subjects["subject_id"], subjects["county_id"]))
    for row in rows:
        row["number"] = row["number"] or next(free_numbers)
        row["status"] = "assigned"
        row["county_id"] = int(county_of[row["contract_id"]])
        if int(subject_county[row["subject_id"]]) != row["county_id"]:
            # Caught here, not by the sheet's checks: a subject and a contract of two counties.
            return ImportOutcome("unreadable", len(rows), sha256=digest,
                                 message=f"任务 {row['number']} 的服务对象与合同不属于同一县（区）")
    if rows:
        db.session.execute(insert(Assignment), rows)
    record_event("import", "Assignment", None, {"filename": filename, "sha256": digest, "rows": len(rows)})
    return ImportOutcome("accepted", len(rows), sha256=digest)


def keep_sheet(data: bytes, filename: str, store: FileStore) -> str:
    """Keep an imported sheet as it was sent, under its SHA-256 (which the import's audit event
    records); the key (FileStoreError when it cannot be written: then nothing is imported)."""
    suffix = PurePath(filename or "").suffix.lower()
    return store.put_content(SHEET_FOLDER, data, suffix if suffix in (".csv", ".xlsx", ".xlsm") else "")


def save_error_report(data: bytes, filename: str, outcome: ImportOutcome, store: FileStore) -> str:
    """Store the user's file with the bad cells highlighted; returns the report's file name
    (FileStoreError when it cannot be written)."""
    name = f"{outcome.sha256[:16]}.xlsx"
    store.put(f"{REPORT_FOLDER}/{name}",
              error_workbook(data, filename, outcome.errors, unlisted=outcome.unlisted, limits=_limits()))
    return name
