"""Importing independent evidence (issue 10, point 9): verification files in, contradictions flagged.

read (`reading.read_table`, the upload limits) → `domain.verification_files` (every bad cell, all
or nothing) → the subjects with these ID numbers and their records, in a few set-based queries →
`domain.evidence` (the rules) → one `EvidenceFlag` per new contradiction → the import row and an
audit event. The caller commits; a rejected or unreadable file leaves only its import row (with
the errors, and a marked copy in the file store), never a flag.
"""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

import pandas as pd
from flask import current_app
from sqlalchemy import select

from ..adapters.files import FileStore
from ..adapters.tables.cells import CellError
from ..adapters.tables.marked import error_workbook, unlisted_note
from ..adapters.tables.reading import ReadLimits, UnreadableFile, read_table
from ..clock import format_county_time, utcnow
from ..domain.evidence import (
    DeathRow,
    EconomicRow,
    Finding,
    Service,
    Survey,
    Tolerance,
    death_findings,
    economic_findings,
    matched_rows,
)
from ..domain.verification_files import FILE_COLUMNS, validate_verification
from ..domain.vocabulary import EvidenceFlagKind, EvidenceFlagStatus, ServiceType, VerificationKind, label_of
from ..extensions import db
from ..models import Assignment, CompletionRecord, EvidenceFlag, Subject, User, VerificationImport
from .audit import record_event

FOLDER = "verification"
ERROR_FOLDER = "verification/errors"
ERRORS_KEPT = 1000
_LOOKUP_CHUNK = 500


class VerificationRefused(ValueError):
    """The upload is refused before reading; the message is Chinese, for the user."""


@dataclass
class VerificationOutcome:
    """An import and the refused cells of a rejected file (the first UPLOAD_MAX_ERRORS)."""

    verification_import: VerificationImport
    errors: list[CellError] = field(default_factory=list)
    unlisted: int = 0
    flags: list[EvidenceFlag] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.verification_import.status == "accepted"

    @property
    def unlisted_note(self) -> str | None:
        return unlisted_note(self.unlisted) if self.unlisted else None


def read_limits(kind: str) -> ReadLimits:
    return ReadLimits.from_config(current_app.config, len(FILE_COLUMNS[kind]))


def tolerance() -> Tolerance:
    """The settings' tolerance for amounts (EVIDENCE_TOLERANCE_PERCENT, EVIDENCE_TOLERANCE_FLOOR_FEN)."""
    config = current_app.config
    return Tolerance(int(config["EVIDENCE_TOLERANCE_PERCENT"]), int(config["EVIDENCE_TOLERANCE_FLOOR_FEN"]))


def earlier_import(digest: str) -> VerificationImport | None:
    """The accepted import of a file with this SHA-256."""
    return db.session.execute(select(VerificationImport).where(
        VerificationImport.sha256 == digest, VerificationImport.status == "accepted")
        .order_by(VerificationImport.id).limit(1)).scalar_one_or_none()


