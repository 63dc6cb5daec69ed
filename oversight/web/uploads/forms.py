from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField

from ..forms_common import Form

UPLOAD_EXTENSIONS = ["xlsx", "xlsm", "csv", "txt"]


class UploadForm(Form):
    service_type = SelectField("服务类型")
    file = FileField("服务记录文件（.xlsx 或 .csv）", description="CSV 可为 UTF-8 或 GBK 编码；整份文件全部正确才会保存", validators=[
        FileRequired(message="请选择文件"), FileAllowed(UPLOAD_EXTENSIONS, message="只接受 .xlsx 或 .csv 文件")])
