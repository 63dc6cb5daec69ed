"""The base of every form (Chinese built-in messages), forms more than one blueprint shows, and
the post/redirect/get of a refused form."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, request, session
from flask_wtf import FlaskForm
import wtforms
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, TextAreaField
from wtforms.validators import InputRequired, Length

from .validators import IdNumber, Mobile


class Form(FlaskForm):
    """Every form's base: WTForms' own messages ("This field is required.", "Not a valid
    choice.") in Chinese, from WTForms' bundled zh catalogue (`WTF_I18N_ENABLED` is off: no
    Flask-Babel, one language)."""

    class Meta:
        locales = ["zh"]


class SubForm(wtforms.Form):
    """A row of a form (a `FormField`; the outer form holds the CSRF token), in Chinese too."""

    class Meta:
        locales = ["zh"]


class CorrectForm(Form):
    """A correction of a locked review or evaluation: a new revision, with its reason."""

    reason = TextAreaField("更正原因", validators=[InputRequired(message="请写明更正原因"), Length(max=2000)])


# What a refused POST left for the GET it redirects to (see `redisplay`).
_KEPT = "kept_form"


def _form_key(form: FlaskForm) -> str:
    return f"{type(form).__name__}:{form._prefix}"


def redisplay(form: FlaskForm, url: str | None = None, **extra) -> Response | None:
    """Post/redirect/get after a refused POST: what was typed and the errors wait in the session
    for one GET of `url` (this page by default), which `refill` puts back into the form, so that
    Back and reload never post it again.

    None when the typed text would not fit the session cookie (browsers drop a cookie over 4 kB,
    and with it the log-in): the caller then shows the form in this answer, as before.
    Chosen files cannot be kept; the form asks for them again. `extra` (JSON values) comes back
    from `refill`.
    """
    # The session cookie is signed, not encrypted: a password, an ID number or a phone number is
    # never written into it (it is typed again); nor is the spent token.
    personal = {field.name for field in form if _is_personal(field)}
    unkept = {"csrf_token", *personal}
    session[_KEPT] = {
        "form": _form_key(form), "path": urlsplit(url).path if url else request.path,
        "data": [[name, value] for name, value in request.form.items(multi=True) if name not in unkept],
        "errors": {name: list(errors) for name, errors in form.errors.items()
                   if name is not None and name in form and isinstance(errors, list | tuple)},
        "form_errors": list(form.form_errors), "extra": extra,
        "retype": sorted(name for name in personal if request.form.get(name)),
    }
    if not _fits_in_cookie():
        session.pop(_KEPT)
        return None
    return redirect(url or request.full_path.rstrip("?"), code=303)


RETYPE_MESSAGE = "为保护个人信息，身份证号和电话号码不暂存，请重新填写"


def _is_personal(field) -> bool:
    return isinstance(field, PasswordField) or any(isinstance(v, IdNumber | Mobile) for v in field.validators)


def refill(form: FlaskForm) -> dict | None:
    """On the GET after `redisplay`: the form as it was posted, with its errors; returns the
    `extra` kept with it, or None when nothing of this form was kept for this page."""
    kept = session.get(_KEPT)
    if not kept or kept["form"] != _form_key(form) or kept["path"] != request.path:
        return None
    session.pop(_KEPT)
    form.process(MultiDict(kept["data"]))
    for name, errors in kept["errors"].items():
        if name in form:
            form[name].errors = list(errors)
    form.form_errors = list(kept["form_errors"])
    for name in kept["retype"]:
        if name in form and not isinstance(form[name], PasswordField):
            form[name].errors = [*form[name].errors, RETYPE_MESSAGE]
    return kept["extra"]


def refilled(form: FlaskForm) -> FlaskForm:
    """`form`, refilled if a refused POST of it was kept for this page: for pages with several forms."""
    refill(form)
    return form


def redirect_refused(form: FlaskForm, url: str | None = None, **extra) -> Response | None:
    """The end of a view that both shows and takes a form, once it did not succeed: a POST is
    redirected (`redisplay`), a GET refilled from a refused POST if there was one (`refill`).
    None means: render the page now."""
    if form.is_submitted():
        return redisplay(form, url, **extra)
    refill(form)
    return None


def redirect_refused_listing(form: FlaskForm, refused: list[str]) -> tuple[Response | None, list[str]]:
    """`redirect_refused` for a page that also lists refusals tied to no field (`refused`): a POST
    is redirected with them; a GET gets back those a refused POST kept."""
    if form.is_submitted():
        return redisplay(form, refused=refused), refused
    return None, (refill(form) or {}).get("refused", [])


def send_back(form: FlaskForm, url: str) -> Response:
    """A refused form posted from another page (one of a detail page's forms): its errors as a
    message, then back to that page, which `refill`s the form as typed."""
    flash("；".join(error for errors in form.errors.values() for error in errors
                   if isinstance(error, str)) or "未保存：请检查填写内容", "danger")
    return redisplay(form, url) or redirect(url, code=303)


def drop_unclaimed_form() -> None:
    """A kept form is for the very next page: one left behind (its page showed no form, or the
    user went elsewhere) must not come back days later."""
    if (_KEPT in session and request.method == "GET" and request.endpoint != "static"
            and session[_KEPT]["path"] != request.path):
        session.pop(_KEPT)


def _fits_in_cookie() -> bool:
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    cookie_name = current_app.config["SESSION_COOKIE_NAME"]
    # Room for the cookie's own attributes (path, expiry, flags) and a flashed message or two.
    return len(cookie_name) + len(serializer.dumps(dict(session))) + 600 <= current_app.config["MAX_COOKIE_SIZE"]


# A full ID number or phone, once revealed (and audited), is shown by the GET the reveal
# redirects to: the session holds which record may be shown once, never the number itself.
_ONE_VIEW = "one_view"
_ONE_VIEW_SECONDS = 60


def allow_one_view(object_name: str, object_id: int) -> None:
    """After an audited reveal: the next GET of the record's page shows it in full, once."""
    session[_ONE_VIEW] = {"object": f"{object_name}:{object_id}", "until": int(time.time()) + _ONE_VIEW_SECONDS}


def one_view_allowed(object_name: str, object_id: int) -> bool:
    """True once after `allow_one_view` for this record (within a minute); a reload shows it masked."""
    granted = session.get(_ONE_VIEW)
    if not granted or granted["object"] != f"{object_name}:{object_id}":
        return False
    session.pop(_ONE_VIEW)
    return granted["until"] >= time.time()
