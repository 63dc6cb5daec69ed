from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms_common import Form
from ...domain.vocabulary import SubjectCategory, SubjectKind
from ..validators import IdNumber, Mobile


class SubjectForm(Form):
    kind = SelectField("类型", choices=SubjectKind.choices())
    name = StringField("姓名（户主）", validators=[DataRequired(message="请填写姓名"), Length(max=64)])
    id_number = StringField("身份证号", validators=[DataRequired(message="请填写身份证号"), IdNumber()])
    township = StringField("乡镇/街道", validators=[DataRequired(message="请填写乡镇/街道"), Length(max=32)])
    village = StringField("村/社区", validators=[DataRequired(message="请填写村/社区"), Length(max=64)])
    category = SelectField("救助类别", choices=SubjectCategory.choices())
    phone = StringField("联系电话", validators=[Optional(), Mobile()])
    household_size = IntegerField("家庭人口数", validators=[Optional(), NumberRange(min=1, max=20)])
