from flask_wtf.file import FileAllowed, FileField, FileRequired

from ..forms_common import Form


class AreaFileForm(Form):
    file = FileField("区划文件（.xlsx 或 .csv，列：区划代码、名称）", validators=[
        FileRequired(message="请选择文件"), FileAllowed(["xlsx", "csv"], message="只接受 .xlsx 或 .csv 文件")])
