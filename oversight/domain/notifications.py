"""What each workflow event tells whom: the notification's kind, Chinese title and body, the page
it links to, and its audience (issue 11).

Pure functions of the records an event concerns, read by attribute (no Flask, no database);
`services.notifications` turns an audience into users and stores one notification each.
An audience respects ownership: a contractor's event reaches only that contractor's users, and
bureau users are chosen by role.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .vocabulary import AppealDecision, CorrectionStatus, NotificationKind, Position, Role

_CONTRACTOR = frozenset({Role.CONTRACTOR})
_STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})

# Which roles each kind can reach (the preferences page offers a user only its role's kinds).
# Bureau users are told by role: a contractor's comment reaches those who score reviews and
# those who settle disputes; an escalation, the admins who handle it. An overdue notice also
# reaches the supervisor who issued it; an upload's outcome, whoever uploaded it.
ROLES_TOLD: dict[NotificationKind, frozenset[str]] = {
    NotificationKind.NOTICE_ISSUED: _CONTRACTOR,
    NotificationKind.NOTICE_OVERDUE: _CONTRACTOR | _STAFF,
    NotificationKind.NOTICE_ESCALATED: frozenset({Role.ADMIN}),
    NotificationKind.REVIEW_PUBLISHED: _CONTRACTOR,
    NotificationKind.REVIEW_COMMENTED: _STAFF,
    NotificationKind.REVIEW_SETTLED: _CONTRACTOR,
    NotificationKind.SPOT_CHECK_RESULT: _CONTRACTOR,
    NotificationKind.CORRECTION_DECIDED: _CONTRACTOR,
    NotificationKind.APPEAL_DECIDED: _CONTRACTOR,
    NotificationKind.IMPORT_FINISHED: _CONTRACTOR | _STAFF,
    NotificationKind.IMPORT_FAILED: _CONTRACTOR | _STAFF,
    NotificationKind.DUE_SOON: _CONTRACTOR,
    NotificationKind.REASSESSMENT_ASSIGNED: _CONTRACTOR,
}


@dataclass(frozen=True)
class Audience:
    """Who is told, among active users: all users of the event's contractor (`contractor_users`),
    bureau users of `roles`, and named users — a named contractor user only while it belongs to
    the event's contractor."""

    contractor_id: int | None = None
    contractor_users: bool = False
    roles: frozenset[str] = frozenset()
    user_ids: tuple[int, ...] = ()
    # The event's county: the bureau users of `roles` told are those whose area covers it.
    county_id: int | None = None


@dataclass(frozen=True)
class Message:
    kind: NotificationKind
    key: str  # one notification per user and key: an event retold adds nothing
    title: str
    body: str
    link: str
    audience: Audience = field(default_factory=Audience)


def county_date(day: date) -> str:
    """A county calendar day as a page writes it: 2026年1月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _contractor(record: Any, *named: int) -> Audience:
    """Every user of the record's contractor (and the named bureau users)."""
    return Audience(record.contract.contractor_id, contractor_users=True, user_ids=named)


def _named(record: Any, *user_ids: int) -> Audience:
    """Only the named users, a contractor's only if it is the record's contractor."""
    return Audience(record.contract.contractor_id, user_ids=user_ids)


# --- rectification notices ----------------------------------------------------------------------


def notice_issued(notice: Any) -> Message:
    """A 整改通知 (or its next round) to the contractor whose record failed the check."""
    again = f"（第{notice.round}轮）" if notice.round > 1 else ""
    return Message(
        NotificationKind.NOTICE_ISSUED, f"notice-issued:{notice.id}",
        f"收到整改通知{notice.number}{again}",
        f"合同 {notice.contract.code} 的抽查复检不合格，请于 {county_date(notice.deadline)}（北京时间）前完成整改并回复。"
        f"\n整改要求：{notice.requirement}",
        f"/spot-checks/notices/{notice.id}", _contractor(notice))


def notice_overdue(notice: Any) -> Message:
    """The deadline passed without an answer: the contractor, and the supervisor who issued it."""
    return Message(
        NotificationKind.NOTICE_OVERDUE, f"notice-overdue:{notice.id}",
        f"整改通知{notice.number}已逾期",
        f"合同 {notice.contract.code} 的整改期限为 {county_date(notice.deadline)}（北京时间），"
        "至今未收到整改情况，请尽快提交。",
        f"/spot-checks/notices/{notice.id}",
        _contractor(notice, notice.issued_by_id))


