"""Spot checks: assign drawn records, record the blind re-check, compare, and follow a failure
through its rectification notice (SPEC section 5)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select

from ..adapters.files import FileStore
from ..clock import local_day, local_day_of, utcnow
from ..config import Defaults
from ..domain.attachments import EXTENSIONS, AttachmentRefused
from ..domain.comparison import CARE_VISIT, HOUSEHOLD_SURVEY, ComparisonError, compare_record
from ..domain.self_care import ITEM_KEYS
from ..domain.vocabulary import CheckMethod, NoticeOutcome, NoticeStatus
from ..extensions import db
from ..domain.rectification import RectificationError
from ..models import (
    Attachment,
    CompletionRecord,
    DrawItem,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
    User,
)
from ..policy import Action, may
from . import attachments
from .attachments import Upload
from .draws import SPOT_CHECK
from .rectification import RectificationRules, follow_up

# The default limits (settings ATTACHMENT_MAX_BYTES, ATTACHMENT_MAX_FILES); the service reads the app's.
MAX_ATTACHMENT_BYTES = Defaults.ATTACHMENT_MAX_BYTES
MAX_ATTACHMENTS = Defaults.ATTACHMENT_MAX_FILES
ATTACHMENT_EXTENSIONS = EXTENSIONS

class SpotCheckError(ValueError):
    """A refused spot-check step; the message is Chinese, for the user."""




def reported_values(record: CompletionRecord) -> dict:
    """The contractor's values in the comparison's keys (a stored record is a visit that happened)."""
    if record.service_type == HOUSEHOLD_SURVEY:
        keys = ("household_size", "annual_income_fen", "financial_assets_fen", "survey_conclusion")
        return {key: getattr(record, key) for key in keys}
    if record.service_type == CARE_VISIT:
        items = [item for item in (record.care_items or "").split("、") if item]
        return {"visit_happened": True, "care_items": frozenset(items)}
    return {key: getattr(record, key) for key in ITEM_KEYS}


def _spot_check_item(item: DrawItem) -> None:
    if item.draw.purpose != SPOT_CHECK:
        raise SpotCheckError("该记录属于电话回访抽样，不是抽查复检")


def item_check(item_id: int) -> SpotCheck | None:
    """The spot check recorded for a drawn item, if any."""
    return db.session.execute(select(SpotCheck).where(SpotCheck.draw_item_id == item_id)).scalar_one_or_none()


def assign_items(draw: SamplingDraw, item_ids: list[int], assignee: User) -> int:
    """Give drawn, not yet checked items of a spot-check draw to a supervisor; returns how many."""
    if draw.purpose != SPOT_CHECK:
        raise SpotCheckError("电话回访抽样不分派复检")
    if not may(assignee, Action.RECORD_SPOT_CHECKS) or not assignee.is_active:
        raise SpotCheckError("只能分派给在岗的监管人员")
    chosen = [item for item in draw.items if item.id in set(item_ids)]
    if not chosen:
        raise SpotCheckError("请选择要分派的记录")
    checked = set(db.session.execute(select(SpotCheck.draw_item_id).where(
        SpotCheck.draw_item_id.in_([item.id for item in chosen]))).scalars())
    changed = 0
    for item in chosen:
        if item.id not in checked and item.assigned_to_id != assignee.id:
            item.assigned_to_id = assignee.id
            changed += 1
    db.session.flush()
    return changed


def pending_items(assigned_to_id: int | None = None) -> Select:
    """Drawn spot-check items without a recorded check, oldest draw first."""
    stmt = (select(DrawItem).join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
            .outerjoin(SpotCheck, SpotCheck.draw_item_id == DrawItem.id)
            .where(SamplingDraw.purpose == SPOT_CHECK, SpotCheck.id.is_(None)))
    if assigned_to_id is not None:
        stmt = stmt.where(DrawItem.assigned_to_id == assigned_to_id)
    return stmt.order_by(SamplingDraw.id, DrawItem.position)


def add_attachments(check: SpotCheck, uploads: list[Upload], store: FileStore,
                    user: User | None = None) -> list[Attachment]:
    """Check every file first, then store them under attachments/<check id>/ (FileStoreError
    when the store cannot take them)."""
    try:
        return attachments.attach_all(check, uploads, user, store)
    except AttachmentRefused as error:
        raise SpotCheckError(str(error)) from None


def record_spot_check(item: DrawItem, *, checker: User, method: str, checked_on: date, values: dict,
                      note: str | None, uploads: list[Upload], store: FileStore, today: date) -> SpotCheck:
    """Save the blind re-check of a drawn record, and its comparison with what was reported."""
    _spot_check_item(item)
    if item_check(item.id) is not None:
        raise SpotCheckError("该记录已复检，不能重复录入")
    if not may(checker, Action.RECORD_SPOT_CHECKS):
        raise SpotCheckError("只有监管人员可以录入复检")
    if item.assigned_to_id not in (None, checker.id) and not may(checker, Action.RECHECK_ITEMS_OF_OTHERS):
        raise SpotCheckError("该记录已分派给其他监管人员")
    if method not in CheckMethod.codes():
        raise SpotCheckError(f"复核方式应为{'、'.join(CheckMethod.codes())}之一")
    record = item.record
    if checked_on > today:
        raise SpotCheckError("复核日期不能晚于今天")
    if checked_on < record.service_date:
        raise SpotCheckError(f"复核日期不能早于服务日期 {record.service_date}")
    rechecked = {key: value for key, value in values.items() if value is not None}
    try:
        comparison = compare_record(record.service_type, reported_values(record), rechecked)
    except ComparisonError as error:
        raise SpotCheckError(str(error)) from None
    try:
        attachments.check_uploads(uploads)
    except AttachmentRefused as error:
        raise SpotCheckError(str(error)) from None
    check = SpotCheck(
        draw_item_id=item.id, record_id=record.id, contract_id=record.contract_id, checker_id=checker.id,
        method=method, checked_on=checked_on, note=note or None,
        values={key: sorted(value) if isinstance(value, (set, frozenset, list)) else value
                for key, value in rechecked.items()},
        comparison=comparison.as_dict(), fields_compared=comparison.compared,
        fields_differing=comparison.differing, passed=comparison.passed,
    )
    db.session.add(check)
    db.session.flush()
    if uploads:
        add_attachments(check, uploads, store, checker)
    return check


def notice_of(check: SpotCheck) -> RectificationNotice | None:
    """The check's notice in its latest round."""
    return db.session.execute(select(RectificationNotice).where(
        RectificationNotice.spot_check_id == check.id).order_by(RectificationNotice.round.desc()).limit(1)
    ).scalar_one_or_none()


