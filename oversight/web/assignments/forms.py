from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ...domain.vocabulary import ServiceType
from ..validators import IdNumber


class AssignmentForm(FlaskForm):
    contract_id = SelectField("合同", coerce=int)
    service_type = SelectField("服务", choices=ServiceType.choices())
    subject_id_number = StringField("服务对象身份证号", validators=[InputRequired(message="请填写身份证号"), IdNumber()])
    due_date = DateField("截止日期", validators=[InputRequired(message="请填写截止日期")])
    number = StringField("任务编号", validators=[Optional(), Length(max=32)], description="留空则自动编号")
    note = StringField("备注", validators=[Optional(), Length(max=500)])
