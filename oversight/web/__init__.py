"""Web layer: one blueprint per workflow, registered here with the request-wide hooks."""
from __future__ import annotations

import logging
import math

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user, user_logged_in
from flask_wtf.csrf import CSRFError
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from ..adapters.files import FileStoreError
from ..clock import COUNTY_TIME_LABEL, county_time_heading, format_county_time, utcnow
from ..domain.identifiers import mask_id_number, mask_phone
from ..domain.money import format_yuan
from ..domain.vocabulary import describe_counts, describe_sampling_rule, label_of, vocabularies
from ..extensions import db, login_manager
from ..models import User
from ..policy import is_field_worker, read_only
from ..services import row_security
from ..services.audit import Actor, reset_actor, set_actor
from .access import install_policy
from .forms_common import drop_unclaimed_form
from .navigation import nav_for, section_for
from .params import DatabaseIdConverter
from .security import install_security, note_files_not_kept, page_to_return_to

log = logging.getLogger(__name__)

# Endpoints an auditor may POST to: nothing that changes data.
# Personal steps that change nothing of the oversight record: an auditor takes them too; and asking
# for an audit bundle, which only reads (and logs the export, as every export is logged).
_AUDITOR_POST_ENDPOINTS = {"auth.logout", "auth.login", "auth.change_password", "notifications.read_one",
                           "notifications.read_all", "notifications.preferences", "exports.request_bundle"}


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """`User.get_id()` is "id:session version": a session signed in before the version last
    rose (log-out, password, role or activation change) finds no user and must log in again."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    row_security.bind_user(user)  # the request's transactions see the user's counties only
    return user


def _scope_signed_in(_app, user) -> None:
    """A log-in's request carries on as the user who signed in."""
    row_security.bind_user(user)


def _bind_actor() -> None:
    if current_user.is_authenticated:
        actor = Actor(current_user.id, current_user.username, request.remote_addr)
    else:
        actor = Actor(None, "anonymous", request.remote_addr)
    g.audit_token = set_actor(actor)


def _release_actor(_exc) -> None:
    token = g.pop("audit_token", None)
    if token is not None:
        reset_actor(token)


def _auditors_change_nothing() -> None:
    if (current_user.is_authenticated and read_only(current_user)
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and request.routing_exception is None  # an address that matches no page answers 404
            and request.endpoint not in _AUDITOR_POST_ENDPOINTS):
        abort(403)


# What a field-worker account may open: its own field pages, its tokens, its inbox, log-in/out,
# the API (which reads no session), the public notice (anyone's) and static files. Everything
# else answers 404.
_FIELD_WORKER_BLUEPRINTS = {"auth", "field", "devices", "notifications", "api", "api-docs", "public"}


def _confine_field_workers():
    if not (current_user.is_authenticated and is_field_worker(current_user)) or request.endpoint is None:
        return None
    if request.endpoint == "dashboard.index":
        return redirect(url_for("field.index"))
    if request.endpoint == "static" or request.blueprint in _FIELD_WORKER_BLUEPRINTS:
        return None
    abort(404)


