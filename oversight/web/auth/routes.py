from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ...extensions import db
from ...services.accounts import AccountError, authenticate, end_sessions, password_matches, set_password
from ..security import safe_next_path, start_session_clock
from .forms import ChangePasswordForm, LoginForm
from .throttle import forget_failures, mark_failed, throttled, typed_username

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@throttled
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(typed_username(), form.password.data, request.remote_addr)
        db.session.commit()
        if result.user is not None:
            forget_failures()
            login_user(result.user)
            start_session_clock()
            return redirect(safe_next_path(request.args.get("next")) or url_for("dashboard.index"))
        flash(result.message, "danger")
    if request.method == "POST":
        mark_failed()
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash("已退出登录", "info")
    # An error page's "log in as another user" comes back to the page it was refused.
    return redirect(url_for("auth.login", next=safe_next_path(request.form.get("next"))))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not password_matches(current_user, form.current.data):
            flash("当前密码不正确", "danger")
        else:
            try:
                set_password(current_user, form.new.data)
            except AccountError as error:
                flash(str(error), "danger")
            else:
                db.session.commit()
                # The new session version ended every session; this one carries on under it.
                login_user(current_user._get_current_object())
                flash("密码已修改，其他设备上的登录已退出", "success")
                return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form)
