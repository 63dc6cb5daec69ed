"""The field app's use cases (issue 12), for the field pages and the REST API alike.

- Device tokens: a user makes one per device (shown once; only its SHA-256 is kept) and revokes
  it; a bearer token names its user while neither the token is revoked nor the account stopped.
- Assignments given to field workers: a contractor's staff gives an open assignment to one of the
  contractor's active workers; a field worker sees only those (`policy.sees_assignment`).
- Photos and signatures: checked to be pictures, kept in the file store under their SHA-256.
- A visit from the app: check-in/out, place and the service form become one row of the
  completion log and go through the log's own rules and storing (`completion_import.check_rows`,
  `store_rows`: the same validation and anomaly flags), with the app's flags added
  (`anomalies.app_visit_flags`). An idempotency key makes a retry answer the visit made first.

Every change is an ORM change (audited by the session listener) or has its `record_event`.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError

from ..adapters.files import FileStore
from ..adapters.images import SUFFIXES, NotAnImage, difference_hash, image_type
from ..adapters.tables.cells import EXCEL_ROW, CellError
from ..clock import BUREAU_UTC_OFFSET as COUNTY_OFFSET
from ..clock import local_day, to_county, utcnow
from ..domain import self_care
from ..domain.anomalies import AppVisitFacts, Flag, app_visit_flags
from ..domain.completion_log import TEMPLATE_COLUMNS
from ..domain.vocabulary import MediaKind, RecordSource
from ..extensions import db
from ..models import (
    ApiToken,
    AppVisit,
    Assignment,
    CompletionRecord,
    Contract,
    FieldWorker,
    MediaFile,
    Subject,
    User,
    VisitMedia,
)
from ..policy import Action, is_field_worker, may, owns
from . import completion_import
from .areas import county_ids_under
from .audit import record_event

TOKEN_PREFIX = "ovt_"
MEDIA_FOLDER = "app_media"
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_TOUCH_EVERY = timedelta(minutes=5)


class FieldAppRefused(ValueError):
    """A step refused as a whole; the message is Chinese, for the user."""


# --- device tokens -------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token of `user` for the device `name`; the plain token is returned once and never
    stored. The caller commits."""
    if not may(user, Action.MANAGE_API_TOKENS):
        raise FieldAppRefused("该账户不能创建接口令牌")
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise FieldAppRefused("请填写设备名称（最多64字）")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_sha256=_digest(plain), prefix=plain[:12])
    db.session.add(token)
    db.session.flush()
    return token, plain


def user_tokens(user: User) -> list[ApiToken]:
    return db.session.execute(select(ApiToken).where(ApiToken.user_id == user.id)
                              .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())).scalars().all()


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of the user's own tokens (None: no such token of this user). The caller commits."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def user_for_token(plain: str) -> User | None:
    """The active user of a valid, unrevoked token; its last use is noted (at most every few
    minutes, outside the audit log: it is bookkeeping, not a change anyone made)."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    token = db.session.execute(select(ApiToken).where(ApiToken.token_sha256 == _digest(plain))).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.is_active_account or not may(user, Action.MANAGE_API_TOKENS):
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        db.session.execute(update(ApiToken.__table__).where(ApiToken.__table__.c.id == token.id)
                           .values(last_used_at=now))
        db.session.commit()
    return user


# --- assignments given to workers ----------------------------------------------------------


def visible_assignments(user: User) -> Select:
    """The assignments the user sees, newest due first: a field worker those given to it, a
    contractor its contracts', the bureau those of the counties its area covers."""
    stmt = (select(Assignment).join(Contract, Assignment.contract_id == Contract.id)
            .where(Assignment.county_id.in_(county_ids_under(user.area_id))))
    if is_field_worker(user):
        if user.field_worker_id is None or user.contractor_id is None:
            return stmt.where(Assignment.id.is_(None))
        stmt = stmt.where(Assignment.worker_id == user.field_worker_id, Contract.contractor_id == user.contractor_id)
    elif not owns(user, None):  # a contractor
        stmt = stmt.where(Contract.contractor_id == user.contractor_id)
    return stmt.order_by(Assignment.due_date.desc(), Assignment.id.desc())