def import_verification(kind: str, data: bytes, filename: str, uploader: User | None, today: date,
                        store: FileStore) -> VerificationOutcome:
    """Keep the file, check it whole, and flag what contradicts the records (the caller commits).

    A file past the size limit is refused (VerificationRefused) and a failed write raises
    FileStoreError; neither leaves anything behind.
    """
    if kind not in VerificationKind.codes():
        raise VerificationRefused("未知的核对数据类型")
    if uploader is not None and uploader.role not in ("admin", "supervisor"):
        raise VerificationRefused("只有监管人员可以导入核对数据")
    limits = read_limits(kind)
    if len(data) > limits.max_uncompressed_bytes:
        raise VerificationRefused(str(limits.too_large()))
    suffix = PurePath(filename or "").suffix.lower()
    digest = hashlib.sha256(data).hexdigest()
    entry = VerificationImport(
        kind=kind, filename=(filename or "")[:255], sha256=digest, size_bytes=len(data),
        stored_path=store.put_content(FOLDER, data, suffix if suffix in (".csv", ".xlsx", ".xlsm") else ""),
        uploaded_by_id=uploader.id if uploader else None, status="rejected")
    db.session.add(entry)
    earlier = earlier_import(digest)
    if earlier is not None:
        entry.message = (f"该文件已于{format_county_time(earlier.uploaded_at, labelled=True)}导入过（导入 #{earlier.id}，"
                         f"文件名 {earlier.filename}），不能重复导入")
        db.session.flush()
        return VerificationOutcome(entry)
    try:
        table = read_table(data, filename, limits)
    except UnreadableFile as error:
        entry.status, entry.message = "failed", f"文件无法读取：{error}"[:500]
        db.session.flush()
        return VerificationOutcome(entry)
    entry.rows_total = len(table)
    result = validate_verification(kind, table, today, current_app.config["UPLOAD_MAX_ERRORS"])
    if result.rows is None:
        _reject(entry, data, filename, result.errors, result.unlisted, store, limits)
        return VerificationOutcome(entry, result.errors, result.unlisted)
    findings, matched = (_economic(result.rows) if kind == VerificationKind.ECONOMIC else _deaths(result.rows))
    db.session.flush()
    flags, known = _store_flags(entry, findings)
    entry.status, entry.rows_matched, entry.flags_raised, entry.flags_known = "accepted", matched, len(flags), known
    db.session.flush()
    record_event("import", "VerificationImport", entry.id, {
        "kind": kind, "filename": entry.filename, "sha256": digest, "rows": entry.rows_total,
        "matched": matched, "flags": len(flags), "already_flagged": known})
    return VerificationOutcome(entry, flags=flags)


def _reject(entry: VerificationImport, data: bytes, filename: str, errors: list[CellError], unlisted: int,
            store: FileStore, limits: ReadLimits) -> None:
    entry.error_count = len(errors) + unlisted
    entry.errors = [{"row": e.row, "column": e.column, "value": e.value, "reason": e.reason}
                    for e in errors[:ERRORS_KEPT]]
    entry.message = f"文件中有 {entry.error_count} 处错误，未导入任何数据；请按错误报告修改后重新导入"
    key = f"{ERROR_FOLDER}/{entry.sha256[:16]}.xlsx"
    store.put(key, error_workbook(data, filename, errors, unlisted=unlisted, limits=limits))
    entry.error_report_path = key
    db.session.flush()


def _chunks(values, size=_LOOKUP_CHUNK):
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _records_of(id_numbers: set[str], service_type: str | None = None) -> list:
    """The completion records of the subjects with these ID numbers, with their subjects."""
    rows = []
    for chunk in _chunks(sorted(id_numbers)):
        stmt = (select(CompletionRecord, Subject.id_number, Subject.township, Subject.id.label("subject_id"))
                .join(Assignment, CompletionRecord.assignment_id == Assignment.id)
                .join(Subject, Assignment.subject_id == Subject.id)
                .where(Subject.id_number.in_(chunk)))
        if service_type is not None:
            stmt = stmt.where(CompletionRecord.service_type == service_type)
        rows.extend(db.session.execute(stmt).all())
    return rows


def _plain(row: dict) -> dict:
    """A typed row with missing values as None (the figures are Python ints already)."""
    return {key: None if value is None or value is pd.NA or value != value else value for key, value in row.items()}


def _economic(rows: pd.DataFrame) -> tuple[list[Finding], int]:
    economic = [EconomicRow(**_plain(row)) for row in rows.to_dict("records")]
    wanted = {row.household for row in economic} | {row.id_number for row in economic}
    surveys = [Survey(record.id, subject_id, id_number, township, record.service_date, record.annual_income_fen,
                      record.financial_assets_fen, record.property_count, record.vehicle_count,
                      record.business_income_fen)
               for record, id_number, township, subject_id in _records_of(wanted, ServiceType.HOUSEHOLD_SURVEY)]
    config = current_app.config
    return (economic_findings(economic, surveys, tolerance(), int(config["EVIDENCE_MATCH_DAYS"])),
            matched_rows(economic, surveys))


