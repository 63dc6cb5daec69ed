from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms_common import Form


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired(message="请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码")])


class ChangePasswordForm(Form):
    current = PasswordField("当前密码", validators=[DataRequired()])
    new = PasswordField("新密码", validators=[DataRequired(), Length(min=8, message="密码至少8位")])
    confirm = PasswordField("确认新密码", validators=[EqualTo("new", message="两次输入的密码不一致")])
