"""Notifications of workflow events: stored in-app at once, e-mailed later from an outbox.

Each service where an event happens calls one function here (`notice_issued(notice)` …) inside
its transaction; the texts and audiences are `domain.notifications`. A notification's e-mail is
`pending` when the deployment has a mail server, the user an address and the kind is one the
user wants by e-mail, else `skipped` with the reason. `deliver_pending_emails` sends the pending
ones in transactions of their own — from `flask send-notifications` or a periodic worker task —
claiming each row before it talks to the server, so that two runs never send one twice.
"""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from ..clock import local_day, utcnow
from ..domain import notifications as messages
from ..domain.appeals import appeal_deadline
from ..domain.notifications import Message, recipients
from ..domain.vocabulary import EmailStatus, NotificationKind, Role
from ..extensions import db
from ..models import Area, Notification, NotificationPreference, User
from .calendar import working_calendar
from .mailer import SmtpSettings, send_email

# A row left `sending` this long was claimed by a run that died mid-send: it is tried again
# (the server may have taken it; a second copy is better than none).
SENDING_TIMEOUT = timedelta(minutes=15)
ERROR_KEPT = 500  # characters of the last failure kept on the row

NO_ADDRESS = "用户未填写邮箱"
NOT_WANTED = "用户未选择接收此类邮件"
NO_SERVER = "未配置邮件服务器"
INACTIVE = "用户已停用"


# --- storing ------------------------------------------------------------------------------------


def _candidates(audience: messages.Audience) -> list[User]:
    """Active users who may be in the audience; `recipients` decides."""
    conditions = []
    if audience.contractor_id is not None:
        conditions.append(User.contractor_id == audience.contractor_id)
    if audience.roles:
        told = User.role.in_(audience.roles)
        if audience.county_id is not None:  # the county's users and those of its city and province
            told = and_(told, User.area_id.in_(area_and_ancestor_ids(audience.county_id)))
        conditions.append(told)
    if audience.user_ids:
        conditions.append(User.id.in_(audience.user_ids))
    if not conditions:
        return []
    return list(db.session.execute(select(User).where(User.is_active_account.is_(True), or_(*conditions))
                                   .order_by(User.id)).scalars())


def area_and_ancestor_ids(area_id: int) -> list[int]:
    ids, current = [], db.session.get(Area, area_id)
    while current is not None:
        ids.append(current.id)
        current = db.session.get(Area, current.parent_id) if current.parent_id else None
    return ids


def email_choices(user_id: int) -> dict[str, bool]:
    """{kind: wants it by e-mail} for every kind; a kind never chosen is e-mailed."""
    chosen = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.email).where(
        NotificationPreference.user_id == user_id)).all())
    return {kind.value: chosen.get(kind.value, True) for kind in NotificationKind}


def _email_plan(user: User, wants: bool, server: bool) -> tuple[str, str | None]:
    if not server:
        return EmailStatus.SKIPPED, NO_SERVER
    if not user.email:
        return EmailStatus.SKIPPED, NO_ADDRESS
    if not wants:
        return EmailStatus.SKIPPED, NOT_WANTED
    return EmailStatus.PENDING, None


def notify(message: Message | None) -> list[Notification]:
    """Store the message for every user its audience reaches who has not had it (its key) yet."""
    if message is None:
        return []
    users = recipients(message.audience, _candidates(message.audience))
    if not users:
        return []
    told = set(db.session.execute(select(Notification.user_id).where(
        Notification.dedup_key == message.key, Notification.user_id.in_([u.id for u in users]))).scalars())
    unwanted = set(db.session.execute(select(NotificationPreference.user_id).where(
        NotificationPreference.kind == message.kind, NotificationPreference.email.is_(False),
        NotificationPreference.user_id.in_([u.id for u in users]))).scalars())
    server = bool(current_app.config.get("SMTP_HOST"))
    made = []
    for user in users:
        if user.id in told:
            continue
        status, why = _email_plan(user, user.id not in unwanted, server)
        made.append(Notification(user_id=user.id, kind=message.kind, dedup_key=message.key, title=message.title,
                                 body=message.body, link=message.link, email_status=status, email_error=why))
    db.session.add_all(made)
    db.session.flush()
    return made


# --- the events (one call from the service where each happens) ----------------------------------


def notice_issued(notice) -> None:
    notify(messages.notice_issued(notice))


def notice_overdue(notice) -> None:
    notify(messages.notice_overdue(notice))


def notice_escalated(notice, proposal) -> None:
    notify(messages.notice_escalated(notice, proposal))


def review_published(review) -> None:
    notify(messages.review_published(review))


def review_commented(review) -> None:
    notify(messages.review_commented(review))


def review_settled(review) -> None:
    notify(messages.review_settled(review))


def evaluation_published(evaluation) -> None:
    notify(messages.evaluation_published(evaluation))


def evaluation_commented(evaluation) -> None:
    notify(messages.evaluation_commented(evaluation))


def evaluation_settled(evaluation) -> None:
    notify(messages.evaluation_settled(evaluation))


def spot_check_recorded(check) -> None:
    recorded_on = local_day(check.created_at)
    closes = appeal_deadline(recorded_on, int(current_app.config["APPEAL_DAYS"]),
                             working_calendar(check.contract.county_id, recorded_on))
    notify(messages.spot_check_result(check, closes))


def appeal_decided(appeal) -> None:
    notify(messages.appeal_decided(appeal))


def correction_decided(request) -> None:
    notify(messages.correction_decided(request))


