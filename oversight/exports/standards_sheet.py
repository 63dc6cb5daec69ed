"""Local standards as spreadsheets: the import template (`flask import-standards`) and the
finance sheet of 特困人员 care allowances month by month."""
from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import xlsxwriter

from ..adapters.tables.formulas import neutralize_cell
from ..clock import format_county_time
from ..domain.identifiers import mask_id_number
from ..domain.local_standards import SHEET_COLUMNS
from ..domain.money import fen_to_yuan
from ..services.standards import FinanceRow
from .sheets import XLSX_OPTIONS

GUIDE_SHEET = "填写说明"
EXAMPLE = {
    "年度": "2026", "生效日期": "2026-01-01", "城市低保标准（元/人/月）": "880", "农村低保标准（元/人/月）": "720",
    "护理补贴一档 全护理（元/月）": "960", "护理补贴二档 半护理（元/月）": "580", "护理补贴三档 全自理（元/月）": "190",
    "抽查比例（%）": "5", "最少抽查份数": "5", "回访比例（%）": "10", "再培训阈值（差错率 %）": "10",
    "定向复查阈值（差错率 %）": "30", "定向复查的最少抽查数": "5",
    "法定节假日": "2026-01-01~2026-01-03、2026-02-15~2026-02-23、2026-04-04~2026-04-06、2026-05-01~2026-05-05、"
                  "2026-06-19~2026-06-21、2026-09-25~2026-09-27、2026-10-01~2026-10-07",
    "调休上班日": "2026-01-04、2026-02-14、2026-02-28、2026-05-09、2026-09-20、2026-10-10",
    "变更原因": "县民政局、财政局关于2026年城乡低保和特困人员供养标准的通知",
}


def standards_template() -> bytes:
    """A sheet with the standards' headers (required ones shaded, each with its rule as a
    comment), one example row to overwrite, and a 填写说明 sheet."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, XLSX_OPTIONS)
    sheet = book.add_worksheet("地方标准")
    text = book.add_format({"num_format": "@"})
    for position, (header, _, note) in enumerate(SHEET_COLUMNS):
        shade = {"bold": True, "border": 1} | ({"bg_color": "#FFF2CC"} if note.startswith("必填") else {})
        sheet.write_string(0, position, header, book.add_format(shade))
        sheet.write_comment(0, position, note)
        sheet.set_column(position, position, max(12, 2 * len(header) + 4), text)
        sheet.write_string(1, position, EXAMPLE.get(header, ""))
    sheet.freeze_panes(1, 0)
    guide = book.add_worksheet(GUIDE_SHEET)
    bold = book.add_format({"bold": True, "border": 1})
    guide.write_row(0, 0, ("列名", "说明"), bold)
    guide.set_column(0, 0, 28)
    guide.set_column(1, 1, 90)
    for row, (header, _, note) in enumerate(SHEET_COLUMNS, start=1):
        guide.write_row(row, 0, (header, note))
    guide.write_string(len(SHEET_COLUMNS) + 2, 0,
                       "每行是一个标准版本（某年度自生效日期起执行）；同一年度可有多行，按生效日期执行。"
                       "整份文件全部正确才会导入，有错误时不导入任何一行，并列出行号、列名和原因。")
    book.close()
    return out.getvalue()


def care_allowance_sheet(county: str, year: int, rows: Sequence[FinanceRow], *, generated_at: datetime) -> bytes:
    """One row per 特困 person: the tier in force at each month's end and that tier's allowance by
    the standard in force that day (元), the year's total; a totals row; ID numbers masked."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, XLSX_OPTIONS)
    sheet = book.add_worksheet(f"{year}年护理补贴")
    bold = book.add_format({"bold": True, "border": 1, "text_wrap": True, "valign": "vcenter"})
    money = book.add_format({"num_format": "#,##0.00"})
    money_bold = book.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    heading = ["序号", "姓名", "身份证号", "乡镇（街道）", "村（社区）"]
    for month in range(1, 13):
        heading += [f"{month}月档次", f"{month}月补贴（元）"]
    heading.append("全年合计（元）")
    sheet.write_string(0, 0, f"{county} {year} 年特困人员照料护理补贴（按各月末有效的评估结论和地方标准）")
    sheet.write_string(1, 0, f"生成时间：{format_county_time(generated_at, labelled=True)}")
    sheet.write_row(2, 0, heading, bold)
    first = 3
    for offset, row in enumerate(rows):
        line = first + offset
        person = row.subject
        sheet.write_number(line, 0, offset + 1)
        for column, value in enumerate((person.name, mask_id_number(person.id_number), person.township,
                                        person.village), start=1):
            sheet.write_string(line, column, neutralize_cell(value or ""))
        for month in row.months:
            column = 5 + 2 * (month.month - 1)
            if month.tier:
                sheet.write_string(line, column, month.tier)
            if month.allowance_fen is not None:
                sheet.write_number(line, column + 1, float(fen_to_yuan(month.allowance_fen)), money)
        sheet.write_number(line, 5 + 24, float(fen_to_yuan(row.total_fen)), money)
    totals = first + len(rows)
    sheet.write_string(totals, 1, "合计", bold)
    for month in range(12):
        amount = sum(row.months[month].allowance_fen or 0 for row in rows)
        sheet.write_number(totals, 5 + 2 * month + 1, float(fen_to_yuan(amount)), money_bold)
    sheet.write_number(totals, 5 + 24, float(fen_to_yuan(sum(row.total_fen for row in rows))), money_bold)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 4, 14)
    sheet.set_column(5, 5 + 24, 12)
    sheet.freeze_panes(3, 2)
    book.close()
    return out.getvalue()
