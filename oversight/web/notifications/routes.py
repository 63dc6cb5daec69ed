"""The user's own notifications: the list (read one, read all), the bell's count, e-mail choices."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...models import Notification
from ...policy import Action
from ...services import notifications
from ..access import permission_required
from ..params import paginate
from .forms import PreferencesForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread():
    """`unread_notifications()` for the bell in the top bar, counted only when a page asks."""
    return {"unread_notifications": lambda: notifications.unread_count(current_user.id)
            if current_user.is_authenticated else 0}


def _own_or_404(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


def _local(link: str | None) -> str:
    """Only a path of this site is followed (never another host)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return url_for(".index")


@bp.route("/")
@permission_required(Action.READ_NOTIFICATIONS)
def index():
    unread_only = request.args.get("unread") == "1"
    stmt = select(Notification).where(Notification.user_id == current_user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    page = paginate(stmt.order_by(Notification.id.desc()))
    return render_template("notifications/index.html", page=page, unread_only=unread_only,
                           email_on=bool(current_app.config.get("SMTP_HOST")))


@bp.route("/<int:notification_id>/open")
@permission_required(Action.READ_NOTIFICATIONS)
def open_link(notification_id: int):
    """Follow the notification's link, marking it read (e-mails link here too)."""
    notification = _own_or_404(notification_id)
    notifications.mark_read(notification)
    db.session.commit()
    return redirect(_local(notification.link))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@permission_required(Action.READ_NOTIFICATIONS)
def read_one(notification_id: int):
    notifications.mark_read(_own_or_404(notification_id))
    db.session.commit()
    return redirect(url_for(".index"))


@bp.route("/read", methods=["POST"])
@permission_required(Action.READ_NOTIFICATIONS)
def read_all():
    count = notifications.mark_all_read(current_user.id)
    db.session.commit()
    flash(f"已将 {count} 条通知标为已读", "success")
    return redirect(url_for(".index"))


@bp.route("/preferences", methods=["GET", "POST"])
@permission_required(Action.CHOOSE_NOTIFICATION_EMAILS)
def preferences():
    kinds = notifications.kinds_for(current_user)
    form = PreferencesForm()
    if kinds:
        form.kinds.choices = [(kind.value, kind.label) for kind in kinds]
    else:  # an auditor is told of nothing; the address is all there is to set
        del form.kinds
    if request.method == "GET":
        chosen = notifications.email_choices(current_user.id)
        form.email.data = current_user.email
        if kinds:
            form.kinds.data = [kind.value for kind in kinds if chosen[kind.value]]
    if form.validate_on_submit():
        wanted = set(form.kinds.data or ()) if kinds else set()
        notifications.choose_emails(current_user, wanted, form.email.data)
        db.session.commit()
        flash("通知设置已保存", "success")
        return redirect(url_for(".preferences"))
    return render_template("notifications/preferences.html", form=form, kinds=kinds,
                           email_on=bool(current_app.config.get("SMTP_HOST")))
