"""The annual audit bundle (.zip) and its verification.

A bundle holds every record of the year as .xlsx and .csv (UTF-8 with BOM), the charts, the
reports (a sheet per quarterly review, .docx and .pdf per annual evaluation), the audit log
(.jsonl with every hash, and .csv), a Chinese note, and `manifest.json` with the SHA-256 of
every other file and a digest over that list. Tables are streamed: rows are read in chunks and
written straight into the zip (CSV) or into a constant-memory workbook on disk (XLSX).

ID numbers, phones and acceptance teams' 服务对象代表 names are masked unless the bundle is `full`
(only an admin may ask for that). Attachments and the app's photos and signatures are listed in the
manifest by SHA-256; their bytes stay in the file store (README: "The audit bundle's records").
The audit log is every chain (the city chain and each county's) from its first event to the last
one when the export began, so that it can be verified from the start without the database.
`audit_log/anchor.json` is every chain's head and their root hash signed with the audit key,
together with the digest of every other file, so that a bundle whose events, files or anchor were
changed, or whose log (or one county's chain) was cut short, does not verify; `verify-bundle`
also recomputes the root and holds each chain against the system's own anchors made before it.

A county's bundle (`county_ids`: the counties of a county's or a city's user who does not cover
every county) holds only those counties' rows — each table restricted through its own county,
its contract's or procurement project's, or its parent's (`RecordTable.county`) — and only their
audit chains, each complete from its genesis. The city chain stays out: a part of it (the events
the audit log page would show such a reader) could not be verified as a chain. Its anchor still
lists every chain's head as published (ids, MACs and counts, no event's content), so that the
root recomputes and the auditor sees their counties' heads in it; `scope.json`, covered by the
anchor's signed digest, names the counties, and `verify-bundle` holds only those chains to the
anchors.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from ..clock import COUNTY_TIME_LABEL, county_time_heading, county_wall_time, day_starts_at, utcnow
from ..domain.attachments import kind_name
from ..domain.audit_anchors import (
    Anchor,
    InvalidAnchor,
    anchor_breaks,
    anchor_from_json,
    epoch_in_force,
    root_hash,
    sign_anchor,
    signature_problem,
    sorted_heads,
)
from ..domain.audit_chain import GENESIS_HASH, ChainBreak, ChainEvent, ChainHead, ChainSet, to_json_value
from ..domain.identifiers import mask_id_number, mask_name, mask_phone
from ..domain.money import fen_to_yuan
from ..domain.vocabulary import (
    AcceptanceConclusion,
    AcceptanceRole,
    AcceptanceStatus,
    AnchorReason,
    AnomalyFlag,
    AreaLevel,
    AssignmentStatus,
    AttachmentOwner,
    AuditAction,
    CorrectionStatus,
    AuditObject,
    BatchStatus,
    CallAnswerer,
    CallbackStatus,
    ComplaintSource,
    ComplaintStatus,
    DrawPurpose,
    EvaluationStatus,
    InstallmentCondition,
    InstallmentKind,
    Labelled,
    MediaKind,
    NoticeOutcome,
    NoticeStatus,
    PaymentKind,
    Position,
    ReviewStatus,
    ServiceType,
    Stratum,
    TenderStatus,
    describe_sampling_rule,
    label_of,
)
from ..extensions import db
from ..models import (
    AcceptanceMember,
    AnnualEvaluation,
    Appeal,
    AppVisit,
    Area,
    Assignment,
    Attachment,
    AuditEvent,
    Callback,
    CallbackAttempt,
    Complaint,
    CompletionRecord,
    CompletionRecordVersion,
    Contract,
    ContractAcceptance,
    Contractor,
    CorrectionRequest,
    DrawItem,
    FieldWorker,
    Installment,
    MediaFile,
    PaymentRecord,
    ProcurementLine,
    ProcurementProject,
    QuarterlyReview,
    RectificationNotice,
    ReviewManualItem,
    SamplingDraw,
    ServiceLine,
    SpotCheck,
    Subject,
    TenderBid,
    TenderEvaluator,
    TenderScore,
    TenderScoringItem,
    UploadBatch,
    User,
    VisitMedia,
)
from ..policy import may_export_full_personal_data
from ..services.audit import record_event
from ..services.audit_anchors import ChainNames, read_anchors, record_bundle_anchor
from ..services.kpi_evidence import evidence_rows
from ..services.audit_keys import AuditKeyError, keyring
from . import reports
from .sheets import CsvTable, XlsxTable, review_sheet

BUNDLE_FORMAT = "oversight-audit-bundle/2"
# Where the web export keeps each bundle in the reports store: `bundles/<zip SHA-256>.zip`, the
# digest its audit event records.
BUNDLE_FOLDER = "bundles"
# Bundles made before the chain was keyed: no anchor, and no keyed event may be in them.
LEGACY_BUNDLE_FORMAT = "oversight-audit-bundle/1"
MANIFEST = "manifest.json"
NOTE = "说明.txt"
SCOPE = "scope.json"  # a county's bundle: its counties (covered by the anchor's signed digest)
# Marks the columns that hold the machine-readable detail (re-computing a draw, a score) as JSON.
JSON_COLUMN = "(JSON)"
AUDIT_JSONL = "audit_log/audit_events.jsonl"
AUDIT_ANCHOR = "audit_log/anchor.json"
ATTACHMENTS_CSV = "records/attachments.csv"
MEDIA_CSV = "records/visit_media.csv"
CHUNK_ROWS = 2000
_EVENT_FIELDS = ("occurred_at", "user_id", "actor", "action", "object_type", "object_id", "changes", "ip_address")


# What reading a damaged zip can raise: bad headers, CRC or deflate errors, broken JSON or UTF-8, a
# compression method or encryption flag turned into one zipfile cannot read.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError)


class BundleRefused(PermissionError):
    """The export is not allowed (a full bundle for anyone but an admin); the message is Chinese."""


# --- the tables of the year ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One exported column: its Chinese header, the label of the selected value, how it is shown."""

    header: str
    key: str
    show: Callable[[Any], Any] | None = None
    personal: Callable[[str | None], str] | None = None  # the mask, unless the bundle is full
    masked_if: Callable[[Mapping], bool] | None = None  # when only some rows' values are personal


@dataclass(frozen=True)
class RecordTable:
    name: str
    title: str
    columns: tuple[Column, ...]
    query: Callable[[int], Select]
    # The condition keeping the query's rows to some counties (a county's bundle).
    county: Callable[[list[int]], Any]


def _json(value):
    if callable(getattr(value, "to_json", None)):  # typed figures
        value = value.to_json()
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _label(vocabulary: type[Labelled]) -> Callable[[str], str]:
    return lambda code: label_of(vocabulary, code)


def _flags(flags: list[dict]) -> str:
    """A record's anomaly flags as "label：reason" lines."""
    return "；".join(f"{label_of(AnomalyFlag, flag['code'])}：{flag['reason']}" for flag in flags)


def _hundredths(value: int) -> Decimal:
    """A value stored ×100 (scores in centi-points, shares in basis points of a percent) as a Decimal."""
    return Decimal(value).scaleb(-2)


def _in_year(column, year: int):
    """A stored (UTC) timestamp within the county's calendar year."""
    return (column >= day_starts_at(date(year, 1, 1))) & (column < day_starts_at(date(year + 1, 1, 1)))


def _days_in(column, year: int):
    return column.between(date(year, 1, 1), date(year, 12, 31))


def _quarters_of(column, year: int):
    return column.like(f"{year:04d}Q_")


C = Column


def _of(county_column) -> Callable[[list[int]], Any]:
    """Rows whose county — `county_column`, the row's own or that of a row its query joins (its
    contract, procurement project, draw, review, record) — is one of the counties."""
    return lambda counties: county_column.in_(counties)


def T(header: str, key: str) -> Column:
    """A column of stored (UTC) timestamps, written in county time under a "…（北京时间）" heading."""
    return Column(county_time_heading(header), key, county_wall_time)


_service_type = _label(ServiceType)
_checker, _issuer, _closer, _operator, _author, _approver = (aliased(User) for _ in range(6))


def _contracts(year: int) -> Select:
    return (select(Contract.id, Contract.code, Contract.title, Contractor.name.label("contractor"),
                   Contractor.credit_code, Contractor.contact_person, Contractor.contact_phone,
                   Contract.procurement_method, Contract.amount_fen, Contract.term_start, Contract.term_end,
                   Contract.performance_share_bp, Contract.kpi_scheme_code, Contract.sampling_rule)
            .join(Contractor, Contractor.id == Contract.contractor_id)
            .where(Contract.term_start <= date(year, 12, 31), Contract.term_end >= date(year, 1, 1))
            .order_by(Contract.id))


def _service_lines(year: int) -> Select:
    return (select(ServiceLine.id, Contract.code, ServiceLine.service_type, ServiceLine.annual_target,
                   ServiceLine.visits_per_month)
            .join(Contract, Contract.id == ServiceLine.contract_id)
            .where(Contract.term_start <= date(year, 12, 31), Contract.term_end >= date(year, 1, 1))
            .order_by(ServiceLine.id))


def _assignments(year: int) -> Select:
    return (select(Assignment.id, Assignment.number, Contract.code, Subject.name.label("subject"),
                   Subject.id_number, Subject.township, Subject.village, Subject.category,
                   Assignment.service_type, Assignment.due_date, Assignment.status, Assignment.required_visits,
                   Assignment.completed_at, Assignment.note)
            .join(Contract, Contract.id == Assignment.contract_id)
            .join(Subject, Subject.id == Assignment.subject_id)
            .where(_days_in(Assignment.due_date, year))
            .order_by(Assignment.id))


