from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..forms_common import Form
from ...domain.vocabulary import AcceptanceConclusion, AcceptanceRole


class OpenAcceptanceForm(Form):
    contract_id = SelectField("合同", coerce=int)
    year = IntegerField("验收年度", validators=[InputRequired(message="请填写年度"), NumberRange(min=2000, max=2100)])


class MemberForm(Form):
    name = StringField("姓名", validators=[InputRequired(message="请填写成员姓名"), Length(max=64)])
    role = SelectField("验收小组角色", choices=AcceptanceRole.choices())
    organisation = StringField("单位", validators=[Optional(), Length(max=100)],
                               description="服务对象代表可填写其所在村（社区）或“低保户代表”等")


class ConcludeForm(Form):
    conclusion = SelectField("验收结论", choices=[("", "请选择"), *AcceptanceConclusion.choices()],
                             validators=[InputRequired(message="请选择验收结论")])
    opinion = TextAreaField("验收意见", validators=[InputRequired(message="请写明验收小组的意见"), Length(max=4000)])
    accepted_on = DateField("验收日期", validators=[InputRequired(message="请填写验收日期")])
