from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..forms_common import Form
from ...domain.vocabulary import VerificationKind


class VerificationForm(Form):
    kind = SelectField("核对数据", choices=VerificationKind.choices())
    file = FileField("文件（.xlsx 或 .csv）", validators=[
        FileRequired(message="请选择文件"), FileAllowed(["xlsx", "csv"], message="只接受 .xlsx 或 .csv 文件")])


class CloseFlagForm(Form):
    note = TextAreaField("关闭原因", validators=[InputRequired(message="请填写关闭原因"), Length(max=2000)],
                         description="如：已入户复核，差异系核对数据时点不同；或已要求承接机构更正")
