"""The blind re-check forms, one per service type: the first re-check of a drawn record
(spot_checks) and the second one an appeal may order (appeals) ask the same questions."""
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .forms_common import Form
from ..domain import self_care
from ..domain.completion_log import CARE_ITEMS, MAX_HOUSEHOLD_SIZE, SURVEY_CONCLUSIONS
from ..domain.vocabulary import CheckMethod
from .attachments_common import attachments_field
from .validators import YuanField

NOT_VERIFIED = ("", "未核实")
_YES_NO = {"1": True, "0": False}


class RecheckForm(Form):
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
