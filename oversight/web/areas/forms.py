from flask_wtf.file import FileAllowed, FileField, FileRequired

from ..forms_common import Form


class AreaFileForm(Form):
    file = FileField("区划文件（.xlsx 或 .csv，列：区划代码、名称）", validators=[
        FileRequired(message="请选择文件"), FileAllowed(["xlsx", "csv"], message="只接受 .xlsx 或 .csv 文件")])


class OutlineFileForm(Form):
    file = FileField("边界文件（GeoJSON 要素集合，properties 中 code 或 区划代码）", validators=[
        FileRequired(message="请选择文件"),
        FileAllowed(["geojson", "json"], message="只接受 .geojson 或 .json 文件")])