def _completion_records(year: int) -> Select:
    r = CompletionRecord
    return (select(r.id, Contract.code, Assignment.number, Subject.name.label("subject"), Subject.id_number,
                   r.service_type, r.service_date, r.start_time, r.end_time, r.duration_minutes,
                   FieldWorker.worker_no, FieldWorker.name.label("worker"), r.longitude, r.latitude, r.remark,
                   r.household_size, r.annual_income_fen, r.wage_income_fen, r.business_income_fen,
                   r.property_income_fen, r.transfer_income_fen, r.other_income_fen, r.financial_assets_fen,
                   r.property_count, r.vehicle_count, r.survey_conclusion, r.per_capita_monthly_income_fen,
                   r.eating, r.dressing, r.transfer, r.toileting, r.walking, r.bathing, r.conclusion, r.fails,
                   r.care_items, r.signed, r.batch_id, r.flagged, r.anomaly_flags, r.created_at)
            .join(Contract, Contract.id == r.contract_id)
            .join(Assignment, Assignment.id == r.assignment_id)
            .join(Subject, Subject.id == Assignment.subject_id)
            .join(FieldWorker, FieldWorker.id == r.worker_id)
            .where(_days_in(r.service_date, year))
            .order_by(r.id))


def _upload_batches(year: int) -> Select:
    b = UploadBatch
    return (select(b.id, Contract.code, b.service_type, b.filename, b.sha256, b.size_bytes,
                   User.username.label("uploader"), b.uploaded_at, b.status, b.rows_total, b.rows_accepted,
                   b.error_count, b.message, b.finished_at)
            .join(Contract, Contract.id == b.contract_id)
            .outerjoin(User, User.id == b.uploaded_by_id)
            .where(_in_year(b.uploaded_at, year))
            .order_by(b.id))


def _sampling_draws(year: int) -> Select:
    d = SamplingDraw
    return (select(d.id, d.purpose, d.quarter, Contract.code, d.service_type, d.rule, d.plan, d.seed,
                   d.risk_weighted, d.population, d.population_sha256, d.strata, d.created_at)
            .join(Contract, Contract.id == d.contract_id)
            .where(_quarters_of(d.quarter, year))
            .order_by(d.id))


def _spot_checks(year: int) -> Select:
    s = SpotCheck
    return (select(s.id, Contract.code, s.record_id, DrawItem.draw_id, DrawItem.stratum,
                   _checker.username.label("checker"), s.method, s.checked_on, s.fields_compared,
                   s.fields_differing, s.passed, s.values, s.comparison, s.note, s.created_at)
            .join(Contract, Contract.id == s.contract_id)
            .join(DrawItem, DrawItem.id == s.draw_item_id)
            .join(_checker, _checker.id == s.checker_id)
            .where(_days_in(s.checked_on, year))
            .order_by(s.id))


def _rectification_notices(year: int) -> Select:
    n = RectificationNotice
    return (select(n.id, Contract.code, n.spot_check_id, n.issued_at, _issuer.username.label("issuer"),
                   n.deadline, n.requirement, n.status, n.response, n.responded_at, n.closed_at,
                   _closer.username.label("closer"), n.outcome, n.closing_note)
            .join(Contract, Contract.id == n.contract_id)
            .join(_issuer, _issuer.id == n.issued_by_id)
            .outerjoin(_closer, _closer.id == n.closed_by_id)
            .where(_in_year(n.issued_at, year))
            .order_by(n.id))


def _callbacks(year: int) -> Select:
    c = Callback
    attempts = (select(func.count(CallbackAttempt.id)).where(CallbackAttempt.callback_id == c.id)
                .correlate(c).scalar_subquery())
    return (select(c.id, Contract.code, SamplingDraw.quarter, c.record_id, Subject.name.label("subject"),
                   Subject.phone, c.status, attempts.label("attempts"), c.answered_by, c.service_confirmed, c.satisfaction,
                   c.attitude, c.complaint, _operator.username.label("operator"), c.completed_at)
            .join(Contract, Contract.id == c.contract_id)
            .join(DrawItem, DrawItem.id == c.draw_item_id)
            .join(SamplingDraw, SamplingDraw.id == DrawItem.draw_id)
            .join(Subject, Subject.id == c.subject_id)
            .outerjoin(_operator, _operator.id == c.operator_id)
            .where(_quarters_of(SamplingDraw.quarter, year))
            .order_by(c.id))


def _callback_attempts(year: int) -> Select:
    a = CallbackAttempt
    return (select(a.id, a.callback_id, a.attempted_at, a.outcome, User.username.label("operator"))
            .join(Callback, Callback.id == a.callback_id)
            .join(DrawItem, DrawItem.id == Callback.draw_item_id)
            .join(SamplingDraw, SamplingDraw.id == DrawItem.draw_id)
            .join(User, User.id == a.operator_id)
            .where(_quarters_of(SamplingDraw.quarter, year))
            .order_by(a.id))


def _complaints(year: int) -> Select:
    c = Complaint
    return (select(c.id, c.source, Contract.code, c.callback_id, c.record_id, FieldWorker.worker_no, c.text,
                   c.status, c.targeted_draw_id, c.created_at)
            .join(Contract, Contract.id == c.contract_id)
            .outerjoin(FieldWorker, FieldWorker.id == c.worker_id)
            .where(_in_year(c.created_at, year))
            .order_by(c.id))


def _quarterly_reviews(year: int) -> Select:
    q = QuarterlyReview
    return (select(q.id, Contract.code, q.quarter, q.revision, q.status, q.total_centi, q.rating,
                   q.completed_volume, q.computed_at, q.published_at, q.comment_deadline, q.contractor_position,
                   q.contractor_comment, q.settlement, _approver.username.label("approver"), q.approved_at,
                   q.locked, q.supersedes_id, q.revision_reason, q.figures)
            .join(Contract, Contract.id == q.contract_id)
            .outerjoin(_approver, _approver.id == q.approved_by_id)
            .where(_quarters_of(q.quarter, year))
            .order_by(q.id))


def _review_manual_items(year: int) -> Select:
    m = ReviewManualItem
    return (select(m.id, m.review_id, QuarterlyReview.quarter, m.points_centi, m.reason,
                   _author.username.label("author"), m.created_at)
            .join(QuarterlyReview, QuarterlyReview.id == m.review_id)
            .join(_author, _author.id == m.created_by_id)
            .where(_quarters_of(QuarterlyReview.quarter, year))
            .order_by(m.id))


def _annual_evaluations(year: int) -> Select:
    e = AnnualEvaluation
    return (select(e.id, Contract.code, e.year, e.revision, e.status, e.score_centi, e.rating, e.linked_fen,
                   e.payable_fen, e.withheld_fen, e.computed_at, _approver.username.label("approver"),
                   e.approved_at, e.locked, e.figures)
            .join(Contract, Contract.id == e.contract_id)
            .outerjoin(_approver, _approver.id == e.approved_by_id)
            .where(e.year == year)
            .order_by(e.id))


def _attachments(year: int) -> Select:
    a = Attachment
    return (select(a.id, a.owner_type, a.owner_id, a.filename, a.content_type, a.size_bytes, a.sha256,
                   User.username.label("uploader"), a.uploaded_at)
            .outerjoin(User, User.id == a.uploaded_by_id)
            .where(_in_year(a.uploaded_at, year))
            .order_by(a.id))


# The row each kind of attachment belongs to: its county is the row's own or its contract's.
ATTACHMENT_OWNERS = {
    AttachmentOwner.SPOT_CHECK: SpotCheck, AttachmentOwner.RECTIFICATION_NOTICE: RectificationNotice,
    AttachmentOwner.QUARTERLY_REVIEW: QuarterlyReview, AttachmentOwner.CORRECTION_REQUEST: CorrectionRequest,
    AttachmentOwner.APPEAL: Appeal, AttachmentOwner.PROCUREMENT_PROJECT: ProcurementProject,
}


def _owners_in(model, counties: list[int]) -> Select:
    if "county_id" in model.__table__.c:
        return select(model.id).where(model.county_id.in_(counties))
    return (select(model.id).join(Contract, Contract.id == model.contract_id)
            .where(Contract.county_id.in_(counties)))


def _attachments_in(counties: list[int]):
    """Attachments whose owner is in the counties (a kind not listed above is in no county's bundle)."""
    return or_(*((Attachment.owner_type == str(code)) & Attachment.owner_id.in_(_owners_in(model, counties))
                 for code, model in ATTACHMENT_OWNERS.items()))


def _correction_requests(year: int) -> Select:
    c = CorrectionRequest
    return (select(c.id, Contract.code, c.record_id, c.status, c.changes, c.reason,
                   _author.username.label("requester"), c.requested_at, _approver.username.label("decider"),
                   c.decided_at, c.decision_note)
            .join(Contract, Contract.id == c.contract_id)
            .join(CompletionRecord, CompletionRecord.id == c.record_id)
            .join(_author, _author.id == c.requested_by_id)
            .outerjoin(_approver, _approver.id == c.decided_by_id)
            .where(_days_in(CompletionRecord.service_date, year))  # with the records they correct
            .order_by(c.id))


def _record_versions(year: int) -> Select:
    v = CompletionRecordVersion
    return (select(v.id, v.record_id, v.version, v.correction_id, v.recorded_at, v.values)
            .join(CompletionRecord, CompletionRecord.id == v.record_id)
            .where(_days_in(CompletionRecord.service_date, year))
            .order_by(v.record_id, v.version))


def _changes(changes: list[dict]) -> str:
    """A correction's cells as "header：before → after" lines."""
    return "；".join(f"{change['header']}：{change['before'] or '（空）'} → {change['after'] or '（空）'}"
                    for change in changes)


def _payment_records(year: int) -> Select:
    p = PaymentRecord
    return (select(p.id, Contract.code, p.paid_on, p.amount_fen, p.kind, p.year, p.note, p.created_at)
            .join(Contract, Contract.id == p.contract_id)
            .where(_days_in(p.paid_on, year))
            .order_by(p.id))


# --- procurement, the payment schedule, 履约验收 and the field app ---------------------------------

_evaluator, _holder, _payer, _concluder, _entrant, _sender = (aliased(User) for _ in range(6))
_bidder = aliased(Contractor)


def _projects_of(year: int):
    """A procurement project belongs to the years of the term its contract has (or would have had)."""
    return (ProcurementProject.term_start <= date(year, 12, 31)) & (ProcurementProject.term_end >= date(year, 1, 1))