def _deaths(rows: pd.DataFrame) -> tuple[list[Finding], int]:
    deaths = [DeathRow(**_plain(row)) for row in rows.to_dict("records")]
    services = [Service(record.id, subject_id, id_number, record.service_type, record.service_date)
                for record, id_number, _township, subject_id in _records_of({row.id_number for row in deaths})]
    known = set(db.session.execute(select(Subject.id_number).where(
        Subject.id_number.in_([row.id_number for row in deaths]))).scalars()) if deaths else set()
    return death_findings(deaths, services), sum(row.id_number in known for row in deaths)


def _store_flags(entry: VerificationImport, findings: list[Finding]) -> tuple[list[EvidenceFlag], int]:
    """A flag per finding not flagged before (one per record and kind); (new flags, already known)."""
    if not findings:
        return [], 0
    records = {record.id: record for chunk in _chunks(sorted({f.record_id for f in findings}))
               for record in db.session.execute(select(CompletionRecord).where(CompletionRecord.id.in_(chunk))).scalars()}
    existing = set()
    for chunk in _chunks(sorted(records)):
        existing.update((record_id, kind) for record_id, kind in db.session.execute(
            select(EvidenceFlag.record_id, EvidenceFlag.kind).where(EvidenceFlag.record_id.in_(chunk))))
    flags = []
    for finding in findings:
        if (finding.record_id, finding.kind) in existing:
            continue
        existing.add((finding.record_id, finding.kind))
        record = records[finding.record_id]
        flags.append(EvidenceFlag(
            import_id=entry.id, kind=finding.kind, record_id=record.id, subject_id=finding.subject_id,
            contract_id=record.contract_id, service_type=record.service_type, reason=finding.reason[:500],
            details=finding.details, status="open"))
    db.session.add_all(flags)
    db.session.flush()
    return flags, len(findings) - len(flags)


def describe(entry: VerificationImport) -> str:
    """An accepted import in a sentence: "导入死亡登记 12 行，匹配 3 人，新增疑点 2 条"."""
    text = (f"导入{label_of(VerificationKind, entry.kind)} {entry.rows_total} 行，匹配 {entry.rows_matched} 行，"
            f"新增疑点 {entry.flags_raised} 条")
    return text + (f"（另有 {entry.flags_known} 条此前已标记）" if entry.flags_known else "")


# --- flags ---------------------------------------------------------------------------------


class FlagError(ValueError):
    """A refused change of a flag; the message is Chinese, for the user."""


def flags_query(status: str | None = None, kind: str | None = None, import_id: int | None = None,
                contract_ids=None):
    """Evidence flags (on `contract_ids`, a select of them; None: all), newest first."""
    stmt = select(EvidenceFlag)
    if contract_ids is not None:
        stmt = stmt.where(EvidenceFlag.contract_id.in_(contract_ids))
    if status in EvidenceFlagStatus.codes():
        stmt = stmt.where(EvidenceFlag.status == status)
    if kind in EvidenceFlagKind.codes():
        stmt = stmt.where(EvidenceFlag.kind == kind)
    if import_id is not None:
        stmt = stmt.where(EvidenceFlag.import_id == import_id)
    return stmt.order_by(EvidenceFlag.id.desc())


def flags_of_subject(subject_id: int) -> list[EvidenceFlag]:
    return list(db.session.execute(select(EvidenceFlag).where(EvidenceFlag.subject_id == subject_id)
                                   .order_by(EvidenceFlag.id)).scalars())


def flags_by_record(record_ids) -> dict[int, list[EvidenceFlag]]:
    """The flags of these records, by record id."""
    found: dict[int, list[EvidenceFlag]] = {}
    for chunk in _chunks(sorted(set(record_ids))):
        for flag in db.session.execute(select(EvidenceFlag).where(EvidenceFlag.record_id.in_(chunk))
                                       .order_by(EvidenceFlag.id)).scalars():
            found.setdefault(flag.record_id, []).append(flag)
    return found


def close_flag(flag: EvidenceFlag, user: User, note: str) -> None:
    """Close a flag (checked, or explained) with the reason; a closed flag targets no draw."""
    if flag.status == "closed":
        raise FlagError("该疑点已关闭")
    if not note or not note.strip():
        raise FlagError("请填写关闭原因")
    flag.status, flag.closed_by_id, flag.closed_at, flag.closing_note = "closed", user.id, utcnow(), note.strip()
    db.session.flush()
