"""Phone callbacks of drawn subjects and the complaints they (or walk-ins) raise (SPEC section 5)."""
from __future__ import annotations

from sqlalchemy import Select, select

from ..clock import utcnow
from ..domain.vocabulary import CallAnswerer, CallbackStatus, CallOutcome, ComplaintSource, ComplaintStatus, label_of
from ..extensions import db
from ..models import Callback, CallbackAttempt, Complaint, CompletionRecord, Contract, DrawItem, FieldWorker, User
from .audit import record_event

CONNECTED = CallOutcome.CONNECTED
MAX_ATTEMPTS = 3
SATISFACTION_LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
SATISFIED_FROM = 3
ATTITUDES = ("热情周到", "较好", "一般", "较差")
NOT_CONFIRMED_TEXT = "回访时服务对象表示未接受过该次服务"


class CallbackError(ValueError):
    """A refused callback step; the message is Chinese, for the user."""


def call_list(draw_id: int) -> Select:
    """The callbacks of a callback draw, in draw order."""
    return (select(Callback).join(DrawItem, Callback.draw_item_id == DrawItem.id)
            .where(DrawItem.draw_id == draw_id).order_by(DrawItem.position))


def _open(callback: Callback) -> None:
    if callback.status != "pending":
        raise CallbackError(f"回访已结束（{label_of(CallbackStatus, callback.status)}）")


def record_attempt(callback: Callback, outcome: str, operator: User) -> CallbackAttempt:
    """One call: 拒访 ends the callback as refused, 空号 as unreachable, and so does a third
    call without an answer."""
    _open(callback)
    if outcome not in CallOutcome.codes():
        raise CallbackError(f"拨打结果应为{'、'.join(CallOutcome.codes())}之一")
    if len(callback.attempts) >= MAX_ATTEMPTS:
        raise CallbackError(f"最多拨打 {MAX_ATTEMPTS} 次")
    if callback.attempts and callback.attempts[-1].outcome == CONNECTED:
        raise CallbackError("上次拨打已接通，请先录入回访结果")
    attempt = CallbackAttempt(outcome=outcome, operator_id=operator.id)
    callback.attempts.append(attempt)
    ended = {"拒访": "refused", "空号": "unreachable"}.get(outcome)
    if ended is None and outcome != CONNECTED and len(callback.attempts) == MAX_ATTEMPTS:
        ended = "unreachable"
    if ended:
        callback.status, callback.completed_at, callback.operator_id = ended, utcnow(), operator.id
    db.session.flush()
    return attempt


def record_answers(callback: Callback, *, confirmed: bool, satisfaction: int, attitude: str | None,
                   complaint: str | None, operator: User, answered_by: str | None = None) -> Complaint | None:
    """The recipient's answers after a call got through, and who answered (`CallAnswerer`; the
    page always asks, None stores 未记录). A complaint, or a recipient who says the visit never
    happened, opens a complaint against the record's worker for the next draw."""
    _open(callback)
    if not callback.attempts or callback.attempts[-1].outcome != CONNECTED:
        raise CallbackError("电话接通后才能录入回访结果")
    if confirmed not in (True, False):
        raise CallbackError("请选择服务对象是否确认接受过该次服务（服务真实性）")
    if satisfaction not in SATISFACTION_LEVELS:
        raise CallbackError("满意度应为 1 到 5 级")
    if answered_by is not None and answered_by not in CallAnswerer.codes():
        raise CallbackError(f"接听人应为{'、'.join(CallAnswerer.labels().values())}之一")
    if attitude and attitude not in ATTITUDES:
        raise CallbackError(f"服务态度应为{'、'.join(ATTITUDES)}之一")
    text = (complaint or "").strip()
    callback.service_confirmed, callback.satisfaction, callback.answered_by = confirmed, satisfaction, answered_by
    callback.attitude, callback.complaint = attitude or None, text or None
    callback.status, callback.completed_at, callback.operator_id = "answered", utcnow(), operator.id
    raised = None
    if text or not confirmed:
        raised = Complaint(source="callback", callback_id=callback.id, contract_id=callback.contract_id,
                           record_id=callback.record_id, worker_id=callback.record.worker_id,
                           text=text or NOT_CONFIRMED_TEXT, status="open", created_by_id=operator.id)
        db.session.add(raised)
    db.session.flush()
    return raised


def reveal_phone(callback: Callback) -> str | None:
    """The subject's full phone number for the call; every reveal is audited."""
    record_event("view_personal_data", "Subject", callback.subject_id,
                 {"fields": ["phone"], "callback_id": callback.id})
    return callback.subject.phone


def file_complaint(contract: Contract, *, text: str, user: User, record_id: int | None = None,
                   worker_id: int | None = None, source: str = "walk_in") -> Complaint:
    """A complaint against a record or a worker of the contract; it targets the next spot-check draw."""
    if not text or not text.strip():
        raise CallbackError("请填写投诉内容")
    if source not in ComplaintSource.codes():
        raise CallbackError("未知的投诉来源")
    if record_id is None and worker_id is None:
        raise CallbackError("请指明被投诉的服务记录或服务人员")
    if record_id is not None:
        record = db.session.get(CompletionRecord, record_id)
        if record is None or record.contract_id != contract.id:
            raise CallbackError(f"服务记录 {record_id} 不属于合同 {contract.code}")
        worker_id = worker_id or record.worker_id
    worker = db.session.get(FieldWorker, worker_id)
    if worker is None or worker.contractor_id != contract.contractor_id:
        raise CallbackError("该服务人员不属于本合同的承接机构")
    complaint = Complaint(source=source, contract_id=contract.id, record_id=record_id, worker_id=worker_id,
                          text=text.strip(), status="open", created_by_id=user.id)
    db.session.add(complaint)
    db.session.flush()
    return complaint


def worker_by_no(contract: Contract, worker_no: str) -> FieldWorker:
    """The contract's contractor's worker with this 工号."""
    worker = db.session.execute(select(FieldWorker).where(
        FieldWorker.contractor_id == contract.contractor_id, FieldWorker.worker_no == worker_no.strip())).scalar()
    if worker is None:
        raise CallbackError(f"承接机构没有工号为 {worker_no} 的服务人员")
    return worker


def close_complaint(complaint: Complaint) -> None:
    """Close a complaint that needs no (further) check."""
    if complaint.status == "closed":
        raise CallbackError("投诉已关闭")
    complaint.status = "closed"
    db.session.flush()


COMPLAINT_UNCLOSED = "unclosed"  # a list filter beside the statuses: open or targeted


def complaints_query(status: str | None = None, contract_id: int | None = None) -> Select:
    """Complaints, newest first."""
    stmt = select(Complaint)
    if status in ComplaintStatus.codes():
        stmt = stmt.where(Complaint.status == status)
    elif status == COMPLAINT_UNCLOSED:
        stmt = stmt.where(Complaint.status != "closed")
    if contract_id:
        stmt = stmt.where(Complaint.contract_id == contract_id)
    return stmt.order_by(Complaint.id.desc())
