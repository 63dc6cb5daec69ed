"""The post/redirect/get of a refused form: what comes back, what never goes into the cookie."""
from __future__ import annotations

from flask import session
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from oversight.web.forms_common import RETYPE_MESSAGE, drop_unclaimed_form, redisplay, refill
from oversight.web.validators import IdNumber, Mobile


class NoteForm(FlaskForm):
    class Meta:
        csrf = False

    title = StringField("标题", validators=[InputRequired(message="请填写标题")])
    note = TextAreaField("说明", validators=[Length(max=4000)])
    password = PasswordField("密码")
    id_number = StringField("身份证号", validators=[IdNumber()])
    phone = StringField("电话", validators=[Mobile()])


def refused(app, data: dict, path: str = "/notes/new"):
    """A POST of `data` that fails validation; returns (redirect or None, the session after it)."""
    with app.test_request_context(path, method="POST", data=data):
        form = NoteForm()
        assert not form.validate()
        return redisplay(form), dict(session)


def test_a_refused_form_comes_back_once_on_its_page_with_its_errors_and_without_the_password(app):
    response, kept = refused(app, {"title": "", "note": "上门时间有误", "password": "s3cret"})
    assert response.status_code == 303 and response.headers["Location"] == "/notes/new"
    assert "s3cret" not in str(kept)
    with app.test_request_context("/notes/new"):
        session.update(kept)
        form = NoteForm(formdata=None)
        assert refill(form) == {}
        assert (form.title.errors, form.note.data, form.password.data) == (["请填写标题"], "上门时间有误", None)
        assert refill(NoteForm(formdata=None)) is None  # once only


def test_a_kept_form_is_only_for_its_own_page_and_dropped_elsewhere(app):
    _, kept = refused(app, {"title": "", "note": "甲"})
    with app.test_request_context("/other"):
        session.update(kept)
        assert refill(NoteForm(formdata=None)) is None
        drop_unclaimed_form()
        assert "kept_form" not in session


def test_text_too_long_for_the_cookie_is_not_kept_and_the_caller_renders_in_place(app):
    # 1,500 distinct CJK characters compress badly: the cookie would pass browsers' 4 kB limit.
    long_note = "".join(chr(0x4E00 + (index * 37) % 20000) for index in range(1500))
    response, kept = refused(app, {"title": "", "note": long_note})
    assert response is None and "kept_form" not in kept
    short, _ = refused(app, {"title": "", "note": long_note[:200]})
    assert short is not None


def test_an_id_number_or_phone_is_never_kept_in_the_cookie_and_the_form_asks_for_it_again(app):
    typed = {"title": "", "note": "甲", "id_number": "11010519491231002X", "phone": "13800138000"}
    response, kept = refused(app, typed)
    assert response.status_code == 303
    assert "11010519491231002X" not in str(kept) and "13800138000" not in str(kept)
    with app.test_request_context("/notes/new"):
        session.update(kept)
        form = NoteForm(formdata=None)
        refill(form)
        assert (form.id_number.data, form.phone.data, form.note.data) == (None, None, "甲")
        assert RETYPE_MESSAGE in form.id_number.errors and RETYPE_MESSAGE in form.phone.errors
    _, untyped = refused(app, {"title": "", "note": "乙"})
    with app.test_request_context("/notes/new"):
        session.update(untyped)
        form = NoteForm(formdata=None)
        refill(form)
        assert list(form.id_number.errors) == [] and list(form.phone.errors) == []