def register_web(app: Flask) -> None:
    # Before any route is added: every `<int:…>` in the url_map then stops at the database's range.
    app.url_map.converters["int"] = DatabaseIdConverter
    from .acceptance.routes import bp as acceptance_bp
    from .appeals.routes import bp as appeals_bp
    from .assignments.routes import bp as assignments_bp
    from .attachments.routes import bp as attachments_bp
    from .audit_log.routes import bp as audit_bp
    from .auth.routes import bp as auth_bp
    from .callbacks.routes import bp as callbacks_bp
    from .check_results.routes import bp as check_results_bp
    from .contractors.routes import bp as contractors_bp
    from .contracts.routes import bp as contracts_bp
    from .corrections.routes import bp as corrections_bp
    from .dashboard.routes import bp as dashboard_bp
    from .draws.routes import bp as draws_bp
    from .evaluations.routes import bp as evaluations_bp
    from .exports.routes import bp as exports_bp
    from .imports.routes import bp as imports_bp
    from .notifications.routes import bp as notifications_bp
    from .operations.routes import bp as operations_bp
    from .procurement.routes import bp as procurement_bp
    from .payments.routes import bp as payments_bp
    from .public.routes import bp as public_bp
    from .records.routes import bp as records_bp
    from .reviews.routes import bp as reviews_bp
    from .schemes.routes import bp as schemes_bp
    from .spot_checks.routes import bp as spot_checks_bp
    from .standards.routes import bp as standards_bp
    from .subjects.routes import bp as subjects_bp
    from .uploads.routes import bp as uploads_bp
    from .users.routes import bp as users_bp
    from .verification.routes import bp as verification_bp
    from .visit_map.routes import bp as visit_map_bp
    from .field.routes import bp as field_bp
    from .devices.routes import bp as devices_bp
    from .reassessment.routes import bp as reassessment_bp
    from .areas.routes import bp as areas_bp
    from .api.routes import register_api

    for blueprint in (auth_bp, dashboard_bp, contractors_bp, contracts_bp, subjects_bp,
                      assignments_bp, imports_bp, audit_bp, users_bp, operations_bp,
                      draws_bp, spot_checks_bp, callbacks_bp, check_results_bp,
                      reviews_bp, evaluations_bp, schemes_bp, exports_bp, uploads_bp, records_bp,
                      verification_bp, attachments_bp, corrections_bp, appeals_bp, notifications_bp, public_bp,
                      payments_bp, acceptance_bp, visit_map_bp, field_bp, devices_bp, procurement_bp,
                      standards_bp, reassessment_bp, areas_bp):
        app.register_blueprint(blueprint)
    register_api(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "warning"

    install_security(app)
    user_logged_in.connect(_scope_signed_in, app)
    app.before_request(_bind_actor)
    app.before_request(_auditors_change_nothing)
    app.before_request(_confine_field_workers)
    app.before_request(drop_unclaimed_form)
    app.teardown_request(_release_actor)

    # `{{ review.status|label(ReviewStatus) }}`: every vocabulary is a global under its class name.
    app.jinja_env.filters.update(yuan=format_yuan, mask_phone=mask_phone, mask_id=mask_id_number,
                                 label=lambda code, vocabulary: label_of(vocabulary, code),
                                 sampling_rule=describe_sampling_rule, job_counts=describe_counts)
    # `{{ batch.created_at|county_time }}`: every stored (UTC) time is shown in county time;
    # `{{ "上传时间"|county_heading }}` labels a column of them "上传时间（北京时间）".
    app.jinja_env.filters.update(county_time=format_county_time, county_heading=county_time_heading)
    app.jinja_env.globals.update({vocabulary.__name__: vocabulary for vocabulary in vocabularies()}, nav_for=nav_for,
                                 COUNTY_TIME_LABEL=COUNTY_TIME_LABEL, utcnow=utcnow)  # utcnow: a printout's time
    install_policy(app)

    for code, title in ((400, "请求无效"), (403, "无权访问"), (404, "页面不存在"), (413, "文件过大"),
                        (500, "服务器内部错误")):
        app.register_error_handler(code, _error_page(code, title))
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)
    app.register_error_handler(CSRFError, _stale_form)
    app.register_error_handler(FileStoreError, _file_store_failed)
    app.register_error_handler(DBAPIError, _database_failed)


def _file_store_failed(error: FileStoreError):
    """A write the page did not expect to fail (a full or read-only store): nothing was saved."""
    db.session.rollback()
    return render_template("error.html", code=503, title="文件未能保存", description=str(error)), 503


def _database_failed(error: DBAPIError):
    """The database unreachable or not yet built (`init-db` never run): a Chinese page that
    reads nothing from the database, not an English 500."""
    log.exception("database error")
    db.session.rollback()
    try:
        built = inspect(db.engine).has_table("users")
    except DBAPIError:
        built = None
    if built is False:
        description = "数据库尚未初始化：请管理员先运行 flask --app app init-db（./scripts/demo 会自动完成），然后刷新本页。"
    else:
        description = "数据库暂时无法访问，请稍后重试；如果一直如此，请联系系统管理员。"
    return render_template("database_error.html", description=description), 503


def _error_page(code: int, title: str):
    def handler(error):
        description = getattr(error, "description", "") if code == 400 else ""
        section = (section_for(current_user, request.blueprint)
                   if code in (403, 404) and current_user.is_authenticated else None)
        here = request.full_path.rstrip("?") if request.method == "GET" else None  # to come back to
        return render_template("error.html", code=code, title=title, description=description,
                               section=section, here=here), code

    return handler


def _too_many_attempts(error: RateLimitExceeded):
    """The same page for every throttled log-in, whether or not the typed account exists; the
    public notice's own page for too many requests to it."""
    minutes = math.ceil(error.limit.limit.get_expiry() / 60)
    if request.blueprint == "public":
        return render_template("public/throttled.html", minutes=minutes), 429
    return render_template("auth/throttled.html", minutes=minutes), 429


def _stale_form(_error: CSRFError):
    """A form whose security token is missing or stale, mostly because the session ended while the
    page sat open: nothing was done, and the user goes on from where they were — through the log-in
    page when the session is gone — told in Chinese what happened (never Flask-WTF's English)."""
    if current_app.config["SESSION_COOKIE_SECURE"] and not request.is_secure:
        # The browser keeps no session over plain http, so no form can carry a valid token.
        description = "本站只通过 HTTPS 保存登录状态：请改用 https:// 开头的地址访问后重新提交。"
        return render_template("error.html", code=400, title="请求无效", description=description), 400
    back = page_to_return_to()
    if not current_user.is_authenticated and request.endpoint != "auth.login":
        flash("登录已过期，刚才提交的内容未保存：请重新登录，登录后将回到刚才的页面", "warning")
        note_files_not_kept()
        return redirect(url_for("auth.login", next=back))
    if back is not None:
        flash("页面已过期（表单的安全令牌无效），刚才提交的内容未保存：请在本页重新提交", "warning")
        note_files_not_kept()
        return redirect(back)
    description = "页面已过期（表单的安全令牌无效或缺失）：请返回上一页，刷新后重新提交。"
    return render_template("error.html", code=400, title="请求无效", description=description), 400
