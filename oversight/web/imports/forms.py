from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField

from ..forms_common import Form
from ...domain.vocabulary import ImportKind


class ImportForm(Form):
    kind = SelectField("导入内容", choices=ImportKind.choices())
    file = FileField("文件（.xlsx 或 .csv）", validators=[
        FileRequired(message="请选择文件"), FileAllowed(["xlsx", "csv"], message="只接受 .xlsx 或 .csv 文件")])
