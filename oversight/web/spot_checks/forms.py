from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, MultipleFileField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ...domain import self_care
from ...domain.completion_log import CARE_ITEMS, MAX_HOUSEHOLD_SIZE, SURVEY_CONCLUSIONS
from ...domain.vocabulary import CheckMethod, NoticeOutcome
from ..attachments_common import attachments_field
from ..validators import YuanField

NOT_VERIFIED = ("", "未核实")
_YES_NO = {"1": True, "0": False}


class RecheckForm(FlaskForm):
    """The blind re-check: nothing of the contractor's record is ever put into it."""

    method = SelectField("复核方式", choices=CheckMethod.choices())
    checked_on = DateField("复核日期", validators=[InputRequired(message="请填写复核日期")])
    note = TextAreaField("复核说明", validators=[Optional(), Length(max=2000)])
    attachments = attachments_field("照片或扫描件")
    value_fields: tuple[str, ...] = ()

    def values(self) -> dict:
        """The re-measured values in the comparison's keys; a field left blank is not compared."""
        return {name: self._value(name) for name in self.value_fields}

    def _value(self, name: str):
        data = self[name].data
        return None if data == "" else data


class HouseholdRecheckForm(RecheckForm):
    household_size = IntegerField("家庭人口数", validators=[Optional(), NumberRange(min=1, max=MAX_HOUSEHOLD_SIZE)])
    annual_income_fen = YuanField("家庭年收入（元）", validators=[Optional()])
    financial_assets_fen = YuanField("家庭金融资产（元）", validators=[Optional()])
    survey_conclusion = SelectField("调查结论", choices=[NOT_VERIFIED] + [(c, c) for c in SURVEY_CONCLUSIONS])
    value_fields = ("household_size", "annual_income_fen", "financial_assets_fen", "survey_conclusion")



class SelfCareRecheckForm(RecheckForm):
    value_fields = self_care.ITEM_KEYS

    def _value(self, name: str):
        return _YES_NO.get(self[name].data)


for _key, _label in self_care.ITEMS:
    setattr(SelfCareRecheckForm, _key, SelectField(_label, choices=[NOT_VERIFIED, ("1", "能"), ("0", "不能")]))


class CareVisitRecheckForm(RecheckForm):
    visit_happened = SelectField("服务是否发生", choices=[NOT_VERIFIED, ("1", "是，确有该次上门服务"), ("0", "否，没有该次服务")])
    care_items = SelectMultipleField("实际服务项目", choices=[(item, item) for item in CARE_ITEMS],
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                     description="服务确已发生时勾选核实到的项目；不勾选则不比对服务项目")
    value_fields = ("visit_happened", "care_items")

    def values(self) -> dict:
        happened = _YES_NO.get(self.visit_happened.data)
        items = self.care_items.data if happened is True and self.care_items.data else None
        return {"visit_happened": happened, "care_items": items}


RECHECK_FORMS = {
    "household_survey": HouseholdRecheckForm,
    "self_care_assessment": SelfCareRecheckForm,
    "care_visit": CareVisitRecheckForm,
}


class AttachmentForm(FlaskForm):
    attachments = MultipleFileField("补充照片或扫描件", validators=[InputRequired(message="请选择文件")])


class NoticeForm(FlaskForm):
    deadline = DateField("整改期限", validators=[InputRequired(message="请填写整改期限")])
    requirement = TextAreaField("整改要求", validators=[InputRequired(message="请填写整改要求"), Length(max=2000)])


class ResponseForm(FlaskForm):
    response = TextAreaField("整改情况", validators=[InputRequired(message="请填写整改情况"), Length(max=4000)])
    attachments = attachments_field("整改佐证材料（照片、扫描件或 PDF）")


class CloseForm(FlaskForm):
    outcome = SelectField("整改结论", choices=NoticeOutcome.choices())
    closing_note = TextAreaField("说明", validators=[Optional(), Length(max=2000)])