def notice_escalated(notice: Any, proposal: Any) -> Message:
    """The last round was not accepted: the admins decide what follows, and a deduction is proposed."""
    points = format(-Decimal(proposal.points_centi).scaleb(-2).normalize(), "f")
    return Message(
        NotificationKind.NOTICE_ESCALATED, f"notice-escalated:{notice.id}",
        f"整改通知{notice.number}经{notice.round}轮整改仍不合格",
        f"合同 {notice.contract.code} 的整改通知第{notice.round}轮仍不予认可，已提请管理员处理，"
        f"并建议在 {proposal.quarter} 季度考核中扣 {points} 分（监管人员评分时确认）。",
        f"/spot-checks/notices/{notice.id}", Audience(roles=ROLES_TOLD[NotificationKind.NOTICE_ESCALATED],
                                                           county_id=notice.contract.county_id))


# --- quarterly reviews and annual evaluations ---------------------------------------------------


@dataclass(frozen=True)
class _Result:
    """A review or an evaluation as the messages name it."""

    name: str  # 2025年第3季度考核
    path: str
    key: str  # "review-{}:4", the event's name going into the braces
    score_centi: int


def _review(review: Any) -> _Result:
    year, quarter = review.quarter.split("Q")
    return _Result(f"{year}年第{quarter}季度考核", f"/reviews/{review.id}", f"review-{{}}:{review.id}", review.total_centi)


def _evaluation(evaluation: Any) -> _Result:
    return _Result(f"{evaluation.year}年度绩效评价", f"/evaluations/{evaluation.id}", f"evaluation-{{}}:{evaluation.id}",
                   evaluation.score_centi)


def _published(result: _Result, record: Any) -> Message:
    return Message(
        NotificationKind.REVIEW_PUBLISHED, f"{result.key.format('published')}:{record.published_at:%Y%m%dT%H%M%S}",
        f"合同 {record.contract.code} 的{result.name}结果已发布",
        f"{result.name}结果已发布，得分 {Decimal(result.score_centi).scaleb(-2)}。请在 {county_date(record.comment_deadline)}"
        "（北京时间）前确认或提出异议，逾期未提出视为同意。",
        result.path, _contractor(record))


def _commented(result: _Result, record: Any) -> Message:
    disputed = record.contractor_position == Position.DISAGREE
    verb = "提出异议" if disputed else "确认同意"
    body = f"承接机构对合同 {record.contract.code} 的{result.name}结果{verb}。"
    if record.contractor_comment:
        body += f"\n意见：{record.contractor_comment}"
    if disputed:
        body += "\n请管理员裁定。"
    return Message(NotificationKind.REVIEW_COMMENTED, result.key.format("commented"),
                   f"合同 {record.contract.code} 的{result.name}：承接方{verb}", body, result.path,
                   Audience(roles=ROLES_TOLD[NotificationKind.REVIEW_COMMENTED], county_id=record.contract.county_id))


def _settled(result: _Result, record: Any) -> Message:
    return Message(
        NotificationKind.REVIEW_SETTLED, result.key.format("settled"),
        f"合同 {record.contract.code} 的{result.name}异议已裁定",
        f"对{result.name}结果的异议已裁定。\n裁定意见：{record.settlement}", result.path,
        _contractor(record))


def review_published(review: Any) -> Message:
    """A published quarterly review asks the contractor to agree or disagree by the window's end."""
    return _published(_review(review), review)


def review_commented(review: Any) -> Message:
    return _commented(_review(review), review)


def review_settled(review: Any) -> Message:
    return _settled(_review(review), review)


def evaluation_published(evaluation: Any) -> Message:
    return _published(_evaluation(evaluation), evaluation)


def evaluation_commented(evaluation: Any) -> Message:
    return _commented(_evaluation(evaluation), evaluation)


def evaluation_settled(evaluation: Any) -> Message:
    return _settled(_evaluation(evaluation), evaluation)


# --- checks, appeals, corrections ---------------------------------------------------------------


def spot_check_result(check: Any, appeal_closes: date) -> Message:
    """The re-check's result, once recorded; a failure may be appealed until `appeal_closes`."""
    code = check.contract.code
    if check.passed:
        return Message(NotificationKind.SPOT_CHECK_RESULT, f"spot-check:{check.id}",
                       f"合同 {code} 的一条服务记录抽查复检合格",
                       f"{county_date(check.checked_on)}的抽查复检与上报内容一致。",
                       f"/corrections/records/{check.record_id}", _contractor(check))
    return Message(NotificationKind.SPOT_CHECK_RESULT, f"spot-check:{check.id}",
                   f"合同 {code} 的一条服务记录抽查复检不合格",
                   f"{county_date(check.checked_on)}的抽查复检有 {check.fields_differing} 项与上报内容不一致。"
                   f"如有异议，可在 {county_date(appeal_closes)}（北京时间）前提出申诉。",
                   f"/appeals/checks/{check.id}/new", _contractor(check))