def issue_notice(check: SpotCheck, *, deadline: date, requirement: str, issuer: User,
                 today: date) -> RectificationNotice:
    """整改通知 for a failed check: the contractor sees it, with the failed fields, at once."""
    if check.passed:
        raise SpotCheckError("复检合格，无需整改")
    if notice_of(check) is not None:
        raise SpotCheckError("该抽查已发出整改通知")
    if deadline <= today:
        raise SpotCheckError("整改期限应晚于今天")
    if not requirement or not requirement.strip():
        raise SpotCheckError("请填写整改要求")
    notice = RectificationNotice(spot_check_id=check.id, contract_id=check.contract_id, issued_by_id=issuer.id,
                                 deadline=deadline, requirement=requirement.strip(), status="open")
    db.session.add(notice)
    db.session.flush()
    return notice


def respond_notice(notice: RectificationNotice, *, response: str, user: User, uploads: list[Upload] = (),
                   store: FileStore | None = None) -> None:
    """The contractor's answer, with its evidence files; it may be revised (and files added)
    until the notice is closed. A refused file refuses the answer too."""
    if notice.status == "closed":
        raise SpotCheckError("整改通知已关闭，不能再回复")
    if not response or not response.strip():
        raise SpotCheckError("请填写整改情况")
    try:
        attachments.attach_all(notice, list(uploads), user, store)
    except AttachmentRefused as error:
        raise SpotCheckError(str(error)) from None
    notice.response, notice.responded_at, notice.responded_by_id = response.strip(), utcnow(), user.id
    notice.status = "responded"
    db.session.flush()


