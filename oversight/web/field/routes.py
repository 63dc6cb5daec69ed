"""A field worker's own pages: 我的任务, the phone app (PWA) on top of the REST API — its
manifest, its service worker (scope /field/) and the device token it makes on first use."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, send_from_directory, url_for
from flask_login import current_user

from ...clock import county_today
from ...extensions import db
from ...models import Assignment
from ...policy import Action, sees_assignment
from ...services.field_app import FieldAppRefused, create_token, revoke_token, visible_assignments
from ..access import permission_required
from ..params import paginate

bp = Blueprint("field", __name__, url_prefix="/field")


@bp.route("/")
@permission_required(Action.USE_FIELD_PAGES)
def index():
    app_config = {
        "api": "/api/v1", "token_url": url_for(".device_token"), "worker": current_user.username,
        "service_worker": url_for(".service_worker"), "today": county_today().isoformat(),
        "logout_url": url_for("auth.logout"), "revoke_url": url_for(".forget_device_token", token_id=0),
    }
    return render_template("field/index.html", page=paginate(visible_assignments(current_user)), app_config=app_config)


@bp.route("/assignments/<int:assignment_id>")
@permission_required(Action.USE_FIELD_PAGES)
def assignment(assignment_id: int):
    found = db.session.get(Assignment, assignment_id)
    if found is None or not sees_assignment(current_user, found):
        abort(404)
    return render_template("field/assignment.html", assignment=found)


@bp.route("/device-token", methods=["POST"])
@permission_required(Action.USE_FIELD_PAGES)
def device_token():
    """A device token for this phone's app, made once on first use (CSRF from the session); the
    app keeps it in IndexedDB. Listed and revocable under 接口令牌 like any other."""
    try:
        token, plain = create_token(current_user, f"外勤应用（{county_today().isoformat()} 启用）")
    except FieldAppRefused as refused:
        return jsonify({"message": str(refused)}), 422
    db.session.commit()
    return jsonify({"token": plain, "name": token.name, "prefix": plain[:12], "id": token.id}), 201


@bp.route("/device-token/<int:token_id>/revoke", methods=["POST"])
@permission_required(Action.USE_FIELD_PAGES)
def forget_device_token(token_id: int):
    """Revoke this phone's token as the app clears the device on 退出 (CSRF from the session);
    another user's token, or none, answers 404."""
    if revoke_token(current_user, token_id) is None:
        abort(404)
    db.session.commit()
    return jsonify({"revoked": token_id})


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: nothing personal, so it is served without a log-in."""
    body = {
        "name": "履约监管 · 外勤服务", "short_name": "外勤服务", "lang": "zh-CN", "start_url": "/field/",
        "scope": "/field/", "display": "standalone", "background_color": "#ffffff", "theme_color": "#1f5f8b",
        "icons": [{"src": url_for("static", filename="field/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
def service_worker():
    """The service worker, served under /field/ so that its scope is /field/."""
    response = send_from_directory(current_app.static_folder, "js/field-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/field/"
    response.headers["Cache-Control"] = "no-cache"
    return response