def _procurement_projects(year: int) -> Select:
    p = ProcurementProject
    return (select(p.id, p.code, p.title, p.budget_line, p.budget_fen, p.procurement_method, p.price_points_centi,
                   p.status, p.announced_on, p.bid_opening_on, p.awarded_on, p.term_start, p.term_end,
                   p.performance_share_bp, p.tie_decision, p.tie_note, p.cancel_reason, p.evaluation, p.evaluated_at,
                   _evaluator.username.label("evaluator"), p.contract_id, Contract.code.label("contract_code"),
                   p.created_at)
            .outerjoin(Contract, Contract.id == p.contract_id)
            .outerjoin(_evaluator, _evaluator.id == p.evaluated_by_id)
            .where(_projects_of(year))
            .order_by(p.id))


def _procurement_lines(year: int) -> Select:
    line = ProcurementLine
    return (select(line.id, ProcurementProject.code, line.service_type, line.annual_target, line.visits_per_month)
            .join(ProcurementProject, ProcurementProject.id == line.project_id)
            .where(_projects_of(year))
            .order_by(line.id))


def _tender_bids(year: int) -> Select:
    b = TenderBid
    return (select(b.id, ProcurementProject.code, b.contractor_id, Contractor.name.label("bidder"),
                   Contractor.credit_code, Contractor.contact_person, Contractor.contact_phone, b.price_fen,
                   b.valid, b.invalid_reason, b.awarded, b.created_at)
            .join(ProcurementProject, ProcurementProject.id == b.project_id)
            .join(Contractor, Contractor.id == b.contractor_id)
            .where(_projects_of(year))
            .order_by(b.id))


def _tender_scoring_items(year: int) -> Select:
    i = TenderScoringItem
    return (select(i.id, ProcurementProject.code, i.sequence, i.name, i.max_points_centi, i.technical,
                   i.past_performance)
            .join(ProcurementProject, ProcurementProject.id == i.project_id)
            .where(_projects_of(year))
            .order_by(i.project_id, i.sequence))


def _tender_evaluators(year: int) -> Select:
    e = TenderEvaluator
    return (select(e.id, ProcurementProject.code, e.sequence, e.name)
            .join(ProcurementProject, ProcurementProject.id == e.project_id)
            .where(_projects_of(year))
            .order_by(e.project_id, e.sequence))


def _tender_scores(year: int) -> Select:
    s = TenderScore
    return (select(s.id, ProcurementProject.code, s.evaluator_id, TenderEvaluator.name.label("evaluator"), s.bid_id,
                   _bidder.name.label("bidder"), s.item_id, TenderScoringItem.name.label("item"), s.points_centi,
                   _entrant.username.label("entered_by"))
            .join(ProcurementProject, ProcurementProject.id == s.project_id)
            .join(TenderEvaluator, TenderEvaluator.id == s.evaluator_id)
            .join(TenderBid, TenderBid.id == s.bid_id)
            .join(_bidder, _bidder.id == TenderBid.contractor_id)
            .join(TenderScoringItem, TenderScoringItem.id == s.item_id)
            .outerjoin(_entrant, _entrant.id == s.entered_by_id)
            .where(_projects_of(year))
            .order_by(s.id))


def _installments(year: int) -> Select:
    i = Installment
    return (select(i.id, Contract.code, i.sequence, i.kind, i.title, i.amount_fen, i.share_bp, i.condition, i.year,
                   i.due_on, i.held_reason, i.held_at, _holder.username.label("holder"), i.paid_on, i.paid_fen,
                   i.payment_id, _payer.username.label("payer"), i.created_at)
            .join(Contract, Contract.id == i.contract_id)
            .outerjoin(_holder, _holder.id == i.held_by_id)
            .outerjoin(_payer, _payer.id == i.paid_by_id)
            # Of the year it is for; one without a year by its agreed or its payment day.
            .where(or_(i.year == year, and_(i.year.is_(None), or_(_days_in(i.due_on, year), _days_in(i.paid_on, year)))))
            .order_by(i.contract_id, i.sequence))


def _contract_acceptances(year: int) -> Select:
    a = ContractAcceptance
    return (select(a.id, Contract.code, a.year, a.status, a.conclusion, a.opinion, a.accepted_on, a.figures,
                   a.concluded_at, _concluder.username.label("concluder"), a.created_at)
            .join(Contract, Contract.id == a.contract_id)
            .outerjoin(_concluder, _concluder.id == a.concluded_by_id)
            .where(a.year == year)
            .order_by(a.id))


def _acceptance_members(year: int) -> Select:
    m = AcceptanceMember
    return (select(m.id, m.acceptance_id, Contract.code, m.name, m.role, m.organisation)
            .join(ContractAcceptance, ContractAcceptance.id == m.acceptance_id)
            .join(Contract, Contract.id == ContractAcceptance.contract_id)
            .where(ContractAcceptance.year == year)
            .order_by(m.id))


def _a_recipient(row: Mapping) -> bool:
    """服务对象代表 are private persons like the subjects; the officials and experts act in office."""
    return row["role"] == AcceptanceRole.RECIPIENT


def _app_visits(year: int) -> Select:
    v = AppVisit
    return (select(v.id, Contract.code, Assignment.number, v.record_id, _sender.username.label("sender"),
                   v.check_in_at, v.check_out_at, v.device_sent_at, v.received_at, v.longitude, v.latitude,
                   v.accuracy_m, v.no_signature_reason, v.request_sha256)
            .join(CompletionRecord, CompletionRecord.id == v.record_id)
            .join(Assignment, Assignment.id == v.assignment_id)
            .join(Contract, Contract.id == Assignment.contract_id)
            .join(_sender, _sender.id == v.user_id)
            .where(_days_in(CompletionRecord.service_date, year))  # with the records they made
            .order_by(v.id))


def _visit_media(year: int) -> Select:
    vm = VisitMedia
    return (select(vm.id, vm.visit_id, AppVisit.record_id, vm.kind, vm.sha256, MediaFile.size_bytes,
                   MediaFile.content_type, MediaFile.perceptual_hash, _sender.username.label("uploader"),
                   MediaFile.uploaded_at)
            .join(AppVisit, AppVisit.id == vm.visit_id)
            .join(CompletionRecord, CompletionRecord.id == AppVisit.record_id)
            .join(MediaFile, MediaFile.id == vm.media_id)
            .join(_sender, _sender.id == MediaFile.uploaded_by_id)
            .where(_days_in(CompletionRecord.service_date, year))
            .order_by(vm.id))


_ASSESSMENT = ("eating", "dressing", "transfer", "toileting", "walking", "bathing")
_ASSESSMENT_HEADERS = ("自主吃饭", "自主穿衣", "自主上下床", "自主如厕", "室内行走", "自主洗澡")

