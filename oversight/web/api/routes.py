"""The REST API `/api/v1/…` (flask-smorest): the field app's and third-party field apps' way in.

Bearer tokens only (`Authorization: Bearer ovt_…`, made and revoked under 接口令牌): the session
cookie is not read here, so the API is exempt from CSRF. Ownership is the pages' own: what the
caller may not see answers 404, an unknown or revoked token 401. Errors are JSON in the uploads'
row/column/field/value/reason form, reasons in Chinese. Rate limits per token (or address).
"""
from __future__ import annotations

import hashlib

from flask import current_app, g, jsonify, request
from flask_limiter import RateLimitExceeded
from flask_smorest import Api, Blueprint, abort
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from ...adapters.files import FileStoreError, uploads_store
from ...clock import county_today
from ...domain import self_care
from ...domain.completion_log import CARE_ITEMS, SURVEY_CONCLUSIONS, TEMPLATE_COLUMNS
from ...domain.identifiers import mask_id_number
from ...domain.vocabulary import AssignmentStatus, BatchStatus, ServiceType, label_of
from ...extensions import csrf, db, limiter
from ...models import AppVisit, Assignment, CompletionRecord, Contract, FieldWorker, UploadBatch, User
from ...policy import Action, may, owns, sees_assignment, sees_county
from ...services import completion_import, field_app, row_security
from ...services.areas import county_ids_under
from ...services.audit import Actor, reset_actor, set_actor
from ...tasks import import_later
from . import schemas

PREFIX = "/api/v1"
WRITES = ("POST", "PUT", "PATCH", "DELETE")

bp = Blueprint("api", __name__, url_prefix=PREFIX, description="外勤服务记录接口")

_STATUS_MESSAGES = {
    400: "请求无效", 401: "未提供有效的接口令牌，或令牌已撤销", 403: "无权进行此操作", 404: "对象不存在",
    405: "不支持该请求方法", 409: "请求冲突", 413: "请求内容过大", 415: "不支持的内容类型",
    422: "提交的数据未通过检查", 429: "请求过于频繁，请稍后再试", 500: "服务器内部错误", 503: "服务暂不可用",
}
# marshmallow's messages as Chinese reasons (the others keep their text after a Chinese lead).
_REASONS = {
    "Missing data for required field.": "必填",
    "Not a valid integer.": "须为整数",
    "Not a valid number.": "须为数字",
    "Not a valid string.": "须为文本",
    "Not a valid boolean.": "须为 true 或 false",
    "Not a valid datetime.": "须为 ISO 8601 时间",
    "Not a valid aware datetime.": "须为含时区的 ISO 8601 时间",
    "Not a valid date.": "须为日期（YYYY-MM-DD）",
    "Not a valid list.": "须为列表",
    "Not a valid mapping type.": "须为对象",
    "Field may not be null.": "不能为空（null）",
    "Unknown field.": "未知字段",
    "Invalid input type.": "输入类型不正确",
    "Special numeric values (nan or infinity) are not permitted.": "不能为 NaN 或无穷大",
}


class OversightApi(Api):
    """flask-smorest's Api without its app-wide JSON error handler: the pages keep their Chinese
    error pages; the API blueprint answers JSON errors of its own, documented as `ApiError`."""

    ERROR_SCHEMA = schemas.ApiError

    def _register_error_handlers(self):
        return None


api = OversightApi()


def _reason(message: str) -> str:
    if message in _REASONS:
        return _REASONS[message]
    if message.startswith("Must be one of"):
        return "不在可选值之内：" + message.removeprefix("Must be one of:").strip().rstrip(".")
    if message.startswith(("Must be greater", "Must be less", "Must be at least", "Must be between")):
        return "超出允许范围（" + message + "）"
    if message.startswith(("Length must", "Shorter than", "Longer than")):
        return "长度不符（" + message + "）"
    return message if any("\u4e00" <= ch <= "\u9fff" for ch in message) else f"格式不正确（{message}）"


def _flatten(messages, prefix: str = "") -> list[dict]:
    """webargs' nested {location: {field: [messages]}} as a list of error items."""
    found = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if not prefix else (f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}")
            found += _flatten(value, name)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(item, str) for item in messages):
            found += [field_app.error(prefix, _reason(item)) for item in messages]
        else:
            for item in messages:
                found += _flatten(item, prefix)
    else:
        found.append(field_app.error(prefix, _reason(str(messages))))
    return found


def error_response(code: int, message: str | None = None, errors: list[dict] | None = None):
    body = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": message or _STATUS_MESSAGES.get(code, "错误"),
            "errors": errors or []}
    response = jsonify(body)
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="oversight"'
    return response


