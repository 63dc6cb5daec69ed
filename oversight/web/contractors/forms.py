from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms_common import Form
from ..validators import CreditCode, Mobile


class ContractorForm(Form):
    name = StringField("机构名称", validators=[DataRequired(message="请填写机构名称"), Length(max=128)])
    credit_code = StringField("统一社会信用代码", validators=[DataRequired(message="请填写统一社会信用代码"), CreditCode()])
    contact_person = StringField("联系人", validators=[DataRequired(message="请填写联系人"), Length(max=64)])
    contact_phone = StringField("联系电话", validators=[DataRequired(message="请填写联系电话"), Mobile()])


class WorkerForm(Form):
    worker_no = StringField("工号", validators=[DataRequired(message="请填写工号"), Length(max=32)])
    name = StringField("姓名", validators=[DataRequired(message="请填写姓名"), Length(max=64)])
    phone = StringField("手机号", validators=[Optional(), Mobile()])
    active = BooleanField("在岗", default=True)
