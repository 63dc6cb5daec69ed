from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms_common import Form
from ...domain.vocabulary import InstallmentCondition, InstallmentKind
from ..validators import YuanField


class InstallmentForm(Form):
    title = StringField("分期名称", validators=[InputRequired(message="请填写分期名称"), Length(max=100)])
    kind = SelectField("类型", choices=InstallmentKind.choices())
    condition = SelectField("支付条件", choices=InstallmentCondition.choices())
    amount_fen = YuanField("金额（元）", validators=[Optional()], description="预付款、进度款填写金额或比例中的一项")
    share = DecimalField("比例（%）", places=2, validators=[Optional(), NumberRange(min=0, max=100)],
                         description="占合同金额的百分比，最多两位小数")
    year = IntegerField("所属年度", validators=[Optional(), NumberRange(min=2000, max=2100)],
                        description="以验收或年度评价为条件时必填")
    due_on = DateField("约定日期", validators=[Optional()], description="以日期为条件时必填")


class HoldForm(Form):
    reason = TextAreaField("暂扣原因", validators=[InputRequired(message="请写明暂扣原因"), Length(max=2000)])


class PayForm(Form):
    paid_on = DateField("支付日期", validators=[InputRequired(message="请填写支付日期")])