def _http_error(error: HTTPException):
    db.session.rollback()
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = []
    if "messages" in data:  # webargs' validation errors
        for messages in data["messages"].values():  # by location: json, query, headers, form, files
            errors += _flatten(messages)
    message = data.get("message") if isinstance(data.get("message"), str) else None
    if message and not any("\u4e00" <= ch <= "\u9fff" for ch in message):
        message = None
    return error_response(code, message, data.get("errors") or errors)


def _server_error(error: Exception):
    if isinstance(error, HTTPException):
        return _http_error(error)
    current_app.logger.exception("API error")
    db.session.rollback()
    return error_response(500)


def _store_failed(error: FileStoreError):
    db.session.rollback()
    return error_response(503, str(error))


def _rate_limited(error: RateLimitExceeded):
    return error_response(429, f"请求过于频繁（限 {error.description}），请稍后再试")


for _code in _STATUS_MESSAGES:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(RateLimitExceeded, _rate_limited)
bp.register_error_handler(FileStoreError, _store_failed)
bp.register_error_handler(Exception, _server_error)


def _rate_key() -> str:
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "api-address:" + (request.remote_addr or "")


def _setting(name: str):
    return lambda: current_app.config[name]


def _address() -> str:
    return request.remote_addr or ""


def _token_refused(response) -> bool:
    """A token was sent and refused (401): a guess, counted against the address."""
    return response.status_code == 401 and bool(request.headers.get("Authorization"))


limiter.limit(_setting("API_RATE_LIMIT"), key_func=_rate_key, scope="api")(bp)
# Refused tokens per address: checked before the token is looked at, so that past the limit every
# request from the address answers 429 — a valid guess as well, which would otherwise stand out.
limiter.limit(_setting("API_BAD_TOKENS_PER_ADDRESS"), key_func=_address, scope="api-bad-token",
              deduct_when=_token_refused)(bp)
limiter.limit(_setting("API_WRITE_RATE_LIMIT"), key_func=_rate_key, scope="api-write",
              exempt_when=lambda: request.method not in WRITES)(bp)
csrf.exempt(bp)


@bp.before_request
def _authenticate():
    """The bearer token's user, or 401; the audit log names that user."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = field_app.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return error_response(401)
    g.api_user = user
    row_security.bind_user(user)
    earlier = g.pop("audit_token", None)
    if earlier is not None:
        reset_actor(earlier)
    g.audit_token = set_actor(Actor(user.id, user.username, request.remote_addr))
    return None


def caller() -> User:
    return g.api_user


def caller_sees_county(county_id: int | None) -> bool:
    """Whether a row of `county_id` is of the counties the caller's area covers (a token of one
    county's supervisor reads nothing of another county's, as its pages do not)."""
    if "api_county_ids" not in g:
        g.api_county_ids = county_ids_under(caller().area_id)
    return sees_county(g.api_county_ids, county_id)


# --- what the caller is ---------------------------------------------------------------------


@bp.route("/me")
@bp.response(200, schemas.Me)
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def me():
    """The caller's account."""
    user = caller()
    worker = db.session.get(FieldWorker, user.field_worker_id) if user.field_worker_id else None
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
            "contractor_id": user.contractor_id, "worker_no": worker.worker_no if worker else None}


# --- assignments ----------------------------------------------------------------------------

_CHOICES = {
    "survey_conclusion": list(SURVEY_CONCLUSIONS), "conclusion": list(self_care.CONCLUSIONS),
    "care_items": list(CARE_ITEMS), **{key: ["能", "不能"] for key in self_care.ITEM_KEYS},
}


def _form_fields(service_type: str) -> list[dict]:
    keys = set(field_app.form_keys(service_type))
    return [{"key": c.key, "header": c.header, "required": c.required, "note": c.note, "choices": _CHOICES.get(c.key, [])}
            for c in TEMPLATE_COLUMNS[service_type] if c.key in keys]


def _assignment_out(assignment: Assignment, visits: int) -> dict:
    subject = assignment.subject
    return {
        "id": assignment.id, "number": assignment.number, "contract_code": assignment.contract.code,
        "service_type": assignment.service_type, "service_label": label_of(ServiceType, assignment.service_type),
        "status": assignment.status, "status_label": label_of(AssignmentStatus, assignment.status),
        "due_date": assignment.due_date, "required_visits": assignment.required_visits, "visits_recorded": visits,
        "worker_no": assignment.worker.worker_no if assignment.worker else None,
        "subject": {"name": subject.name, "id_number": mask_id_number(subject.id_number),
                    "township": subject.township, "village": subject.village},
        "form_fields": _form_fields(assignment.service_type),
    }


