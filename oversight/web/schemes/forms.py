from wtforms import BooleanField, DecimalField, FieldList, FormField, HiddenField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from ..forms_common import Form, SubForm


class IndicatorRow(SubForm):
    key = HiddenField()
    included = BooleanField("采用")
    name = StringField("指标名称", validators=[Length(max=50)])
    weight = DecimalField("权重", places=2, validators=[Optional(), NumberRange(min=0, max=100)])
    full_at = DecimalField("满分线（%）", places=2, validators=[Optional(), NumberRange(min=0, max=100)])
    zero_at = DecimalField("零分线（%）", places=2, validators=[Optional(), NumberRange(min=0, max=100)])
    full_when_empty = BooleanField("无事项时计满分")


class BandRow(SubForm):
    rating = StringField("评级", validators=[Length(max=8)])
    minimum = DecimalField("最低分", places=2, validators=[Optional(), NumberRange(min=0, max=100)])
    payout = DecimalField("支付比例（%）", places=2, validators=[Optional(), NumberRange(min=0, max=100)])


class SchemeForm(Form):
    code = StringField("方案代码", validators=[InputRequired(message="请填写方案代码"), Length(max=32),
                                             Regexp(r"^[A-Za-z0-9_\-]+$", message="方案代码只能由字母、数字、下划线和连字符组成")],
                       description="沿用原代码即为该方案的新版本；新代码即为新方案")
    name = StringField("方案名称", validators=[InputRequired(message="请填写方案名称"), Length(max=100)])
    indicators = FieldList(FormField(IndicatorRow))
    bands = FieldList(FormField(BandRow))
