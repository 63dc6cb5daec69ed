from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ...domain.vocabulary import ConditionReporter
from ...services.reassessment import DESCRIPTION_MAX
from ..forms_common import Form


class ConditionReportForm(Form):
    """情况变化报告 of one person: the contract serving them, who reported what, and when."""

    contract_id = SelectField("承接合同", coerce=int)
    reported_on = DateField("报告日期", validators=[InputRequired(message="请填写报告日期")])
    reporter_kind = SelectField("报告人类别", choices=ConditionReporter.choices())
    reporter_name = StringField("报告人", validators=[Optional(), Length(max=64)], description="选填：姓名或单位")
    description = TextAreaField("变化情况", validators=[InputRequired(message="请写明情况变化的内容"),
                                                     Length(max=DESCRIPTION_MAX)],
                                description="如：因病住院后卧床，不能自主上下床和如厕")


class EffectiveDateForm(Form):
    """生效日期 of a care-tier change."""

    effective_from = DateField("生效日期", validators=[InputRequired(message="请填写生效日期")])
    reason = StringField("说明", validators=[Optional(), Length(max=200)])
