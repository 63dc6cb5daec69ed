from wtforms import DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ..forms_common import Form
from ...domain.vocabulary import Position
from ..attachments_common import attachments_field


class ScoreForm(Form):
    quarter = StringField("季度", validators=[InputRequired(message="请填写季度"),
                                            Regexp(r"^\s*\d{4}[Qq][1-4]\s*$", message="季度格式应如 2025Q3")])
    contract_id = SelectField("合同", coerce=int, description="不选则为该季度服务期内的全部合同")


class ManualItemForm(Form):
    points = DecimalField("加减分", places=2, validators=[InputRequired(message="请填写分值")],
                          description="加分为正数，扣分为负数，最多两位小数")
    reason = StringField("理由", validators=[InputRequired(message="请写明理由"), Length(max=500)])


class CommentForm(Form):
    position = RadioField("意见", choices=Position.choices(), validators=[InputRequired(message="请选择同意或不同意")])
    comment = TextAreaField("理由", validators=[Optional(), Length(max=2000)], description="不同意时必须写明理由")
    attachments = attachments_field("佐证材料（照片、扫描件或 PDF）")


class SettleForm(Form):
    decision = TextAreaField("裁定意见", validators=[InputRequired(message="请写明裁定意见"), Length(max=2000)])
    adjustment = DecimalField("调整分值", places=2, validators=[Optional()],
                              description="如裁定需调整得分，填写加减分（记为一项加减分）；维持原评分则留空")



class DismissDeductionForm(Form):
    reason = StringField("不予扣分的理由", validators=[InputRequired(message="请写明不予扣分的理由"), Length(max=500)])
