"""Request-wide protections: where a log-in may send the browser, sessions that end when idle
or too old or revoked, and the security headers of every answer."""
from __future__ import annotations

import time
import unicodedata
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

_LAST_SEEN = "last_seen"
_SIGNED_IN_AT = "signed_in_at"
# The idle clock is written back to the cookie at most this often (seconds), not on every request.
_LAST_SEEN_RESOLUTION = 60
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"


def tile_origin(url: str | None) -> str | None:
    """The origin (scheme://host[:port]) of an absolute MAP_TILE_URL; None for none or a same-site path."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(tile_url: str | None = None) -> str:
    """The CSP: strict, its img-src admitting the map tiles' origin when they come from another host."""
    origin = tile_origin(tile_url)
    if origin is None:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


def safe_next_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None.

    Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
    `/%09/evil.example/` and `/\\evil.example` both lead off-site: those characters go before
    the check, and what is returned is the cleaned path.
    """
    if not target:
        return None
    cleaned = "".join(ch for ch in target if unicodedata.category(ch)[0] != "C").replace("\\", "/").strip()
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return None
    return cleaned


def start_session_clock() -> None:
    """Called right after a log-in."""
    now = int(time.time())
    session[_SIGNED_IN_AT] = now
    session[_LAST_SEEN] = now


def _end_stale_sessions():
    if not current_user.is_authenticated or request.endpoint == "static":
        return None
    now = int(time.time())
    idle_limit = int(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    lifetime = int(current_app.permanent_session_lifetime.total_seconds())
    last_seen, signed_in_at = session.get(_LAST_SEEN, 0), session.get(_SIGNED_IN_AT, 0)
    if now - last_seen > idle_limit:
        message = f"已超过{current_app.config['SESSION_IDLE_MINUTES']}分钟未操作，为保护数据已自动退出，请重新登录"
    elif now - signed_in_at > lifetime:
        message = f"登录已超过{lifetime // 3600}小时，请重新登录"
    else:
        if now - last_seen >= _LAST_SEEN_RESOLUTION:
            session[_LAST_SEEN] = now
        return None
    logout_user()
    session.pop(_LAST_SEEN, None)
    session.pop(_SIGNED_IN_AT, None)
    flash(message, "warning")
    note_files_not_kept()
    return redirect(url_for("auth.login", next=page_to_return_to()))


def page_to_return_to() -> str | None:
    """The page the user was on: this one for a GET, the one holding the form otherwise (its
    same-site referrer)."""
    if request.method in ("GET", "HEAD"):
        return safe_next_path(request.full_path.rstrip("?"))
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def note_files_not_kept() -> None:
    """Tell the user that a form's files were not kept, when a form carrying files was turned away:
    the browser will not choose them again by itself."""
    if request.method == "POST" and any(file.filename for _, file in request.files.items(multi=True)):
        flash("所选的文件没有上传成功，也未保存：回到表单后请重新选择文件，再提交一次", "warning")


def _add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(current_app.config.get("MAP_TILE_URL")))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure or current_app.config["PREFERRED_URL_SCHEME"] == "https":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if current_user.is_authenticated and request.endpoint != "static":
        # Pages carry personal data: nothing stays in the browser's cache after log-out.
        headers["Cache-Control"] = "no-store"
    return response


def install_security(app: Flask) -> None:
    app.before_request(_end_stale_sessions)
    app.after_request(_add_security_headers)