def appeal_decided(appeal: Any) -> Message:
    """The contractor learns whether its appeal overturned the failure."""
    decision = AppealDecision(appeal.decision)
    after = "，相关整改通知已撤销" if decision == AppealDecision.OVERTURNED else ""
    return Message(NotificationKind.APPEAL_DECIDED, f"appeal-decided:{appeal.id}",
                   f"抽查申诉已裁决：{decision.label}",
                   f"合同 {appeal.contract.code} 的抽查申诉裁决为“{decision.label}”{after}。\n"
                   f"裁决理由：{appeal.decision_reason}",
                   f"/appeals/{appeal.id}", _contractor(appeal))


def correction_decided(request: Any) -> Message:
    """The requester (if still of the record's contractor) learns the 更正申请's outcome."""
    status = CorrectionStatus(request.status)
    note = f"\n审核意见：{request.decision_note}" if request.decision_note else ""
    approved = "，服务记录已按申请更正" if status == CorrectionStatus.APPROVED else "，服务记录保持不变"
    return Message(NotificationKind.CORRECTION_DECIDED, f"correction-decided:{request.id}",
                   f"更正申请#{request.id}{status.label}",
                   f"合同 {request.contract.code} 的更正申请#{request.id}{status.label}{approved}。{note}",
                   f"/corrections/{request.id}",
                   _named(request, request.requested_by_id))


# --- completion-log uploads ---------------------------------------------------------------------


def import_done(batch: Any) -> Message | None:
    """An upload's outcome to its uploader: accepted, rejected for errors, or failed; None while
    it is still running, or when nobody uploaded it (the command line)."""
    if batch.uploaded_by_id is None or batch.status not in ("accepted", "rejected", "failed"):
        return None
    link = f"/uploads/batches/{batch.id}"
    only = _named(batch, batch.uploaded_by_id)
    if batch.status == "accepted":
        return Message(NotificationKind.IMPORT_FINISHED, f"import-batch:{batch.id}", f"上传的服务记录 {batch.filename} 已导入",
                       f"合同 {batch.contract.code} 的文件 {batch.filename} 已导入 {batch.rows_accepted:,} 条记录。",
                       link, only)
    if batch.status == "rejected":
        return Message(NotificationKind.IMPORT_FINISHED, f"import-batch:{batch.id}", f"上传的服务记录 {batch.filename} 未通过检查",
                       f"合同 {batch.contract.code} 的文件 {batch.filename}：{batch.message}。"
                       "请按错误清单修改后重新上传。", link, only)
    return Message(NotificationKind.IMPORT_FAILED, f"import-batch:{batch.id}", f"上传的服务记录 {batch.filename} 处理失败",
                   f"合同 {batch.contract.code} 的文件 {batch.filename} 处理失败：{batch.message}", link, only)


# --- reminders ----------------------------------------------------------------------------------


def due_soon(contractor_id: int, count: int, today: date, horizon: date, days: int) -> Message:
    return Message(NotificationKind.DUE_SOON, f"due-soon:{today.isoformat()}", f"{count} 项任务将在 {days} 天内到期",
                   f"截至 {county_date(horizon)}，本机构有 {count} 项任务到期，请及时完成并上传服务记录。",
                   f"/assignments/?status=assigned&due_month={today:%Y-%m}", Audience(contractor_id, contractor_users=True))


def reassessment_assigned(report: Any) -> Message:
    """A reported change of condition issued a re-assessment to the contractor serving the person."""
    assignment = report.assignment
    return Message(NotificationKind.REASSESSMENT_ASSIGNED, f"re-assessment:{assignment.id}",
                   f"收到情况变化复评任务 {assignment.number}",
                   f"合同 {report.contract.code} 的一名服务对象情况发生变化（{county_date(report.reported_on)}报告），"
                   f"请于 {county_date(assignment.due_date)}（北京时间）前完成自理能力复评并上报评估记录。",
                   f"/assignments/{assignment.id}", _contractor(report))


def recipients(audience: Audience, users: list[Any]) -> list[Any]:
    """Those of `users` (active accounts) the audience reaches: never another contractor's user."""
    chosen = []
    for user in users:
        if user.role == Role.CONTRACTOR:
            own = audience.contractor_id is not None and user.contractor_id == audience.contractor_id
            reached = own and (audience.contractor_users or user.id in audience.user_ids)
        else:
            reached = user.role in audience.roles or user.id in audience.user_ids
        if reached:
            chosen.append(user)
    return chosen
