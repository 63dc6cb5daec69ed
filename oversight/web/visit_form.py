"""The visit form: one field per template column, no rules of its own (the log's rules apply).
Shown by the records pages (a new visit) and the corrections pages (a stored visit corrected)."""
from __future__ import annotations

from collections.abc import Sequence

from wtforms import Field, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, TimeInput

from .forms_common import Form
from ..domain import self_care
from ..domain.completion_log import CARE_ITEMS, SURVEY_CONCLUSIONS, TEMPLATE_COLUMNS, Column

# Filled from the assignment and the chosen worker, not typed.
GIVEN_KEYS = {"number", "subject_name", "id_number", "worker_name"}
_CHOICES = {
    "survey_conclusion": SURVEY_CONCLUSIONS,
    "conclusion": self_care.CONCLUSIONS,
    "signed": ("是", "否"),
    **{key: ("能", "不能") for key in self_care.ITEM_KEYS},
}


def _field(column: Column, workers: Sequence[tuple[str, str]]) -> Field:
    label, hint = column.header, column.note
    if column.key == "service_date":
        return StringField(label, description=hint, widget=DateInput())
    if column.key in ("start_time", "end_time"):
        return StringField(label, description=hint, widget=TimeInput())
    if column.key == "worker_no":
        return SelectField("服务人员", choices=[("", "请选择")] + [(no, f"{no} {name}") for no, name in workers],
                           validate_choice=False)
    if column.key == "care_items":
        return SelectMultipleField(label, choices=[(item, item) for item in CARE_ITEMS], validate_choice=False,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    if column.key in _CHOICES:
        return SelectField(label, choices=[("", "请选择")] + [(word, word) for word in _CHOICES[column.key]],
                           validate_choice=False)
    if column.key == "remark":
        return TextAreaField(label, description=hint)
    return StringField(label, description=hint)


def visit_form(service_type: str, workers: Sequence[tuple[str, str]], base: type[Form] = Form) -> Form:
    """A form with the service's template columns, in the template's order (and `base`'s fields)."""

    class VisitForm(base):
        pass

    for column in TEMPLATE_COLUMNS[service_type]:
        if column.key not in GIVEN_KEYS:
            setattr(VisitForm, column.key, _field(column, workers))
    return VisitForm()


def cells(form: Form, service_type: str, workers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The typed values by template header, as a row of an uploaded log would carry them."""
    names = dict(workers)
    row = {}
    for column in TEMPLATE_COLUMNS[service_type]:
        if column.key == "worker_name":
            row[column.header] = names.get(form.worker_no.data or "", "")
        elif column.key == "care_items":
            row[column.header] = "、".join(form.care_items.data or [])
        elif column.key not in GIVEN_KEYS:
            row[column.header] = str(form[column.key].data or "")
    return row