def registered_worker_choices(contractor_id: int) -> list[tuple[int, str]]:
    """(id, "工号 姓名") of the contractor's active field workers."""
    return [(worker.id, f"{worker.worker_no} {worker.name}") for worker in db.session.execute(
        select(FieldWorker).where(FieldWorker.contractor_id == contractor_id, FieldWorker.active)
        .order_by(FieldWorker.worker_no)).scalars()]


def assign_worker(assignment: Assignment, worker_id: int | None, user: User) -> FieldWorker | None:
    """Give an open assignment to one of its contractor's active workers (None: to no one)."""
    if not may(user, Action.ASSIGN_WORKERS, assignment):
        raise FieldAppRefused("只能为本机构未完成的任务指派服务人员")
    worker = None
    if worker_id is not None:
        worker = db.session.get(FieldWorker, worker_id)
        if worker is None or worker.contractor_id != assignment.contract.contractor_id or not worker.active:
            raise FieldAppRefused("请选择本机构在岗的服务人员")
    assignment.worker_id = worker.id if worker else None
    return worker


# --- photos and signatures ---------------------------------------------------------------


def store_media(user: User, kind: str, data: bytes, store: FileStore) -> tuple[MediaFile, bool]:
    """Keep a photo or signature under its SHA-256; (the file, whether it is new). The same file
    sent again by the same user is the same row. The caller commits."""
    if not may(user, Action.RECORD_APP_VISITS):
        raise FieldAppRefused("该账户不能上传现场照片或签名")
    if kind not in MediaKind.codes():
        raise FieldAppRefused("类型只能是 photo（现场照片）或 signature（对象签名）")
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if not data:
        raise FieldAppRefused("文件为空")
    if len(data) > limit:
        raise FieldAppRefused(f"文件超过 {limit // (1 << 20)} MB")
    try:
        content_type = image_type(data)
    except NotAnImage as error:
        raise FieldAppRefused(str(error)) from None
    digest = hashlib.sha256(data).hexdigest()
    found = db.session.execute(select(MediaFile).where(MediaFile.uploaded_by_id == user.id,
                                                       MediaFile.sha256 == digest)).scalar_one_or_none()
    if found is not None:
        return found, False
    key = store.put_content(MEDIA_FOLDER, data, SUFFIXES[content_type])
    media = MediaFile(uploaded_by_id=user.id, kind=kind, sha256=digest, content_type=content_type,
                      size_bytes=len(data), stored_path=key,
                      perceptual_hash=difference_hash(data) if kind == MediaKind.PHOTO else None)
    try:
        with db.session.begin_nested():
            db.session.add(media)
    except IntegrityError:  # the same file sent twice at once (the page and its service worker)
        found = db.session.execute(select(MediaFile).where(MediaFile.uploaded_by_id == user.id,
                                                           MediaFile.sha256 == digest)).scalar_one_or_none()
        if found is None:
            raise
        return found, False
    return media, True


# --- a visit from the app ------------------------------------------------------------------


@dataclass(frozen=True)
class VisitInput:
    """A visit as the app sends it (already typed by the API's schema)."""

    assignment_id: int
    check_in_at: datetime  # aware
    check_out_at: datetime
    longitude: float
    latitude: float
    accuracy_m: float | None = None
    device_sent_at: datetime | None = None
    worker_no: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    remark: str | None = None
    photos: Sequence[str] = ()
    signature: str | None = None
    no_signature_reason: str | None = None


@dataclass(frozen=True)
class VisitOutcome:
    """The visit stored (or the one the key made before: `replayed`), or the refused fields."""

    visit: AppVisit | None
    replayed: bool = False
    errors: list[dict] = field(default_factory=list)