TABLES: tuple[RecordTable, ...] = (
    RecordTable("contracts", "服务合同", (
        C("合同ID", "id"), C("合同编号", "code"), C("合同名称", "title"), C("承接机构", "contractor"),
        C("统一社会信用代码", "credit_code"), C("联系人", "contact_person"),
        C("联系电话", "contact_phone", personal=mask_phone), C("采购方式", "procurement_method"),
        C("合同金额(元)", "amount_fen", fen_to_yuan), C("服务开始", "term_start"), C("服务结束", "term_end"),
        C("绩效挂钩比例(%)", "performance_share_bp", _hundredths), C("考核方案", "kpi_scheme_code"),
        C("抽样规则", "sampling_rule", describe_sampling_rule),
    ), _contracts, _of(Contract.county_id)),
    RecordTable("service_lines", "服务内容", (
        C("ID", "id"), C("合同编号", "code"), C("服务类型", "service_type", _service_type),
        C("年度目标", "annual_target"), C("每月上门次数", "visits_per_month"),
    ), _service_lines, _of(Contract.county_id)),
    RecordTable("assignments", "任务", (
        C("任务ID", "id"), C("任务编号", "number"), C("合同编号", "code"), C("服务对象", "subject"),
        C("身份证号", "id_number", personal=mask_id_number), C("乡镇(街道)", "township"), C("村(社区)", "village"),
        C("类别", "category"), C("服务类型", "service_type", _service_type), C("截止日期", "due_date"),
        C("状态", "status", _label(AssignmentStatus)), C("应上门次数", "required_visits"),
        T("完成时间", "completed_at"), C("备注", "note"),
    ), _assignments, _of(Assignment.county_id)),
    RecordTable("completion_records", "服务记录", (
        C("记录ID", "id"), C("合同编号", "code"), C("任务编号", "number"), C("服务对象", "subject"),
        C("身份证号", "id_number", personal=mask_id_number), C("服务类型", "service_type", _service_type),
        C("服务日期", "service_date"), C("开始时间", "start_time"), C("结束时间", "end_time"),
        C("时长(分钟)", "duration_minutes"), C("服务人员工号", "worker_no"), C("服务人员姓名", "worker"),
        C("经度", "longitude"), C("纬度", "latitude"), C("备注", "remark"), C("家庭人口数", "household_size"),
        C("家庭年收入(元)", "annual_income_fen", fen_to_yuan), C("工资性收入(元)", "wage_income_fen", fen_to_yuan),
        C("经营净收入(元)", "business_income_fen", fen_to_yuan), C("财产净收入(元)", "property_income_fen", fen_to_yuan),
        C("转移净收入(元)", "transfer_income_fen", fen_to_yuan), C("其他收入(元)", "other_income_fen", fen_to_yuan),
        C("家庭金融资产(元)", "financial_assets_fen", fen_to_yuan), C("房产数量", "property_count"),
        C("机动车数量", "vehicle_count"), C("调查结论", "survey_conclusion"),
        C("人均月收入(元)", "per_capita_monthly_income_fen", fen_to_yuan),
        *(C(header, key) for header, key in zip(_ASSESSMENT_HEADERS, _ASSESSMENT)),
        C("评估结论", "conclusion"), C("不能项数", "fails"), C("服务项目", "care_items"), C("对象签字确认", "signed"),
        C("上传批次", "batch_id"), C("有异常标记", "flagged"), C("异常标记", "anomaly_flags", _flags),
        T("录入时间", "created_at"),
    ), _completion_records, _of(CompletionRecord.county_id)),
    RecordTable("upload_batches", "上传批次", (
        C("批次ID", "id"), C("合同编号", "code"), C("服务类型", "service_type", _service_type), C("文件名", "filename"),
        C("SHA-256", "sha256"), C("字节数", "size_bytes"), C("上传人", "uploader"), T("上传时间", "uploaded_at"),
        C("状态", "status", _label(BatchStatus)), C("总行数", "rows_total"), C("接收行数", "rows_accepted"), C("错误数", "error_count"),
        C("说明", "message"), T("处理完成", "finished_at"),
    ), _upload_batches, _of(Contract.county_id)),
    RecordTable("sampling_draws", "抽样", (
        C("抽样ID", "id"), C("用途", "purpose", _label(DrawPurpose)), C("季度", "quarter"), C("合同编号", "code"),
        C("服务类型", "service_type", _service_type), C(f"规则{JSON_COLUMN}", "rule", _json), C(f"抽样方案{JSON_COLUMN}", "plan", _json),
        C("随机种子", "seed"), C("风险加权", "risk_weighted"), C("总体数量", "population", len),
        C("总体SHA-256", "population_sha256"), C(f"分层{JSON_COLUMN}", "strata", _json), T("抽样时间", "created_at"),
    ), _sampling_draws, _of(SamplingDraw.county_id)),
    RecordTable("spot_checks", "抽查复检", (
        C("抽查ID", "id"), C("合同编号", "code"), C("服务记录ID", "record_id"), C("抽样ID", "draw_id"),
        C("分层", "stratum", _label(Stratum)), C("复检人", "checker"), C("方式", "method"), C("复检日期", "checked_on"),
        C("比对字段数", "fields_compared"), C("不一致字段数", "fields_differing"), C("合格", "passed"),
        C(f"复检值{JSON_COLUMN}", "values", _json), C(f"比对结果{JSON_COLUMN}", "comparison", _json), C("备注", "note"),
        T("录入时间", "created_at"),
    ), _spot_checks, _of(Contract.county_id)),
    RecordTable("rectification_notices", "整改通知", (
        C("通知ID", "id"), C("合同编号", "code"), C("抽查ID", "spot_check_id"), T("下发时间", "issued_at"),
        C("下发人", "issuer"), C("整改期限", "deadline"), C("整改要求", "requirement"), C("状态", "status", _label(NoticeStatus)),
        C("承接机构答复", "response"), T("答复时间", "responded_at"), T("关闭时间", "closed_at"),
        C("关闭人", "closer"), C("结论", "outcome", _label(NoticeOutcome)), C("关闭说明", "closing_note"),
    ), _rectification_notices, _of(Contract.county_id)),
    RecordTable("callbacks", "电话回访", (
        C("回访ID", "id"), C("合同编号", "code"), C("季度", "quarter"), C("服务记录ID", "record_id"),
        C("服务对象", "subject"), C("联系电话", "phone", personal=mask_phone), C("状态", "status", _label(CallbackStatus)),
        C("拨打次数", "attempts"), C("接听人", "answered_by", _label(CallAnswerer)),
        C("确认服务属实", "service_confirmed"), C("满意度(1-5)", "satisfaction"),
        C("服务态度", "attitude"), C("投诉内容", "complaint"), C("回访人", "operator"),
        T("完成时间", "completed_at"),
    ), _callbacks, _of(Contract.county_id)),
    RecordTable("callback_attempts", "回访拨打记录", (
        C("ID", "id"), C("回访ID", "callback_id"), T("拨打时间", "attempted_at"), C("结果", "outcome"),
        C("回访人", "operator"),
    ), _callback_attempts, _of(SamplingDraw.county_id)),
    RecordTable("complaints", "投诉", (
        C("投诉ID", "id"), C("来源", "source", _label(ComplaintSource)), C("合同编号", "code"), C("回访ID", "callback_id"),
        C("服务记录ID", "record_id"), C("服务人员工号", "worker_no"), C("投诉内容", "text"), C("状态", "status", _label(ComplaintStatus)),
        C("定向抽样ID", "targeted_draw_id"), T("登记时间", "created_at"),
    ), _complaints, _of(Contract.county_id)),
    RecordTable("quarterly_reviews", "季度考核", (
        C("考核ID", "id"), C("合同编号", "code"), C("季度", "quarter"), C("版本", "revision"),
        C("状态", "status", _label(ReviewStatus)), C("总分", "total_centi", _hundredths), C("评级", "rating"),
        C("完成量", "completed_volume"), T("计算时间", "computed_at"), T("发布时间", "published_at"),
        C("意见截止", "comment_deadline"), C("承接机构意见", "contractor_position", _label(Position)),
        C("承接机构说明", "contractor_comment"), C("裁定意见", "settlement"), C("审定人", "approver"),
        T("审定时间", "approved_at"), C("已锁定", "locked"), C("更正自考核ID", "supersedes_id"),
        C("更正原因", "revision_reason"), C(f"考核明细{JSON_COLUMN}", "figures", _json),
    ), _quarterly_reviews, _of(QuarterlyReview.county_id)),
    RecordTable("review_manual_items", "考核加减分", (
        C("ID", "id"), C("考核ID", "review_id"), C("季度", "quarter"), C("分值", "points_centi", _hundredths),
        C("理由", "reason"), C("录入人", "author"), T("录入时间", "created_at"),
    ), _review_manual_items, _of(QuarterlyReview.county_id)),
    RecordTable("annual_evaluations", "年度评价", (
        C("评价ID", "id"), C("合同编号", "code"), C("年度", "year"), C("版本", "revision"), C("状态", "status", _label(EvaluationStatus)),
        C("年度得分", "score_centi", _hundredths), C("评级", "rating"), C("绩效挂钩部分(元)", "linked_fen", fen_to_yuan),
        C("应付(元)", "payable_fen", fen_to_yuan), C("扣减(元)", "withheld_fen", fen_to_yuan),
        T("计算时间", "computed_at"), C("审定人", "approver"), T("审定时间", "approved_at"),
        C("已锁定", "locked"), C(f"评价明细{JSON_COLUMN}", "figures", _json),
    ), _annual_evaluations, _of(AnnualEvaluation.county_id)),
    RecordTable("attachments", "附件", (
        C("附件ID", "id"), C("所属", "owner_type", _label(AttachmentOwner)), C("所属ID", "owner_id"),
        C("文件名", "filename"), C("文件类型", "content_type", kind_name), C("字节数", "size_bytes"),
        C("SHA-256", "sha256"), C("上传人", "uploader"), T("上传时间", "uploaded_at"),
    ), _attachments, _attachments_in),
    RecordTable("correction_requests", "更正申请", (
        C("申请ID", "id"), C("合同编号", "code"), C("服务记录ID", "record_id"),
        C("状态", "status", _label(CorrectionStatus)), C("更正内容", "changes", _changes), C("更正原因", "reason"),
        C("申请人", "requester"), C("申请时间(UTC)", "requested_at"), C("审核人", "decider"),
        C("审核时间(UTC)", "decided_at"), C("审核意见", "decision_note"),
    ), _correction_requests, _of(Contract.county_id)),
    RecordTable("record_versions", "服务记录版本", (
        C("ID", "id"), C("服务记录ID", "record_id"), C("版本", "version"), C("更正申请ID", "correction_id"),
        C("记录时间(UTC)", "recorded_at"), C(f"该版本的值{JSON_COLUMN}", "values", _json),
    ), _record_versions, _of(CompletionRecord.county_id)),
    RecordTable("payment_records", "付款记录", (
        C("付款ID", "id"), C("合同编号", "code"), C("付款日期", "paid_on"), C("金额(元)", "amount_fen", fen_to_yuan),
        C("类别", "kind", _label(PaymentKind)), C("所属年度", "year"), C("备注", "note"),
        T("登记时间", "created_at"),
    ), _payment_records, _of(Contract.county_id)),
    RecordTable("procurement_projects", "采购项目", (
        C("项目ID", "id"), C("项目编号", "code"), C("项目名称", "title"), C("预算科目", "budget_line"),
        C("预算金额(元)", "budget_fen", fen_to_yuan), C("采购方式", "procurement_method"),
        C("价格分值", "price_points_centi", _hundredths), C("状态", "status", _label(TenderStatus)),
        C("公告日期", "announced_on"), C("开标日期", "bid_opening_on"), C("定标日期", "awarded_on"),
        C("服务开始", "term_start"), C("服务结束", "term_end"),
        C("绩效挂钩比例(%)", "performance_share_bp", _hundredths), C(f"并列抽签顺序{JSON_COLUMN}", "tie_decision", _json),
        C("抽签说明", "tie_note"), C("终止原因", "cancel_reason"), C(f"评审结果{JSON_COLUMN}", "evaluation", _json),
        T("评审时间", "evaluated_at"), C("评审录入人", "evaluator"), C("合同ID", "contract_id"),
        C("生成的合同编号", "contract_code"), T("创建时间", "created_at"),
    ), _procurement_projects, _of(ProcurementProject.county_id)),
    RecordTable("procurement_lines", "采购服务内容", (
        C("ID", "id"), C("项目编号", "code"), C("服务类型", "service_type", _service_type),
        C("年度目标", "annual_target"), C("每月上门次数", "visits_per_month"),
    ), _procurement_lines, _of(ProcurementProject.county_id)),
    RecordTable("tender_bids", "投标", (
        C("投标ID", "id"), C("项目编号", "code"), C("投标机构ID", "contractor_id"), C("投标机构", "bidder"),
        C("统一社会信用代码", "credit_code"), C("联系人", "contact_person"),
        C("联系电话", "contact_phone", personal=mask_phone), C("投标报价(元)", "price_fen", fen_to_yuan),
        C("有效", "valid"), C("无效原因", "invalid_reason"), C("中标", "awarded"), T("登记时间", "created_at"),
    ), _tender_bids, _of(ProcurementProject.county_id)),
    RecordTable("tender_scoring_items", "评分项", (
        C("评分项ID", "id"), C("项目编号", "code"), C("序号", "sequence"), C("名称", "name"),
        C("满分", "max_points_centi", _hundredths), C("技术项", "technical"), C("取自履约档案", "past_performance"),
    ), _tender_scoring_items, _of(ProcurementProject.county_id)),
    RecordTable("tender_evaluators", "评标委员会", (
        C("成员ID", "id"), C("项目编号", "code"), C("序号", "sequence"), C("姓名", "name"),
    ), _tender_evaluators, _of(ProcurementProject.county_id)),
    RecordTable("tender_scores", "评标打分", (
        C("ID", "id"), C("项目编号", "code"), C("成员ID", "evaluator_id"), C("成员", "evaluator"),
        C("投标ID", "bid_id"), C("投标机构", "bidder"), C("评分项ID", "item_id"), C("评分项", "item"),
        C("得分", "points_centi", _hundredths), C("录入人", "entered_by"),
    ), _tender_scores, _of(ProcurementProject.county_id)),
    RecordTable("installments", "付款计划", (
        C("分期ID", "id"), C("合同编号", "code"), C("期次", "sequence"), C("类别", "kind", _label(InstallmentKind)),
        C("名称", "title"), C("金额(元)", "amount_fen", fen_to_yuan), C("比例(%)", "share_bp", _hundredths),
        C("支付条件", "condition", _label(InstallmentCondition)), C("所属年度", "year"), C("约定日期", "due_on"),
        C("暂扣原因", "held_reason"), T("暂扣时间", "held_at"), C("暂扣人", "holder"), C("支付日期", "paid_on"),
        C("实付(元)", "paid_fen", fen_to_yuan), C("付款ID", "payment_id"), C("支付登记人", "payer"),
        T("创建时间", "created_at"),
    ), _installments, _of(Contract.county_id)),
    RecordTable("contract_acceptances", "履约验收", (
        C("验收ID", "id"), C("合同编号", "code"), C("年度", "year"), C("状态", "status", _label(AcceptanceStatus)),
        C("验收结论", "conclusion", _label(AcceptanceConclusion)), C("验收意见", "opinion"),
        C("验收日期", "accepted_on"), C(f"验收依据数据{JSON_COLUMN}", "figures", _json), T("出具时间", "concluded_at"),
        C("出具人", "concluder"), T("创建时间", "created_at"),
    ), _contract_acceptances, _of(Contract.county_id)),
    RecordTable("acceptance_members", "验收小组成员", (
        C("ID", "id"), C("验收ID", "acceptance_id"), C("合同编号", "code"),
        C("姓名", "name", personal=mask_name, masked_if=_a_recipient), C("角色", "role", _label(AcceptanceRole)),
        C("单位", "organisation"),
    ), _acceptance_members, _of(Contract.county_id)),
    RecordTable("app_visits", "APP上门记录", (
        C("上门ID", "id"), C("合同编号", "code"), C("任务编号", "number"), C("服务记录ID", "record_id"),
        C("提交账户", "sender"), T("签到时间", "check_in_at"), T("签退时间", "check_out_at"),
        T("设备发送时间", "device_sent_at"), T("接收时间", "received_at"), C("经度", "longitude"), C("纬度", "latitude"),
        C("定位精度(米)", "accuracy_m"), C("无签名原因", "no_signature_reason"), C("请求SHA-256", "request_sha256"),
    ), _app_visits, _of(Contract.county_id)),
    RecordTable("visit_media", "APP照片与签名", (
        C("ID", "id"), C("上门ID", "visit_id"), C("服务记录ID", "record_id"), C("类型", "kind", _label(MediaKind)),
        C("SHA-256", "sha256"), C("字节数", "size_bytes"), C("文件类型", "content_type"),
        C("感知哈希", "perceptual_hash"), C("上传账户", "uploader"), T("上传时间", "uploaded_at"),
    ), _visit_media, _of(CompletionRecord.county_id)),
)


