"""The downloadable .xlsx templates: completion logs (SPEC section 4), bulk registry sheets and
the verification files (核对平台结果, 死亡登记).

Completion-log sheets: "服务记录" (the headers, optionally pre-filled assignments, drop-down lists),
"服务人员" (the registered workers the 工号 drop-down reads) and "填写说明".
服务项目 may hold several items, which an Excel list cannot: its drop-down offers one item and
only informs (does not refuse) when the cell holds several separated by 、.
"""
from __future__ import annotations

import io
from collections.abc import Sequence

import xlsxwriter

from oversight.adapters.tables.formulas import neutralize_cell
from oversight.domain import self_care
from oversight.domain.verification_files import FILE_COLUMNS
from oversight.domain.vocabulary import ServiceType, SubjectCategory, SubjectKind, VerificationKind
from oversight.domain.completion_log import (
    CARE_ITEMS,
    MAX_HOUSEHOLD_SIZE,
    PREFILLED_COLUMNS,
    SURVEY_CONCLUSIONS,
    TEMPLATE_COLUMNS,
)
from oversight.domain.registry_import import ASSIGNMENT_COLUMNS, ASSIGNMENT_REQUIRED, SUBJECT_COLUMNS, SUBJECT_REQUIRED

DATA_SHEET = "服务记录"
WORKER_SHEET = "服务人员"
GUIDE_SHEET = "填写说明"
LAST_ROW = 1_048_575
UNSTARTED_ROWS_NOTE = (f"只有{'、'.join(column.header for column in PREFILLED_COLUMNS)}"
                       "（预填的列）而其余各列都空着的行视为未填写，上传时跳过并计数（如“320 行未填写，已跳过”），"
                       "不会报错；只要填了其中任何一列，该行就按全部规则检查。不需要的预填行可以保留。")

_TEXT_KEYS = {"number", "subject_name", "id_number", "worker_no", "worker_name", "remark", "care_items"}
_CHOICES = {
    "survey_conclusion": SURVEY_CONCLUSIONS,
    "conclusion": self_care.CONCLUSIONS,
    "signed": ("是", "否"),
    **{key: ("能", "不能") for key in self_care.ITEM_KEYS},
}