def _visit_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(select(CompletionRecord.assignment_id, func.count()).where(
        CompletionRecord.assignment_id.in_(ids)).group_by(CompletionRecord.assignment_id)).all())


def _assignment_or_404(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not sees_assignment(caller(), assignment) or not caller_sees_county(assignment.county_id):
        abort(404)
    return assignment


@bp.route("/assignments")
@bp.arguments(schemas.AssignmentQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.AssignmentPage)
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def assignments(page: int, per_page: int, status: str | None = None):
    """The caller's assignments, newest due first: a field worker's those given to it, a
    contractor's its contracts'."""
    stmt = field_app.visible_assignments(caller())
    if status:
        stmt = stmt.where(Assignment.status == status)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    counts = _visit_counts([row.id for row in rows])
    return {"items": [_assignment_out(row, counts.get(row.id, 0)) for row in rows], "page": page,
            "per_page": per_page, "total": total}


@bp.route("/assignments/<int:assignment_id>")
@bp.response(200, schemas.AssignmentOut)
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(404, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def assignment(assignment_id: int):
    """One assignment the caller sees, with its service form's fields."""
    found = _assignment_or_404(assignment_id)
    return _assignment_out(found, _visit_counts([found.id]).get(found.id, 0))


# --- visits -------------------------------------------------------------------------------


def _visit_out(visit: AppVisit, replayed: bool = False) -> dict:
    record = visit.record
    return {
        "id": visit.id, "idempotency_key": visit.idempotency_key, "assignment_id": visit.assignment_id,
        "record_id": visit.record_id, "source": record.source, "service_date": record.service_date,
        "start_time": record.start_time, "end_time": record.end_time, "check_in_at": visit.check_in_at,
        "check_out_at": visit.check_out_at, "received_at": visit.received_at,
        "photos": [item["sha256"] for item in visit.media if item["kind"] == "photo"],
        "signature": next((item["sha256"] for item in visit.media if item["kind"] == "signature"), None),
        "no_signature_reason": visit.no_signature_reason, "replayed": replayed,
    }


@bp.route("/visits", methods=["POST"])
@bp.arguments(schemas.IdempotencyHeader, location="headers", as_kwargs=True)
@bp.arguments(schemas.VisitIn)
@bp.response(201, schemas.VisitOut)
@bp.alt_response(200, schema=schemas.VisitOut, description="重试：同一 Idempotency-Key 已生成的记录")
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(403, schema=schemas.ApiError)
@bp.alt_response(404, schema=schemas.ApiError)
@bp.alt_response(409, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def submit_visit(body: dict, idempotency_key: str):
    """Record one visit (check-in/out, place, service form, photos, signature). The service form
    is checked by the completion log's rules; a retry with the same Idempotency-Key answers the
    visit made the first time (200, `replayed`), never a second record."""
    user = caller()
    if not may(user, Action.RECORD_APP_VISITS):
        abort(403, message="该账户不能记录服务")
    assignment = _assignment_or_404(body["assignment_id"])
    visit = field_app.VisitInput(
        assignment_id=assignment.id, check_in_at=body["check_in_at"], check_out_at=body["check_out_at"],
        longitude=body["longitude"], latitude=body["latitude"], accuracy_m=body.get("accuracy_m"),
        device_sent_at=body.get("device_sent_at"), worker_no=body.get("worker_no"), fields=body.get("fields_") or {},
        remark=body.get("remark"), photos=body.get("photos") or [], signature=body.get("signature"),
        no_signature_reason=body.get("no_signature_reason"))
    sent = request.get_json(silent=True)
    # The device's send time differs on every retry; the visit itself is what must match.
    digest = field_app.request_digest({k: v for k, v in sent.items() if k != "device_sent_at"}
                                      if isinstance(sent, dict) else sent)
    try:
        outcome = field_app.record_visit(user, assignment, visit, idempotency_key, digest)
    except field_app.FieldAppRefused as refused:
        db.session.rollback()
        abort(409, message=str(refused))
    if outcome.errors:
        db.session.rollback()
        abort(422, message="服务记录未通过检查，未保存", errors=outcome.errors)
    if outcome.replayed:
        return _visit_out(outcome.visit, replayed=True), 200
    db.session.commit()
    return _visit_out(outcome.visit), 201


@bp.route("/visits/<int:visit_id>")
@bp.response(200, schemas.VisitOut)
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(404, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def visit(visit_id: int):
    """A visit recorded in the app, if the caller sees its assignment."""
    found = db.session.get(AppVisit, visit_id)
    if found is None:
        abort(404)
    _assignment_or_404(found.assignment_id)
    return _visit_out(found)


def _multipart(schema) -> dict:
    """One multipart request body of form fields and a file (webargs reads them apart)."""
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


# --- photos and signatures ------------------------------------------------------------------


@bp.route("/media", methods=["POST"])
@bp.arguments(schemas.MediaForm, location="form")
@bp.arguments(schemas.FileUpload, location="files")
@bp.doc(requestBody=_multipart(schemas.MediaUpload))
@bp.response(201, schemas.MediaOut)
@bp.alt_response(200, schema=schemas.MediaOut, description="同一文件已上传过")
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(403, schema=schemas.ApiError)
@bp.alt_response(413, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def upload_media(form: dict, files: dict):
    """A photo or the recipient's signature (JPEG, PNG or WebP), kept under its SHA-256; send it
    before the visit that names it. The same file again answers 200."""
    user = caller()
    if not may(user, Action.RECORD_APP_VISITS):
        abort(403, message="该账户不能上传现场照片或签名")
    upload = files["file"]
    data = upload.read() if hasattr(upload, "read") else b""
    try:
        media, created = field_app.store_media(user, form["kind"], data, uploads_store())
    except field_app.FieldAppRefused as refused:
        db.session.rollback()
        abort(422, message=str(refused), errors=[field_app.error("file", str(refused))])
    db.session.commit()
    out = {"sha256": media.sha256, "kind": media.kind, "content_type": media.content_type,
           "size_bytes": media.size_bytes}
    return out, 201 if created else 200


# --- completion logs --------------------------------------------------------------------------


def _batch_out(batch: UploadBatch) -> dict:
    return {"id": batch.id, "contract_id": batch.contract_id, "service_type": batch.service_type,
            "filename": batch.filename, "status": batch.status, "status_label": label_of(BatchStatus, batch.status),
            "rows_total": batch.rows_total, "rows_processed": batch.rows_processed,
            "rows_accepted": batch.rows_accepted, "error_count": batch.error_count,
            "errors": [{**item, "field": item.get("column", ""), "value": str(item.get("value", "") or "")}
                       for item in (batch.errors or [])[:1000]],
            "message": batch.message}


@bp.route("/uploads", methods=["POST"])
@bp.arguments(schemas.UploadForm, location="form")
@bp.arguments(schemas.FileUpload, location="files")
@bp.doc(requestBody=_multipart(schemas.LogUpload))
@bp.response(202, schemas.BatchOut)
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(403, schema=schemas.ApiError)
@bp.alt_response(404, schema=schemas.ApiError)
@bp.alt_response(413, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def upload_log(form: dict, files: dict):
    """A completion log (.xlsx or .csv of the template), queued for import as on the upload page;
    poll `GET /uploads/{id}`."""
    user = caller()
    if not may(user, Action.ENTER_RECORDS):
        abort(403, message="该账户不能上传服务记录")
    contract = db.session.get(Contract, form["contract_id"])
    if contract is None or not owns(user, contract.contractor_id) or not caller_sees_county(contract.county_id):
        abort(404)
    upload = files["file"]
    data = upload.read() if hasattr(upload, "read") else b""
    try:
        batch = completion_import.start_import(contract, form["service_type"], data,
                                               getattr(upload, "filename", "") or "upload.csv", user, uploads_store())
    except completion_import.ImportRefused as refused:
        db.session.rollback()
        abort(422, message=str(refused), errors=[field_app.error("file", str(refused))])
    db.session.commit()
    if batch.status == "pending":
        import_later(batch.id, county_today())
        db.session.refresh(batch)
    return _batch_out(batch), 202


@bp.route("/uploads/<int:batch_id>")
@bp.response(200, schemas.BatchOut)
@bp.alt_response(401, schema=schemas.ApiError)
@bp.alt_response(404, schema=schemas.ApiError)
@bp.alt_response(429, schema=schemas.ApiError)
def upload_status(batch_id: int):
    """An uploaded log's progress and, once rejected, its refused cells (Excel row, column, reason)."""
    batch = db.session.get(UploadBatch, batch_id)
    contract = db.session.get(Contract, batch.contract_id) if batch is not None else None
    if contract is None or not owns(caller(), contract.contractor_id) or not caller_sees_county(contract.county_id):
        abort(404)
    return _batch_out(batch)


def register_api(app) -> None:
    """The API blueprint and its OpenAPI document at /api/v1/openapi.json."""
    app.config.setdefault("API_TITLE", "Oversight 履约监管 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "servers": [{"url": "/"}],
    })
    api.init_app(app)
    api.register_blueprint(bp)