# Where a refused cell of the log row comes from in the request.
_HEADER_FIELDS = {"服务日期": "check_in_at", "开始时间": "check_in_at", "结束时间": "check_out_at",
                  "经度": "longitude", "纬度": "latitude", "服务人员工号": "worker_no", "服务人员姓名": "worker_no",
                  "备注": "remark", "任务编号": "assignment_id", "服务对象姓名": "assignment_id",
                  "身份证号": "assignment_id", "对象签字确认": "signature"}
_APP_KEYS = {"number", "subject_name", "id_number", "service_date", "start_time", "end_time", "worker_no",
             "worker_name", "longitude", "latitude", "remark"}


def form_keys(service_type: str) -> list[str]:
    """The service form's own fields (`fields` of a visit): the template's columns the app does
    not fill from the check-in, the place, the worker or the signature."""
    return [column.key for column in TEMPLATE_COLUMNS[service_type]
            if column.key not in _APP_KEYS and column.key != "signed"]


def error(field_name: str, reason: str, *, column: str = "", value: object = "", row: int | None = None) -> dict:
    """A refused field, in the uploads' form (row, column, value, reason) with the request's field."""
    return {"row": row, "column": column, "field": field_name, "value": "" if value is None else str(value),
            "reason": reason}


def _cell_error(cell: CellError, keys: Mapping[str, str]) -> dict:
    name = _HEADER_FIELDS.get(cell.column) or (f"fields.{keys[cell.column]}" if cell.column in keys else "")
    return error(name, cell.reason, column=cell.column, value=cell.value)


