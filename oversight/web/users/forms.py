from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from ..forms_common import Form
from ...domain.vocabulary import Role


class UserForm(Form):
    username = StringField("用户名", validators=[DataRequired(message="请填写用户名"), Length(max=64),
                                               Regexp(r"^[A-Za-z0-9_.-]+$", message="用户名只能包含字母、数字和 _ . -")])
    display_name = StringField("姓名", validators=[DataRequired(message="请填写姓名"), Length(max=64)])
    role = SelectField("角色", choices=Role.choices())
    area_id = SelectField("管辖区域", coerce=int,
                          description="所见数据的范围：县（区）用户只见本县，市级用户见其下各县（区）；承接机构人员随其机构所在县（区）")
    contractor_id = SelectField("所属承接机构", coerce=int, description="仅承接机构人员需要")
    field_worker_id = SelectField("对应服务人员", coerce=int, default=0, description="仅外勤服务人员需要（其承接机构随之确定）")
    password = PasswordField("初始密码", validators=[DataRequired(message="请设置初始密码"), Length(min=8, message="密码至少8位")])
