from wtforms import EmailField, SelectMultipleField
from wtforms.validators import Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms_common import Form


class PreferencesForm(Form):
    email = EmailField("邮箱", validators=[Optional(), Length(max=254),
                                          Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="邮箱格式不正确")],
                       description="通知邮件发往此地址；不填则只在系统内通知")
    kinds = SelectMultipleField("同时发送邮件的通知", widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput(), description="系统内通知始终保留，不受此处影响")