def _text(key: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        if key in self_care.ITEM_KEYS:
            return "能" if value else "不能"
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(str(item) for item in value)
    return str(value)


def request_digest(body: object) -> str:
    """The SHA-256 of a request body as JSON with sorted keys: the same visit sent again matches."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _earlier(user: User, key: str) -> AppVisit | None:
    return db.session.execute(select(AppVisit).where(AppVisit.user_id == user.id, AppVisit.idempotency_key == key)
                              ).scalar_one_or_none()


def _replay(user: User, key: str, digest: str) -> VisitOutcome | None:
    earlier = _earlier(user, key)
    if earlier is None:
        return None
    if earlier.request_sha256 != digest:
        return VisitOutcome(None, errors=[error("Idempotency-Key", "该 Idempotency-Key 已用于另一条内容不同的服务记录；"
                                                                    "新的记录请使用新的键")])
    return VisitOutcome(earlier, replayed=True)


def _media_of(user: User, visit: VisitInput) -> tuple[list[tuple[str, MediaFile]], list[dict]]:
    wanted = [("photo", digest, f"photos[{n}]") for n, digest in enumerate(visit.photos)]
    if visit.signature:
        wanted.append(("signature", visit.signature, "signature"))
    found, errors = [], []
    for kind, digest, name in wanted:
        media = db.session.execute(select(MediaFile).where(MediaFile.uploaded_by_id == user.id,
                                                           MediaFile.sha256 == digest)).scalar_one_or_none()
        if media is None:
            errors.append(error(name, "未找到该文件：请先通过 /api/v1/media 上传，再提交服务记录", value=digest))
        elif media.kind != kind:
            errors.append(error(name, f"该文件上传时的类型是{MediaKind.labels()[media.kind]}", value=digest))
        else:
            found.append((kind, media))
    if len({digest for digest in visit.photos}) < len(visit.photos):
        errors.append(error("photos", "同一张照片重复列出"))
    if not visit.signature and not (visit.no_signature_reason or "").strip():
        errors.append(error("no_signature_reason", "没有对象签名时，须填写未签名的原因"))
    return found, errors


def _worker_of(user: User, visit: VisitInput, contract: Contract) -> tuple[str, str] | dict:
    if is_field_worker(user):
        worker = db.session.get(FieldWorker, user.field_worker_id)
        return worker.worker_no, worker.name
    worker = db.session.execute(select(FieldWorker).where(
        FieldWorker.contractor_id == contract.contractor_id, FieldWorker.worker_no == (visit.worker_no or ""))
    ).scalar_one_or_none()
    if worker is None:
        return error("worker_no", "请填写本机构已登记的服务人员工号", value=visit.worker_no)
    return worker.worker_no, worker.name


def _photo_history(contract: Contract, own: Sequence[MediaFile], since: date) -> tuple[frozenset[str], tuple[str, ...]]:
    """SHA-256s of these photos already in other visits; perceptual hashes of the contractor's
    recent visits' photos."""
    digests = [media.sha256 for media in own]
    used = frozenset(db.session.execute(select(VisitMedia.sha256).where(
        VisitMedia.sha256.in_(digests), VisitMedia.kind == MediaKind.PHOTO)).scalars()) if digests else frozenset()
    hashes = tuple(phash for phash in db.session.execute(
        select(MediaFile.perceptual_hash).join(VisitMedia, VisitMedia.media_id == MediaFile.id)
        .join(AppVisit, VisitMedia.visit_id == AppVisit.id).join(Assignment, AppVisit.assignment_id == Assignment.id)
        .join(Contract, Assignment.contract_id == Contract.id)
        .where(Contract.contractor_id == contract.contractor_id, VisitMedia.kind == MediaKind.PHOTO,
               MediaFile.perceptual_hash.is_not(None), AppVisit.check_in_at >= since,
               MediaFile.sha256.not_in(digests) if digests else MediaFile.id.is_not(None))).scalars())
    return used, hashes


def record_visit(user: User, assignment: Assignment, visit: VisitInput, key: str, digest: str) -> VisitOutcome:
    """Check and store one visit sent from the app; the caller commits (or, on errors, rolls back).

    `key` is the request's Idempotency-Key and `digest` its body's `request_digest`: a key already
    used answers the visit it made (or refuses a different body under it).
    """
    if not IDEMPOTENCY_KEY.match(key or ""):
        return VisitOutcome(None, errors=[error("Idempotency-Key", "请在请求头 Idempotency-Key 中提供 8–64 位的"
                                                                    "字母、数字或 _ . : - 组成的唯一键")])
    replayed = _replay(user, key, digest)
    if replayed is not None:
        return replayed
    if not may(user, Action.RECORD_APP_VISITS, assignment):
        raise FieldAppRefused("该任务已取消，不能再记录服务")
    contract = db.session.get(Contract, assignment.contract_id)
    service_type = assignment.service_type
    media, errors = _media_of(user, visit)
    unknown = sorted(set(visit.fields) - set(form_keys(service_type)))
    errors += [error(f"fields.{name}", "该服务类型没有这一项") for name in unknown]
    worker = _worker_of(user, visit, contract)
    if isinstance(worker, dict):
        errors.append(worker)
    if visit.check_out_at <= visit.check_in_at:
        errors.append(error("check_out_at", "签退时间须晚于签到时间", value=visit.check_out_at.isoformat()))
    if errors:
        return VisitOutcome(None, errors=errors)

    check_in, check_out = to_county(visit.check_in_at), to_county(visit.check_out_at)
    subject = db.session.get(Subject, assignment.subject_id)
    columns = TEMPLATE_COLUMNS[service_type]
    keys = {column.header: column.key for column in columns}
    cells = {column.header: _text(column.key, visit.fields.get(column.key)) for column in columns}
    cells.update({
        "任务编号": assignment.number, "服务对象姓名": subject.name, "身份证号": subject.id_number,
        "服务日期": f"{check_in:%Y-%m-%d}", "开始时间": f"{check_in:%H:%M}", "结束时间": f"{check_out:%H:%M}",
        "服务人员工号": worker[0], "服务人员姓名": worker[1],
        "经度": f"{visit.longitude:.6f}", "纬度": f"{visit.latitude:.6f}", "备注": visit.remark or "",
    })
    if "对象签字确认" in cells:
        cells["对象签字确认"] = "是" if visit.signature else "否"
    if check_out.date() != check_in.date():
        return VisitOutcome(None, errors=[error("check_out_at", "签到与签退须在同一天（北京时间）",
                                                value=visit.check_out_at.isoformat())])
    table = pd.DataFrame([cells], index=pd.Index([2], name=EXCEL_ROW), dtype=object)
    today = local_day(utcnow())
    validation, ctx = completion_import.check_rows(contract, service_type, table, today, skip_unstarted=False,
                                                   only=completion_import.OneVisit(assignment.id, worker[0]))
    if not validation.accepted:
        return VisitOutcome(None, errors=[_cell_error(cell, keys) for cell in validation.errors])

    received = utcnow()
    photos = [m for kind, m in media if kind == MediaKind.PHOTO]
    used, hashes = _photo_history(contract, photos, received - timedelta(days=180))
    facts = AppVisitFacts(
        check_in_day=check_in.date(), window=(local_day(assignment.created_at), assignment.due_date),
        device_sent_at=_naive_utc(visit.device_sent_at), received_at=received,
        photos={m.sha256: m.perceptual_hash for m in photos}, used_elsewhere=used, similar_elsewhere=hashes,
        max_clock_skew_minutes=current_app.config["APP_CLOCK_SKEW_MINUTES"])
    extra = app_visit_flags(facts)

    def more_flags(flags: pd.Series) -> pd.Series:
        return flags.map(lambda found: tuple(found or ()) + extra)

    stored = completion_import.store_rows(validation.records, ctx, contract, batch_id=None, entered_by_id=user.id,
                                          source=RecordSource.APP, more_flags=more_flags, narrow=True)
    record = db.session.execute(select(CompletionRecord).where(
        CompletionRecord.assignment_id == assignment.id, CompletionRecord.service_date == check_in.date(),
        CompletionRecord.start_time == f"{check_in:%H:%M}")).scalar_one()
    made = AppVisit(user_id=user.id, idempotency_key=key, request_sha256=digest, assignment_id=assignment.id,
                    record_id=record.id, check_in_at=_naive_utc(visit.check_in_at),
                    check_out_at=_naive_utc(visit.check_out_at), device_sent_at=_naive_utc(visit.device_sent_at),
                    received_at=received, longitude=visit.longitude, latitude=visit.latitude,
                    accuracy_m=visit.accuracy_m, no_signature_reason=(visit.no_signature_reason or None)
                    if not visit.signature else None,
                    media=[{"kind": kind, "sha256": m.sha256} for kind, m in media])
    db.session.add(made)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same key sent twice at once: the other request made the visit
        raise FieldAppRefused("同一 Idempotency-Key 的请求正在处理，请稍后重试") from None
    for kind, m in media:
        db.session.add(VisitMedia(visit_id=made.id, media_id=m.id, sha256=m.sha256, kind=kind))
    record_event("enter", "CompletionRecord", record.id, {
        "assignment": assignment.number, "service_date": f"{check_in:%Y-%m-%d}", "start_time": f"{check_in:%H:%M}",
        "source": RecordSource.APP, "flagged": stored.flagged, "completed_assignments": stored.completed,
    })
    return VisitOutcome(made)


def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # a time without its zone is taken as county time
        return (moment - COUNTY_OFFSET)
    return (moment - moment.utcoffset()).replace(tzinfo=None)


def app_visit_of(record: CompletionRecord) -> AppVisit | None:
    """The app visit that made a record (None for records from files or the form)."""
    return db.session.execute(select(AppVisit).where(AppVisit.record_id == record.id)).scalar_one_or_none()


def visit_media_file(record: CompletionRecord, digest: str) -> MediaFile | None:
    """A photo or the signature of the record's app visit, by SHA-256 (None: not one of its files)."""
    visit = app_visit_of(record)
    if visit is None:
        return None
    return db.session.execute(select(MediaFile).join(VisitMedia, VisitMedia.media_id == MediaFile.id).where(
        VisitMedia.visit_id == visit.id, VisitMedia.sha256 == digest)).scalars().first()


def flags_of(record: CompletionRecord) -> list[Flag]:
    return [Flag(item["code"], item["reason"]) for item in record.anomaly_flags or []]