def build_template(
    service_type: str,
    workers: Sequence[tuple[str, str]],
    prefill: Sequence[tuple[str, str, str]] = (),
) -> bytes:
    """The template as .xlsx bytes; `prefill` rows hold the PREFILLED_COLUMNS (任务编号,
    服务对象姓名, 身份证号); the rows left so are skipped on upload (UNSTARTED_ROWS_NOTE)."""
    columns = TEMPLATE_COLUMNS[service_type]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    sheet = book.add_worksheet(DATA_SHEET)
    formats = {
        "required": book.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1}),
        "optional": book.add_format({"bold": True, "border": 1}),
        "text": book.add_format({"num_format": "@"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "time": book.add_format({"num_format": "hh:mm"}),
        "money": book.add_format({"num_format": "0.00"}),
    }
    for position, column in enumerate(columns):
        sheet.write_string(0, position, column.header, formats["required" if column.required else "optional"])
        if column.note:
            sheet.write_comment(0, position, ("必填。" if column.required else "") + column.note)
        sheet.set_column(position, position, max(10, 2 * len(column.header) + 2), _column_format(column.key, formats))
        _validate(sheet, position, column.key, len(workers))
    for row, values in enumerate(prefill, start=1):
        for position, value in enumerate(values):
            sheet.write_string(row, position, neutralize_cell(str(value)))
    sheet.freeze_panes(1, 0)

    staff = book.add_worksheet(WORKER_SHEET)
    staff.write_row(0, 0, ("工号", "姓名"), formats["optional"])
    staff.set_column(0, 1, 14, formats["text"])
    for row, (number, name) in enumerate(workers, start=1):
        staff.write_string(row, 0, neutralize_cell(str(number)))
        staff.write_string(row, 1, neutralize_cell(str(name)))

    guide = book.add_worksheet(GUIDE_SHEET)
    guide.write_row(0, 0, ("列名", "是否必填", "说明"), formats["optional"])
    guide.set_column(0, 0, 18)
    guide.set_column(2, 2, 80)
    for row, column in enumerate(columns, start=1):
        guide.write_row(row, 0, (column.header, "必填" if column.required else "可选", column.note))
    guide.write_string(len(columns) + 2, 0, "整份文件全部正确才会被接收；有错误时不会保存任何一行，请按错误报告修改后重新上传。")
    guide.write_string(len(columns) + 3, 0, UNSTARTED_ROWS_NOTE)
    book.close()
    return out.getvalue()


def _column_format(key: str, formats: dict) -> object:
    if key in _TEXT_KEYS:
        return formats["text"]
    if key == "service_date":
        return formats["date"]
    if key in ("start_time", "end_time"):
        return formats["time"]
    if key.endswith("_fen"):
        return formats["money"]
    return None


def _validate(sheet, position: int, key: str, worker_count: int) -> None:
    """Drop-down lists and range checks Excel applies while the user types."""
    rule: dict | None = None
    if key in _CHOICES:
        rule = {"validate": "list", "source": list(_CHOICES[key]),
                "error_title": "请从下拉列表中选择", "error_message": "可选：" + "、".join(_CHOICES[key])}
    elif key == "worker_no" and worker_count:
        rule = {"validate": "list", "source": f"='{WORKER_SHEET}'!$A$2:$A${worker_count + 1}",
                "error_title": "工号未登记", "error_message": f"请从“{WORKER_SHEET}”表中的工号选择"}
    elif key == "care_items":
        rule = {"validate": "list", "source": list(CARE_ITEMS), "error_type": "information",
                "error_title": "多个服务项目", "error_message": "可填写多项，用、分隔：" + "、".join(CARE_ITEMS)}
    elif key == "household_size":
        rule = {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": MAX_HOUSEHOLD_SIZE,
                "error_title": "家庭人口数", "error_message": f"应为1到{MAX_HOUSEHOLD_SIZE}之间的整数"}
    if rule:
        sheet.data_validation(1, position, LAST_ROW, position, rule)


def sheet_template(kind: str) -> bytes:
    """A blank .xlsx with the sheet's headers (required ones shaded) and drop-down lists."""
    columns, required, choices = {
        "subjects": (SUBJECT_COLUMNS, SUBJECT_REQUIRED,
                     {"类型": list(SubjectKind.labels().values()), "类别": list(SubjectCategory.codes())}),
        "assignments": (ASSIGNMENT_COLUMNS, ASSIGNMENT_REQUIRED, {"服务类型": list(ServiceType.labels().values())}),
    }[kind]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("服务对象" if kind == "subjects" else "任务")
    text = book.add_format({"num_format": "@"})
    for position, header in enumerate(columns):
        shade = {"bold": True, "border": 1} | ({"bg_color": "#FFF2CC"} if header in required else {})
        sheet.write_string(0, position, header, book.add_format(shade))
        sheet.set_column(position, position, max(12, 2 * len(header) + 4), text)
        if header in choices:
            sheet.data_validation(1, position, LAST_ROW, position,
                                  {"validate": "list", "source": choices[header]})
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def verification_template(kind: str) -> bytes:
    """A blank verification file (核对平台结果 or 死亡登记, `domain.verification_files`): the
    headers (required ones shaded, each with its rule as a comment) and a "填写说明" sheet."""
    columns = FILE_COLUMNS[kind]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    sheet = book.add_worksheet(VerificationKind(kind).label)
    formats = {"text": book.add_format({"num_format": "@"}), "date": book.add_format({"num_format": "yyyy-mm-dd"}),
               "money": book.add_format({"num_format": "0.00"})}
    for position, column in enumerate(columns):
        shade = {"bold": True, "border": 1} | ({"bg_color": "#FFF2CC"} if column.required else {})
        sheet.write_string(0, position, column.header, book.add_format(shade))
        sheet.write_comment(0, position, ("必填。" if column.required else "") + column.note)
        kind_of_cell = ("date" if column.header.endswith("日期") else "money" if column.header.endswith("(元)")
                        else None if column.header.endswith("数量") else "text")
        sheet.set_column(position, position, max(12, 2 * len(column.header) + 4), formats.get(kind_of_cell))
    sheet.freeze_panes(1, 0)
    guide = book.add_worksheet(GUIDE_SHEET)
    bold = book.add_format({"bold": True, "border": 1})
    guide.write_row(0, 0, ("列名", "是否必填", "说明"), bold)
    guide.set_column(0, 0, 18)
    guide.set_column(2, 2, 80)
    for row, column in enumerate(columns, start=1):
        guide.write_row(row, 0, (column.header, "必填" if column.required else "可选", column.note))
    guide.write_string(len(columns) + 2, 0, "每人一行；整份文件全部正确才会被导入，有错误时不会导入任何一行，"
                                            "请按错误报告修改后重新导入。")
    book.close()
    return out.getvalue()
