from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField

IMPORT_KINDS = {"subjects": "服务对象", "assignments": "任务"}


class ImportForm(FlaskForm):
    kind = SelectField("导入内容", choices=list(IMPORT_KINDS.items()))
    file = FileField("文件（.xlsx 或 .csv）", validators=[
        FileRequired(message="请选择文件"), FileAllowed(["xlsx", "csv"], message="只接受 .xlsx 或 .csv 文件")])
