from wtforms import DateField, DecimalField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms_common import Form
from ...domain.vocabulary import PaymentKind, Position
from ..validators import YuanField


class EvaluateForm(Form):
    contract_id = SelectField("合同", coerce=int)
    year = IntegerField("年度", validators=[InputRequired(message="请填写年度"), NumberRange(min=2000, max=2100)])


class AnnualItemForm(Form):
    points = DecimalField("加减分", places=2, validators=[InputRequired(message="请填写分值")],
                          description="加分为正数，扣分为负数，最多两位小数")
    reason = StringField("理由", validators=[InputRequired(message="请写明理由"), Length(max=500)])


class PaymentForm(Form):
    paid_on = DateField("支付日期", validators=[InputRequired(message="请填写支付日期")])
    amount_fen = YuanField("金额（元）", validators=[InputRequired(message="请填写金额")])
    kind = SelectField("类别", choices=PaymentKind.choices())
    year = IntegerField("所属年度", validators=[Optional(), NumberRange(min=2000, max=2100)],
                        description="绩效挂钩部分的支付须注明所属年度")
    note = StringField("备注", validators=[Optional(), Length(max=200)])



class EvaluationCommentForm(Form):
    position = RadioField("意见", choices=Position.choices(), validators=[InputRequired(message="请选择同意或不同意")])
    comment = TextAreaField("理由", validators=[Optional(), Length(max=2000)], description="不同意时必须写明理由")


class EvaluationSettleForm(Form):
    decision = TextAreaField("裁定意见", validators=[InputRequired(message="请写明裁定意见"), Length(max=2000)])
    adjustment = DecimalField("调整分值", places=2, validators=[Optional()],
                              description="如裁定需调整年度得分，填写加减分（记为一项年度加减分）；维持原评分则留空")
