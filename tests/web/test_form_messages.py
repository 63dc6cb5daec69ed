"""WTForms' own messages (a field left empty, a choice not offered) are Chinese on every form:
each form's base is `web.forms_common.Form` (or `SubForm` for a row), whose locale is zh."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import wtforms
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

import oversight.web
from oversight.web.forms_common import Form, SubForm
from oversight.web.visit_form import visit_form


def _all_subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_form_of_the_app_speaks_chinese(app):
    for module in pkgutil.walk_packages(oversight.web.__path__, "oversight.web."):
        importlib.import_module(module.name)
    # The per-service-type visit forms are made on demand, on this base:
    assert inspect.signature(visit_form).parameters["base"].default is Form
    ours = {cls for cls in _all_subclasses(wtforms.Form) if cls.__module__.startswith("oversight.")}
    assert len(ours) > 40
    english = sorted(cls.__qualname__ for cls in ours
                     if not issubclass(cls, (Form, SubForm)) and cls not in (Form, SubForm))
    assert english == [], f"forms not based on forms_common.Form: {english}"
    assert all(issubclass(cls, Form) for cls in ours if issubclass(cls, FlaskForm))


def test_a_built_in_message_is_chinese_on_a_page(client_for, factory):
    client = client_for(factory.user("supervisor"))
    page = client.post("/account/password", data={"current": "", "new": "", "confirm": ""},
                       token_from="/account/password").get_data(as_text=True)
    assert "该字段是必填字段。" in page and "This field is required." not in page


def test_a_row_of_a_form_is_chinese_too(app):
    class Row(SubForm):
        amount = wtforms.IntegerField("金额", validators=[wtforms.validators.InputRequired()])

    row = Row(formdata=MultiDict({"amount": "x"}))
    assert not row.validate()
    assert row.amount.errors == ["不是有效的整数。"]