_TABLE = {table.name: table for table in TABLES}
_ATTACHMENTS, _VISIT_MEDIA = _TABLE["attachments"], _TABLE["visit_media"]


def table_query(table: RecordTable, year: int, counties: list[int] | None = None) -> Select:
    """The table's rows of the year, of `counties` (None: every county)."""
    stmt = table.query(year)
    return stmt if counties is None else stmt.where(table.county(counties))


def table_rows(table: RecordTable, year: int, *, full: bool, counties: list[int] | None = None) -> Iterator[list[Any]]:
    """The table's rows of the year (of `counties`, None: all), read in chunks, personal data
    masked unless `full`."""
    plan = [(column.key, column.show, None if full else column.personal, column.masked_if)
            for column in table.columns]
    result = db.session.execute(table_query(table, year, counties).execution_options(yield_per=CHUNK_ROWS))
    for row in result.mappings():
        values = []
        for key, show, mask, masked_if in plan:
            value = row[key]
            if mask is not None and (masked_if is None or masked_if(row)):
                value = mask(value)
            elif show is not None and value is not None:
                value = show(value)
            values.append(value)
        yield values


# --- writing ---------------------------------------------------------------------------------


class _Digest(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to `target`."""

    def __init__(self, target: IO[bytes]):
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        self._target.write(data)
        return len(data)


@dataclass
class BundleFile:
    path: str
    sha256: str
    bytes: int
    rows: int | None = None


@dataclass
class BundleResult:
    path: str
    year: int
    full: bool
    county_ids: list[int] | None = None  # a county's bundle; None: every county and the city chain
    counties: str = ""  # their names: 赣县区（360704）、章贡区（360703）
    files: list[BundleFile] = field(default_factory=list)
    bundle_sha256: str = ""
    zip_sha256: str = ""
    audit_events: int = 0
    anchor: Anchor | None = None


def _read_through(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    with open(path, "rb") as handle:
        return _read_through(handle)


def _safe_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or "_"


class _Writer:
    """Adds files to the zip and remembers each one's SHA-256 and size for the manifest."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.files: list[BundleFile] = []

    @contextmanager
    def stream(self, path: str) -> Iterator[_Digest]:
        with self.archive.open(self._info(path), "w", force_zip64=True) as target:
            digest = _Digest(target)
            yield digest
        self.files.append(BundleFile(path, digest.sha256.hexdigest(), digest.size))

    @contextmanager
    def csv_table(self, path: str, headers: list[str]) -> Iterator[CsvTable]:
        with self.stream(path) as stream:
            buffered = io.BufferedWriter(stream, buffer_size=1 << 16)
            table = CsvTable(buffered, headers)
            yield table
            table.close()
            buffered.flush()

    def add_bytes(self, path: str, data: bytes) -> None:
        self.archive.writestr(self._info(path), data)
        self.files.append(BundleFile(path, hashlib.sha256(data).hexdigest(), len(data)))

    def add_file(self, path: str, source: Path) -> BundleFile:
        self.archive.write(source, path)
        entry = BundleFile(path, file_sha256(source), source.stat().st_size)
        self.files.append(entry)
        return entry

    def _info(self, path: str) -> zipfile.ZipInfo:
        # Zip entry times have no zone; readers show them as written: county time.
        info = zipfile.ZipInfo(path, date_time=county_wall_time(utcnow()).timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        return info


def _write_table(writer: _Writer, scratch: Path, table: RecordTable, year: int, full: bool,
                 counties: list[int] | None) -> None:
    headers = [column.header for column in table.columns]
    xlsx_path = scratch / f"{table.name}.xlsx"
    workbook = XlsxTable(str(xlsx_path), table.title, headers)
    rows = 0
    with writer.csv_table(f"records/{table.name}.csv", headers) as sheet:
        for values in table_rows(table, year, full=full, counties=counties):
            sheet.write(values)
            workbook.write(values)
            rows += 1
    writer.files[-1].rows = rows
    workbook.close()
    writer.add_file(f"records/{table.name}.xlsx", xlsx_path).rows = rows
    xlsx_path.unlink()


def _write_audit_log(writer: _Writer, last_id: int, counties: list[int] | None) -> tuple[ChainHead, ...]:
    """Every chain (of `counties` only, when given) from its first event through `last_id`
    (interleaved in id order, each line naming its chain by `county_id`), as JSONL (verifiable)
    and CSV (readable); each chain's head."""
    events = AuditEvent.__table__
    stmt = select(events).where(events.c.id <= last_id)
    if counties is not None:
        stmt = stmt.where(events.c.county_id.in_(counties))
    stmt = stmt.order_by(events.c.id).execution_options(yield_per=CHUNK_ROWS)
    heads: dict[int | None, ChainHead] = {} if counties is not None else {None: ChainHead(0, GENESIS_HASH, 0)}
    with writer.stream(AUDIT_JSONL) as stream:
        buffered = io.BufferedWriter(stream, buffer_size=1 << 16)
        for event in db.session.execute(stmt).mappings():
            county = event["county_id"]
            line = {"id": event["id"], **{key: to_json_value(event[key]) for key in _EVENT_FIELDS},
                    "prev_hash": event["prev_hash"], "hash": event["hash"], "key_id": event["key_id"],
                    "county_id": county}
            buffered.write(json.dumps(line, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
            before = heads.get(county)
            heads[county] = ChainHead(event["id"], event["hash"], (before.events if before else 0) + 1, county)
        buffered.flush()
    names = ChainNames(db.session)
    headers = ["事件ID", county_time_heading("时间"), "审计链", "用户ID", "操作人", "动作", "对象类型", "对象ID",
               f"变更{JSON_COLUMN}", "IP地址", "前一哈希", "哈希", "密钥ID"]
    with writer.csv_table("audit_log/audit_events.csv", headers) as sheet:
        for event in db.session.execute(stmt).mappings():
            sheet.write([event["id"], county_wall_time(event["occurred_at"]), names(event["county_id"]),
                         event["user_id"], event["actor"],
                         label_of(AuditAction, event["action"]), label_of(AuditObject, event["object_type"]), event["object_id"], _json(event["changes"]), event["ip_address"],
                         event["prev_hash"], event["hash"], event["key_id"] or "（未加密钥）"])
    return sorted_heads(heads.values())


def _other_heads(last_id: int, counties: list[int]) -> list[ChainHead]:
    """The head through `last_id` of every chain not of `counties` (the city chain's always), read
    from the log without its events: what a county's bundle anchors beside its own chains."""
    events = AuditEvent.__table__
    others = events.c.county_id.is_(None) | events.c.county_id.not_in(counties)
    found = db.session.execute(
        select(events.c.county_id, func.count(events.c.id), func.max(events.c.id))
        .where(events.c.id <= last_id, others).group_by(events.c.county_id)).all()
    heads = {None: ChainHead(0, GENESIS_HASH, 0)}
    for county, count, last in found:
        mac = db.session.execute(select(events.c.hash).where(events.c.id == last)).scalar_one()
        heads[county] = ChainHead(last, mac, count, county)
    return list(heads.values())


def _reports_and_charts(writer: _Writer, year: int, generated_at: datetime, counties: list[int] | None) -> None:
    reviews = select(QuarterlyReview).where(_quarters_of(QuarterlyReview.quarter, year))
    evaluations = select(AnnualEvaluation).where(AnnualEvaluation.year == year)
    if counties is not None:
        reviews = reviews.where(QuarterlyReview.county_id.in_(counties))
        evaluations = evaluations.where(AnnualEvaluation.county_id.in_(counties))
    reviews = db.session.execute(
        reviews.order_by(QuarterlyReview.contract_id, QuarterlyReview.quarter, QuarterlyReview.revision)
    ).scalars().all()
    newest: dict[int, dict[str, QuarterlyReview]] = {}
    for review in reviews:
        name = _safe_name(f"{review.contract.code}_{review.quarter}_r{review.revision}")
        sheet = review_sheet(review, generated_at=generated_at, evidence=evidence_rows(review.figures))
        writer.add_bytes(f"reports/reviews/{name}.xlsx", sheet)
        newest.setdefault(review.contract_id, {})[review.quarter] = review
    for by_quarter in newest.values():
        ordered = [by_quarter[quarter] for quarter in sorted(by_quarter)]
        code = _safe_name(ordered[0].contract.code)
        for number, (png, _caption) in enumerate(reports.contract_charts(ordered[0].contract, ordered), start=1):
            writer.add_bytes(f"charts/{code}_{year}_{number}.png", png)
    evaluations = db.session.execute(
        evaluations.order_by(AnnualEvaluation.contract_id, AnnualEvaluation.revision)
    ).scalars().all()
    for evaluation in evaluations:
        report = reports.build_report(evaluation, generated_at=generated_at)
        name = _safe_name(f"{evaluation.contract.code}_{year}_r{evaluation.revision}")
        writer.add_bytes(f"reports/evaluations/{name}.docx", reports.to_docx(report))
        writer.add_bytes(f"reports/evaluations/{name}.pdf", reports.to_pdf(report))


def bundle_digest(files: Iterable[BundleFile]) -> str:
    """SHA-256 over the sorted "sha256  path" lines of the manifest: one value naming the whole bundle."""
    lines = "".join(f"{entry.sha256}  {entry.path}\n" for entry in sorted(files, key=lambda entry: entry.path))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def attachment_entries(year: int, counties: list[int] | None = None) -> list[dict]:
    """The year's attachments (of `counties`, None: all) as the manifest lists them: owner, name,
    type, SHA-256, size."""
    return [{"id": row["id"], "owner_type": row["owner_type"], "owner_id": row["owner_id"],
             "owner": f"{label_of(AttachmentOwner, row['owner_type'])} #{row['owner_id']}",
             "filename": row["filename"], "content_type": row["content_type"], "sha256": row["sha256"],
             "bytes": row["size_bytes"], "uploaded_at": row["uploaded_at"].isoformat(timespec="seconds") + "Z"}
            for row in db.session.execute(table_query(_ATTACHMENTS, year, counties)).mappings()]


def media_entries(year: int, counties: list[int] | None = None) -> list[dict]:
    """The photos and signatures of the year's app visits (of `counties`, None: all) as the manifest
    lists them: one per file and visit (a photo sent with two visits is listed twice), with the
    record it belongs to."""
    return [{"id": row["id"], "visit_id": row["visit_id"], "record_id": row["record_id"], "kind": row["kind"],
             "kind_label": label_of(MediaKind, row["kind"]), "content_type": row["content_type"],
             "sha256": row["sha256"], "bytes": row["size_bytes"]}
            for row in db.session.execute(table_query(_VISIT_MEDIA, year, counties)).mappings()]


def media_digest(items: Iterable[dict]) -> str:
    """SHA-256 over the sorted "sha256  bytes  kind  visit:record  #id" lines of the media list."""
    lines = "".join(f"{item['sha256']}  {item['bytes']}  {item['kind']}  {item['visit_id']}:{item['record_id']}"
                    f"  #{item['id']}\n" for item in sorted(items, key=lambda item: item["id"]))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def attachments_digest(items: Iterable[dict]) -> str:
    """SHA-256 over the sorted "sha256  bytes  owner_type:owner_id  #id" lines of the attachment list."""
    lines = "".join(f"{item['sha256']}  {item['bytes']}  {item['owner_type']}:{item['owner_id']}  #{item['id']}\n"
                    for item in sorted(items, key=lambda item: item["id"]))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _note(year: int, full: bool, exported_by: str, events: int, counties: str | None = None) -> str:
    """The bundle's Chinese note; `counties` names those of a county's bundle."""
    if counties is None:
        title, scope = f"{year}年度履约监管审计包\n\n", ""
        log = ("audit_log/：审计日志，自第一条事件至导出开始时的最后一条，"
               f"共 {events} 条；.jsonl 逐条含前一哈希、本条哈希（以审计密钥计算的 HMAC-SHA256）和密钥ID，可重新计算整条链；"
               "每个区县一条审计链，不属于任何区县的事件在市级审计链中（每行的 county_id，空为市级链）；"
               "anchor.json 为导出时以审计密钥签名的各链链头（最后一条事件、事件数）、由各链头算出的根哈希 root_hash"
               "及其余文件的摘要（根哈希的算法见 README“Audit log”）。\n")
    else:
        title = f"{year}年度履约监管审计包（{counties}）\n\n"
        scope = (f"范围：本包只含 {counties} 的记录、报告和审计链（scope.json 列出各区县），"
                 "不含其他区县的任何记录；市级审计链（不属于任何区县的事件）不在本包中。\n")
        log = (f"audit_log/：上述区县的审计链，每条链自其第一条事件至导出开始时的最后一条，共 {events} 条；"
               ".jsonl 逐条含前一哈希、本条哈希（以审计密钥计算的 HMAC-SHA256）和密钥ID，可从链的起点重新计算整条链"
               "（每行的 county_id 为所属区县）；anchor.json 为导出时以审计密钥签名的全部审计链链头"
               "（含市级链和其他区县的链：只有最后一条事件的编号、哈希和事件数，不含事件内容）、由全部链头算出的根哈希 "
               "root_hash 及其余文件的摘要：可重新计算根哈希（算法见 README“Audit log”），"
               "并核对本包各链的链头正是其中所列的链头。\n")
    personal = ("本包含完整的身份证号、电话和验收小组中服务对象代表的姓名（仅限系统管理员导出），请按个人信息保护要求妥善保管。" if full
                else "身份证号、电话已脱敏（如 320102********1234、138****5678），"
                     "验收小组中服务对象代表的姓名只保留姓（如 王**）。")
    return (
        title +
        f"导出人：{exported_by}\n"
        + scope +
        f"records/：{year}年度的各类记录，每张表各有 .xlsx 和 .csv（UTF-8 含 BOM，Excel 可直接打开）两份。\n"
        f"{personal}\n"
        "以 =、+、-、@ 开头的文字单元格前加了单引号，防止被电子表格当作公式执行。\n"
        f"表格和报告中的时间均为{COUNTY_TIME_LABEL}（UTC+8），列名中注明；"
        ".jsonl 与 manifest.json 保留存储原值（协调世界时 UTC），以便重新计算哈希。\n"
        "charts/：各合同的季度考核图表；reports/：各季度考核表（.xlsx）和年度评价报告（.docx、.pdf）。\n"
        + log +
        "manifest.json：除其自身外每个文件的 SHA-256，以及对该清单计算的整包摘要 bundle_sha256；"
        "attachments 列出当年上传的附件（所属对象、SHA-256、字节数），附件文件本身不在包中；"
        "media 列出当年服务记录的APP现场照片与对象签名（所属上门与服务记录、类型、SHA-256、字节数），"
        "图像本身含个人信息、无法脱敏，不在包中，可在系统的文件存储中按 SHA-256 核对。\n"
        "校验：flask --app app verify-bundle 本文件.zip\n"
    )


@contextmanager
def consistent_snapshot() -> Iterator[None]:
    """Read every table and the audit log from one snapshot (REPEATABLE READ on PostgreSQL).

    Call at the start of a unit of work: the session's transaction is ended before and after,
    so that the export's own audit event is appended outside the snapshot, to the live chain.
    """
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        yield
    finally:
        db.session.rollback()


def scope_areas(county_ids: Iterable[int]) -> list[Area]:
    """The counties of a county's bundle, by code; BundleRefused when one is not a county."""
    ids = sorted(set(county_ids))
    areas = list(db.session.execute(select(Area).where(Area.id.in_(ids)).order_by(Area.code)).scalars()) if ids else []
    if not ids or len(areas) != len(ids) or any(area.level != AreaLevel.COUNTY for area in areas):
        raise BundleRefused("审计包的范围须是一个或几个区县")
    return areas


def counties_text(counties: Iterable[tuple[str, str]]) -> str:
    """(name, code) pairs as a bundle names its scope: 赣县区（360704）、章贡区（360703）"""
    return "、".join(f"{name}（{code}）" for name, code in counties)


def build_audit_bundle(year: int, out_path: str | Path, *, full: bool, exported_by: User | None,
                       county_ids: Iterable[int] | None = None) -> BundleResult:
    """Write the year's audit bundle to `out_path`; a full (unmasked) bundle only for an admin.
    With `county_ids`, a county's bundle: those counties' rows and audit chains only (the module's
    docstring); None, every county's and the city chain."""
    if full and not may_export_full_personal_data(exported_by):
        raise BundleRefused("只有系统管理员可以导出含完整个人信息的审计包")
    areas = None if county_ids is None else scope_areas(county_ids)
    counties = None if areas is None else sorted(area.id for area in areas)
    out_path = Path(out_path)
    generated_at = utcnow()
    last_id = db.session.execute(select(func.max(AuditEvent.id))).scalar() or 0
    result = BundleResult(str(out_path), year, full, counties, counties_text((area.name, area.code) for area in areas) if areas else "")
    name = exported_by.username if exported_by else "命令行"
    with tempfile.TemporaryDirectory(prefix="audit-bundle-") as scratch, \
            zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        writer = _Writer(archive)
        for table in TABLES:
            _write_table(writer, Path(scratch), table, year, full, counties)
        _reports_and_charts(writer, year, generated_at, counties)
        attachments = attachment_entries(year, counties)
        media = media_entries(year, counties)
        heads = _write_audit_log(writer, last_id, counties)
        result.audit_events = sum(head.events for head in heads)
        latest = max(heads, key=lambda head: head.last_id, default=None)  # the chain of the log's last event
        last_hash = latest.last_hash if latest is not None and latest.events else None
        scope = None
        if areas is not None:
            scope = {"counties": [{"id": area.id, "code": area.code, "name": area.name} for area in areas],
                     "city_chain": False,
                     "note": f"本包只含 {result.counties} 的记录和审计链；市级审计链不在包中。"}
            writer.add_bytes(SCOPE, json.dumps(scope, ensure_ascii=False, indent=2).encode("utf-8"))
        writer.add_bytes(NOTE, _note(year, full, name, result.audit_events, result.counties or None).encode("utf-8"))
        ring = keyring()
        # A county's bundle anchors every chain's head (its own from the events it holds), so
        # that the root is the one the anchors publish.
        anchored = heads if counties is None else [*heads, *_other_heads(last_id, counties)]
        result.anchor = sign_anchor(anchored, generated_at, AnchorReason.EXPORT, ring.current_id, ring.current_secret,
                                    bundle_sha256=bundle_digest(writer.files))
        writer.add_bytes(AUDIT_ANCHOR, json.dumps(result.anchor.as_json(), ensure_ascii=False, indent=2).encode("utf-8"))
        result.files = writer.files
        result.bundle_sha256 = bundle_digest(writer.files)
        manifest = {
            "format": BUNDLE_FORMAT,
            "year": year,
            "created_at": generated_at.isoformat(timespec="seconds") + "Z",  # UTC, as stored
            "exported_by": name,
            "personal_data": "full" if full else "masked",
            **({} if scope is None else {"scope": {"path": SCOPE, **scope}}),
            "note": (f"{year}年度审计包{f'（{result.counties}）' if scope else ''}；说明见 {NOTE}。"
                     "每个文件的 SHA-256 见 files，bundle_sha256 为对该清单的摘要。"),
            "audit_log": {"path": AUDIT_JSONL, "events": result.audit_events, "last_id": last_id,
                          "last_hash": last_hash, "anchor": AUDIT_ANCHOR,
                          "chains": [{"county_id": head.county_id, "last_id": head.last_id,
                                      "last_hash": head.last_hash, "events": head.events} for head in heads],
                          "root_hash": result.anchor.root_hash,
                          **({} if scope is None else {
                              "note": "chains 为本包所含各区县的审计链；anchor.json 列出导出时全部审计链的链头"
                                      "（含市级链与其他区县的链，只有编号、哈希和事件数），根哈希由全部链头算出。"})},
            "files": [entry.__dict__ for entry in writer.files],
            "attachments": {
                "path": ATTACHMENTS_CSV, "count": len(attachments), "sha256": attachments_digest(attachments),
                "note": "当年上传的附件（照片、扫描件、PDF）：所属对象、SHA-256 与字节数；文件本身保存在系统的文件存储中，"
                        "可按 SHA-256 核对。",
                "items": attachments,
            },
            "media": {
                "path": MEDIA_CSV, "count": len(media), "sha256": media_digest(media),
                "note": "当年服务记录的APP现场照片与对象签名：所属上门与服务记录、类型、SHA-256 与字节数；"
                        "图像本身（签名与照片均含个人信息，无法脱敏）不在包中，保存在系统的文件存储中，可按 SHA-256 核对。",
                "items": media,
            },
            "bundle_sha256": result.bundle_sha256,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    result.zip_sha256 = file_sha256(out_path)
    return result


def record_export(result: BundleResult) -> None:
    """Append the export to the audit log with the bundle's digest (a full bundle is a view of personal
    data), and its anchor to the anchors file."""
    if result.anchor is not None:
        record_bundle_anchor(result.anchor)
    scope = {} if result.county_ids is None else {"counties": result.counties}
    record_event("view_personal_data" if result.full else "export", "AuditBundle", result.year,
                 {"bundle_sha256": result.bundle_sha256, "zip_sha256": result.zip_sha256, "files": len(result.files),
                  "personal_data": "full" if result.full else "masked", **scope,
                  "anchor_signature": result.anchor.signature if result.anchor else None})


# --- verification -----------------------------------------------------------------------------


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    events_checked: int = 0
    attachments: list[dict] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)
    bundle_sha256: str | None = None
    zip_sha256: str | None = None
    year: int | None = None
    anchor: Anchor | None = None  # the bundle's own, when it verified
    legacy_format: bool = False  # made before keying: no anchor, unkeyed events only
    instance_anchors: int = 0  # the system's anchors the bundle's log was held against
    county_ids: list[int] | None = None  # a county's bundle (its scope.json); None: the whole log
    counties: str = ""  # their names, as scope.json gives them

    @property
    def ok(self) -> bool:
        return not self.problems


def _hash_member(archive: zipfile.ZipFile, name: str) -> str:
    with archive.open(name) as handle:
        return _read_through(handle)


def _audit_events(archive: zipfile.ZipFile, name: str) -> Iterator[ChainEvent]:
    with archive.open(name) as handle:
        for line in io.TextIOWrapper(handle, encoding="utf-8"):
            event = json.loads(line)
            yield ChainEvent(event["id"], {key: event[key] for key in _EVENT_FIELDS}, event["prev_hash"],
                             event["hash"], event.get("key_id"), event.get("county_id"))


def verify_bundle(path: str | Path, keys: dict[str, bytes] | None = None,
                  anchors: list[Anchor] | None = None) -> Verification:
    """Check every file against the manifest, that none is missing or extra, the audit log's keyed
    chain, the bundle's signed anchor, and the log against the system's anchors made before the
    export (`keys` and `anchors` default to this system's)."""
    found = Verification(zip_sha256=file_sha256(path))
    try:
        archive = zipfile.ZipFile(path)
    except _UNREADABLE as error:
        found.problems.append(f"无法作为 zip 文件打开（{error}）")
        return found
    with archive:
        names = archive.namelist()
        repeated = sorted({name for name in names if names.count(name) > 1})
        found.problems += [f"包中有重名文件：{name}" for name in repeated]
        manifest = _read_manifest(archive, found)
        if manifest is None:
            return found
        found.year = manifest.get("year")
        listed = {entry["path"]: entry for entry in manifest.get("files", [])}
        present = set(names) - {MANIFEST}
        found.problems += [f"缺少文件：{name}" for name in sorted(set(listed) - present)]
        found.problems += [f"清单之外多出的文件：{name}" for name in sorted(present - set(listed))]
        for name in sorted(present & set(listed)):
            try:
                actual = _hash_member(archive, name)
            except _UNREADABLE as error:
                found.problems.append(f"文件已损坏，无法读取：{name}（{error}）")
                continue
            found.files_checked += 1
            if actual != listed[name].get("sha256"):
                found.problems.append(f"文件内容与清单中的 SHA-256 不符：{name}")
        digest = bundle_digest(BundleFile(entry["path"], entry.get("sha256", ""), 0) for entry in listed.values())
        found.bundle_sha256 = manifest.get("bundle_sha256")
        if digest != found.bundle_sha256:
            found.problems.append("清单的整包摘要 bundle_sha256 与文件列表不符（清单被改动）")
        scope_ok = _read_scope(archive, manifest, listed, present, found)
        if scope_ok:
            _check_chain(archive, manifest, listed, present, found, keys, anchors)
        _check_attachments(archive, manifest, present, found)
        _check_media(archive, manifest, present, found)
    return found


def _read_manifest(archive: zipfile.ZipFile, found: Verification) -> dict | None:
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except KeyError:
        found.problems.append(f"缺少清单文件 {MANIFEST}")
        return None
    except _UNREADABLE as error:
        found.problems.append(f"清单文件 {MANIFEST} 已损坏或不是有效的 JSON（{error}）")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") not in (BUNDLE_FORMAT, LEGACY_BUNDLE_FORMAT):
        found.problems.append(f"清单格式不是 {BUNDLE_FORMAT}")
        return None
    found.legacy_format = manifest["format"] == LEGACY_BUNDLE_FORMAT
    return manifest


def _read_scope(archive: zipfile.ZipFile, manifest: dict, listed: dict, present: set[str],
                found: Verification) -> bool:
    """A county's bundle's counties from its scope.json (which the anchor's digest covers), the
    same as the manifest says; False when they cannot be known (the chains are not checked)."""
    section = manifest.get("scope")
    if SCOPE not in listed or SCOPE not in present:
        if section is not None:
            found.problems.append(f"清单写明本包只含部分区县，但包中没有范围文件 {SCOPE}")
            return False
        return True
    try:
        scope = json.loads(archive.read(SCOPE).decode("utf-8"))
        counties = scope["counties"]
        ids = sorted(int(county["id"]) for county in counties)
        text = counties_text((county["name"], county["code"]) for county in counties)
    except (*_UNREADABLE, KeyError, TypeError) as error:
        found.problems.append(f"范围文件 {SCOPE} 无法读取（{error}）")
        return False
    if not ids or len(set(ids)) != len(ids) or scope.get("city_chain") is not False:
        found.problems.append(f"范围文件 {SCOPE} 中的区县列表不正确")
        return False
    if section is None or section.get("counties") != counties:
        found.problems.append(f"清单中的范围与范围文件 {SCOPE} 不符（清单被改动）")
    found.county_ids, found.counties = ids, text
    return True


def _bundle_anchor(archive: zipfile.ZipFile, listed: dict, present: set[str], keys,
                   found: Verification) -> Anchor | None:
    if AUDIT_ANCHOR not in listed or AUDIT_ANCHOR not in present:
        found.problems.append(f"审计包缺少审计日志锚点 {AUDIT_ANCHOR}")
        return None
    try:
        anchor = anchor_from_json(json.loads(archive.read(AUDIT_ANCHOR).decode("utf-8")))
    except (*_UNREADABLE, InvalidAnchor) as error:
        found.problems.append(f"审计包的锚点 {AUDIT_ANCHOR} 无法读取（{error}）")
        return None
    problem = signature_problem(anchor, keys)
    if problem:
        found.problems.append(f"审计包的锚点：{problem}")
        return None
    return anchor


def _system_keys_and_anchors(keys, anchors, found: Verification):
    try:
        keys = keyring().keys if keys is None else keys
        anchors = read_anchors(keys)[0] if anchors is None else anchors
    except AuditKeyError as error:
        found.problems.append(str(error))
        return None, None
    return keys, anchors


def _check_chain(archive: zipfile.ZipFile, manifest: dict, listed: dict, present: set[str], found: Verification,
                 keys, anchors) -> None:
    log = manifest.get("audit_log") or {}
    name = log.get("path", AUDIT_JSONL)
    if name not in present:
        return
    keys, anchors = _system_keys_and_anchors(keys, anchors, found)
    if keys is None:
        return
    own = None if found.legacy_format else _bundle_anchor(archive, listed, present, keys, found)
    # The system's anchors made before the export: the bundle's log must hold each of them.
    system = epoch_in_force(anchors, until=own.moment) if own is not None else []
    names = ChainNames(db.session)
    verifier = ChainSet(keys, watch={head.last_id for anchor in system for head in anchor.heads}, name_of=names)
    # A county's bundle holds its counties' chains, and only those are held to the anchors.
    chains = None if found.county_ids is None else set(found.county_ids)
    try:
        broken: ChainBreak | None = None
        for event in _audit_events(archive, name):
            if chains is not None and event.county_id not in chains:
                found.problems.append(f"审计日志中的事件 #{event.id} 属于{names(event.county_id)}，"
                                      f"不在本包的范围（{found.counties}）之内")
                return
            broken = verifier.add(event)
            if broken is not None:
                break
    except (*_UNREADABLE, KeyError, TypeError) as error:
        found.problems.append(f"审计日志无法读取（{name}：{error}）")
        return
    found.events_checked = verifier.count
    if broken is not None:
        found.problems.append(f"审计日志哈希链断裂：{broken.describe()}")
        return
    if verifier.count != log.get("events"):
        found.problems.append(f"审计日志事件数 {verifier.count} 与清单记录的 {log.get('events')} 不符")
    if found.legacy_format:
        if verifier.keyed:
            found.problems.append(f"旧格式（{LEGACY_BUNDLE_FORMAT}）的审计包中不应有加密钥的事件（格式被改动）")
        return
    if own is None:
        return
    found.problems += _own_anchor_problems(own, verifier.heads(), names, chains)
    others = [BundleFile(entry["path"], entry.get("sha256", ""), 0) for path, entry in listed.items()
              if path != AUDIT_ANCHOR]
    if own.bundle_sha256 != bundle_digest(others):
        found.problems.append("审计包的文件与其锚点所签名的摘要不符（文件或清单被改动）")
    found.problems += [f"审计包中的审计日志与本系统的锚点不符：{brk.describe()}"
                       for brk in anchor_breaks(verifier.heads(), verifier.seen(), system, subject="审计包中的审计日志",
                                                name_of=names, chains=chains)]
    found.instance_anchors = len(system)
    if found.ok:
        found.anchor = own


def _own_anchor_problems(own: Anchor, heads: Mapping[int | None, ChainHead], names: Callable,
                         chains: set[int] | None = None) -> list[str]:
    """The bundle's anchor against the chains in the bundle: the same chains, each to the same
    event after as many events with the same MAC, and a root that follows from the heads. A
    county's bundle (`chains`) is held to the anchor's heads of its counties; the anchor's other
    heads are there for the root."""
    problems = []
    if own.root_hash is not None and own.root_hash != root_hash(own.heads):
        problems.append("审计包锚点的根哈希与其链头不符（锚点被改动）")
    listed = {head.county_id: head for head in own.heads}
    compared = set(listed) | set(heads) if chains is None else chains
    for county in sorted(compared, key=lambda county: (county is not None, county or 0)):
        anchored = listed.get(county) or ChainHead(0, GENESIS_HASH, 0, county)
        held = heads.get(county) or ChainHead(0, GENESIS_HASH, 0, county)
        chain = names(county)
        if (held.last_id, held.events) != (anchored.last_id, anchored.events):
            problems.append(f"审计包的锚点中{chain}（至事件 #{anchored.last_id}，共 {anchored.events} 条）与包中的该链"
                            f"（至事件 #{held.last_id}，共 {held.events} 条）不符（审计日志被截断或改动）")
        elif held.last_hash != anchored.last_hash:
            problems.append(f"审计包的锚点与包中{chain}最后一条事件 #{anchored.last_id} 的哈希不符（审计日志被改写）")
    return problems


def _check_attachments(archive: zipfile.ZipFile, manifest: dict, present: set[str], found: Verification) -> None:
    """The manifest's attachment list agrees with its digest, its count and the attachments table."""
    section = manifest.get("attachments")
    if section is None:
        return
    try:
        items = list(section["items"])
        listed = {int(item["id"]): (item["sha256"], int(item["bytes"])) for item in items}
        digest = attachments_digest(items)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        found.problems.append(f"清单中的附件列表格式不正确（{error}）")
        return
    found.attachments = items
    if digest != section.get("sha256") or len(items) != section.get("count"):
        found.problems.append("清单中的附件列表与其摘要或数量不符（附件列表被改动）")
    name = section.get("path", ATTACHMENTS_CSV)
    if name not in present:
        return
    try:
        with archive.open(name) as handle:
            rows = list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")))
        tabled = {int(row["附件ID"]): (row["SHA-256"], int(row["字节数"])) for row in rows}
    except (*_UNREADABLE, KeyError, TypeError) as error:
        found.problems.append(f"附件表无法读取（{name}：{error}）")
        return
    for attachment_id in sorted(set(listed) | set(tabled)):
        if listed.get(attachment_id) != tabled.get(attachment_id):
            found.problems.append(f"附件 #{attachment_id} 在清单与 {name} 中的 SHA-256 或字节数不一致")


def _check_media(archive: zipfile.ZipFile, manifest: dict, present: set[str], found: Verification) -> None:
    """The manifest's list of app photos and signatures agrees with its digest, its count and the table."""
    section = manifest.get("media")
    if section is None:  # a bundle made before the app's media were listed
        return
    try:
        items = list(section["items"])
        listed = {int(item["id"]): (item["sha256"], int(item["bytes"]), item["kind"], int(item["record_id"]))
                  for item in items}
        digest = media_digest(items)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        found.problems.append(f"清单中的照片与签名列表格式不正确（{error}）")
        return
    found.media = items
    if digest != section.get("sha256") or len(items) != section.get("count"):
        found.problems.append("清单中的照片与签名列表与其摘要或数量不符（列表被改动）")
    name = section.get("path", MEDIA_CSV)
    if name not in present:
        return
    kinds = {label_of(MediaKind, code): code for code in MediaKind.codes()}
    try:
        with archive.open(name) as handle:
            rows = list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")))
        tabled = {int(row["ID"]): (row["SHA-256"], int(row["字节数"]), kinds.get(row["类型"], row["类型"]),
                                   int(row["服务记录ID"])) for row in rows}
    except (*_UNREADABLE, KeyError, TypeError) as error:
        found.problems.append(f"照片与签名表无法读取（{name}：{error}）")
        return
    for media_id in sorted(set(listed) | set(tabled)):
        if listed.get(media_id) != tabled.get(media_id):
            found.problems.append(f"照片或签名 #{media_id} 在清单与 {name} 中的 SHA-256、字节数、类型或服务记录不一致")


def stored_media_problems(items: Iterable[dict], store) -> list[str]:
    """Whether each listed photo or signature is still this system's, with the same bytes in its store."""
    problems = []
    for item in items:
        row = db.session.get(VisitMedia, item["id"])
        media = db.session.get(MediaFile, row.media_id) if row is not None else None
        if media is None or media.sha256 != item["sha256"] or row.visit_id != item["visit_id"]:
            problems.append(f"照片或签名 #{item['id']}（上门 #{item['visit_id']}）在本系统中已不存在或已不是包中所列的文件")
            continue
        try:
            with store.open(media.stored_path) as stored:
                intact = _read_through(stored) == item["sha256"]
        except (OSError, ValueError):
            intact = False
        if not intact:
            problems.append(f"照片或签名 #{item['id']}（上门 #{item['visit_id']}）的存储文件已丢失或内容与包中所列的 SHA-256 不符")
    return problems


def stored_attachment_problems(items: Iterable[dict], store) -> list[str]:
    """Whether each listed attachment is still this system's, with the same bytes in its store."""
    problems = []
    for item in items:
        row = db.session.get(Attachment, item["id"])
        if row is None or row.sha256 != item["sha256"]:
            problems.append(f"附件 #{item['id']}（{item['filename']}）在本系统中已不存在或已不是包中所列的文件")
            continue
        try:
            with store.open(row.stored_path) as stored:
                intact = _read_through(stored) == item["sha256"]
        except (OSError, ValueError):
            intact = False
        if not intact:
            problems.append(f"附件 #{item['id']}（{item['filename']}）的存储文件已丢失或内容与包中所列的 SHA-256 不符")
    return problems


def registration(found: Verification) -> tuple[AuditEvent | None, str | None]:
    """The audit event that recorded this bundle's export, and a problem when the zip differs from it.

    The zip's own SHA-256 was logged at export, so that even a changed byte the manifest cannot
    cover (a time stamp in a zip header) shows on the system that made the bundle. A bundle this
    system has no record of gives (None, None): it may have been exported elsewhere.
    """
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.object_type == "AuditBundle").order_by(AuditEvent.id.desc())
    ).scalars().all()
    for event in events:
        if (event.changes or {}).get("zip_sha256") == found.zip_sha256:
            return event, None
    for event in events:
        if (event.changes or {}).get("bundle_sha256") == found.bundle_sha256:
            return event, (f"zip 文件的 SHA-256 与导出时登记的不同（审计日志事件 #{event.id}），"
                           "文件内容一致，但 zip 文件本身被改动过")
    return None, None