CLOSING_OUTCOMES = (NoticeOutcome.ACCEPTED, NoticeOutcome.NOT_ACCEPTED)  # withdrawn only by an appeal


def close_notice(notice: RectificationNotice, *, outcome: str, note: str | None, user: User,
                 today: date | None = None, reissue_deadline: date | None = None,
                 rules: RectificationRules = RectificationRules()) -> RectificationNotice | None:
    """The supervisor's closing: accepted (needs the contractor's answer) or not accepted, which
    reissues the notice as its next round (returned) or, after the last, escalates it."""
    if notice.status == "closed":
        raise SpotCheckError("整改通知已关闭")
    if outcome not in CLOSING_OUTCOMES:
        raise SpotCheckError("请选择整改结论")
    if outcome == "accepted" and notice.status != "responded":
        raise SpotCheckError("承接机构尚未回复整改情况，不能认定整改合格")
    notice.status, notice.outcome, notice.closing_note = "closed", outcome, (note or "").strip() or None
    notice.closed_at, notice.closed_by_id = utcnow(), user.id
    db.session.flush()
    if outcome != "not_accepted":
        return None
    try:
        return follow_up(notice, user, today=today, reissue_deadline=reissue_deadline, rules=rules)
    except RectificationError as error:
        raise SpotCheckError(str(error)) from None


def notice_overdue(notice: RectificationNotice, today: date) -> bool:
    """Not closed, past its deadline, and not answered by the deadline (an answer in time waits
    for the supervisor, not for the contractor)."""
    answered_in_time = notice.responded_at is not None and local_day(notice.responded_at) <= notice.deadline
    return notice.status != "closed" and notice.deadline < today and not answered_in_time


def overdue_notice_condition(today: date):
    """`notice_overdue` as a SQL condition on notices, for lists and counts."""
    answered_in_time = (RectificationNotice.responded_at.is_not(None)
                        & (local_day_of(RectificationNotice.responded_at) <= RectificationNotice.deadline))
    return (RectificationNotice.status != "closed") & (RectificationNotice.deadline < today) & ~answered_in_time


def closed_on_time(notice: RectificationNotice) -> bool:
    """Closed as rectified no later than the deadline (a bureau calendar day)."""
    return (notice.status == "closed" and notice.outcome == "accepted" and notice.closed_at is not None
            and local_day(notice.closed_at) <= notice.deadline)


NOTICE_UNCLOSED = "unclosed"  # a list filter beside the statuses: open or responded


def notices_query(contract_ids: Select | None = None, status: str | None = None,
                  overdue_on: date | None = None) -> Select:
    """Notices, nearest deadline first; scoped to contracts when given, of a status (or
    `NOTICE_UNCLOSED`), and only those overdue on `overdue_on` when given."""
    stmt = select(RectificationNotice)
    if contract_ids is not None:
        stmt = stmt.where(RectificationNotice.contract_id.in_(contract_ids))
    if status in NoticeStatus.codes():
        stmt = stmt.where(RectificationNotice.status == status)
    elif status == NOTICE_UNCLOSED:
        stmt = stmt.where(RectificationNotice.status != "closed")
    if overdue_on is not None:
        stmt = stmt.where(overdue_notice_condition(overdue_on))
    return stmt.order_by(RectificationNotice.status == "closed", RectificationNotice.deadline,
                         RectificationNotice.id)