def import_done(batch) -> None:
    notify(messages.import_done(batch))


def reassessment_assigned(report) -> None:
    notify(messages.reassessment_assigned(report))


def due_soon(contractor_id: int, count: int, today, horizon, days: int) -> int:
    return len(notify(messages.due_soon(contractor_id, count, today, horizon, days)))


# --- reading and preferences --------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).scalar_one()


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user_id: int) -> int:
    """Every unread notification of the user read now; returns how many."""
    unread = db.session.execute(select(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).scalars().all()
    for notification in unread:
        notification.read_at = utcnow()
    db.session.flush()
    return len(unread)


def kinds_for(user: User) -> list[NotificationKind]:
    """The kinds a user of this role can receive, in the vocabulary's order."""
    return [kind for kind in NotificationKind if Role(user.role) in messages.ROLES_TOLD[kind]]


def choose_emails(user: User, wanted: set[str], email: str | None) -> None:
    """Save the user's address and which of its kinds e-mail it (the others: in-app only)."""
    user.email = (email or "").strip() or None
    stored = {p.kind: p for p in db.session.execute(select(NotificationPreference).where(
        NotificationPreference.user_id == user.id)).scalars()}
    for kind in kinds_for(user):
        preference = stored.get(kind.value)
        if preference is None:
            preference = NotificationPreference(user_id=user.id, kind=kind.value)
            db.session.add(preference)
        preference.email = kind.value in wanted
    db.session.flush()


# --- delivering ---------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one run of the outbox did."""

    sent: int = 0
    retrying: int = 0  # failed this time, to be tried again
    failed: int = 0  # failed for the last time
    skipped: int = 0  # the user was stopped, lost the address or turned the kind off meanwhile
    resumed: int = 0  # left `sending` by a run that died, tried again

    def as_dict(self) -> dict:
        return dict(vars(self))


def _email_text(notification: Notification, base_url: str) -> str:
    # Through the notification's own page, so that following the e-mail marks it read too.
    opened = f"{base_url.rstrip('/')}/notifications/{notification.id}/open"
    link = f"\n\n查看详情：{opened}" if notification.link else ""
    return (f"{notification.body}{link}\n\n——履约监管系统自动发送。"
            "如不需要此类邮件，请登录后在“通知设置”中取消。")


def _resume_abandoned(delivery: Delivery, max_attempts: int) -> None:
    stale = db.session.execute(select(Notification).where(
        Notification.email_status == EmailStatus.SENDING,
        Notification.email_claimed_at < utcnow() - SENDING_TIMEOUT)).scalars().all()
    for notification in stale:
        last = notification.email_attempts >= max_attempts
        notification.email_status = EmailStatus.FAILED if last else EmailStatus.PENDING
        notification.email_error = "发送过程中断（进程退出）"
        delivery.resumed += 1
    db.session.commit()


def _claim(notification_id: int) -> bool:
    """Take the pending row for this run (its attempt counted), committed; False if another run has."""
    claimed = db.session.execute(
        update(Notification).where(Notification.id == notification_id,
                                   Notification.email_status == EmailStatus.PENDING)
        .values(email_status=EmailStatus.SENDING, email_claimed_at=utcnow(),
                email_attempts=Notification.email_attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return claimed == 1


def _still_wanted(notification: Notification, user: User) -> str | None:
    if not user.is_active_account:
        return INACTIVE
    if not user.email:
        return NO_ADDRESS
    if not email_choices(user.id)[notification.kind]:
        return NOT_WANTED
    return None


def deliver_pending_emails(smtp: SmtpSettings | None, *, max_attempts: int | None = None,
                           limit: int = 500) -> Delivery:
    """Send the outbox's pending e-mails, oldest first, each once; a failure counts an attempt and
    stays pending until the last (EMAIL_MAX_ATTEMPTS), then is failed. A server that cannot be
    reached ends the run at the first failure, leaving the rest for the next. Commits per row."""
    delivery = Delivery()
    if smtp is None:
        return delivery
    max_attempts = max_attempts or int(current_app.config["EMAIL_MAX_ATTEMPTS"])
    base_url = current_app.config["PUBLIC_BASE_URL"]
    _resume_abandoned(delivery, max_attempts)
    pending = db.session.execute(select(Notification.id).where(Notification.email_status == EmailStatus.PENDING)
                                 .order_by(Notification.id).limit(limit)).scalars().all()
    for notification_id in pending:
        if not _claim(notification_id):
            continue
        notification = db.session.get(Notification, notification_id, populate_existing=True)
        user = db.session.get(User, notification.user_id)
        why_not = _still_wanted(notification, user)
        if why_not:
            notification.email_status, notification.email_error = EmailStatus.SKIPPED, why_not
            delivery.skipped += 1
            db.session.commit()
            continue
        try:
            send_email(smtp, user.email, f"【履约监管】{notification.title}", _email_text(notification, base_url))
        except (smtplib.SMTPException, OSError) as error:
            last = notification.email_attempts >= max_attempts
            notification.email_status = EmailStatus.FAILED if last else EmailStatus.PENDING
            notification.email_error = f"{type(error).__name__}: {error}"[:ERROR_KEPT]
            delivery.failed += last
            delivery.retrying += not last
            db.session.commit()
            if not isinstance(error, smtplib.SMTPRecipientsRefused):
                break
            continue
        notification.email_status, notification.email_error = EmailStatus.SENT, None
        notification.email_to, notification.emailed_at = user.email, utcnow()
        delivery.sent += 1
        db.session.commit()
    return delivery
