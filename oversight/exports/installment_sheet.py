"""The finance export of the payment schedule (.xlsx): one row per installment, amounts in yuan to the fen."""
from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import xlsxwriter

from ..domain.money import fen_to_yuan
from ..services.installments import ScheduleRow
from .sheets import XLSX_OPTIONS, CellFormats, put

HEADERS = ("合同编号", "合同名称", "承接机构", "序号", "分期名称", "类型", "支付条件", "所属年度", "约定日期",
           "约定比例", "应付金额（元）", "暂扣金额（元）", "状态", "状态说明", "支付日期", "已付金额（元）")


def _share(share_bp: int | None) -> str:
    return "" if share_bp is None else f"{share_bp / 100:g}%"


def installment_sheet(rows: Sequence[ScheduleRow], *, today: date) -> bytes:
    """Every installment with its state on `today` (county day), totals at the foot."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {**XLSX_OPTIONS, "in_memory": True})
    sheet = book.add_worksheet("付款计划")
    formats = CellFormats(book)
    money = book.add_format({"num_format": "#,##0.00"})
    bold = book.add_format({"bold": True, "bg_color": "#EEF1F4", "border": 1})
    put(sheet, 0, 0, f"付款计划及支付情况（截至 {today.isoformat()}，北京时间）", formats)
    for column, header in enumerate(HEADERS):
        sheet.set_column(column, column, max(10, 2 * len(header) + 2))
        sheet.write_string(1, column, header, bold)
    due_total = withheld_total = paid_total = 0
    for offset, row in enumerate(rows, start=2):
        item, state = row.installment, row.state
        contract = item.contract
        values = (contract.code, contract.title, contract.contractor.name, item.sequence, item.title, item.kind_label,
                  item.condition_label, item.year, item.due_on, _share(item.share_bp))
        for column, value in enumerate(values):
            put(sheet, offset, column, value, formats)
        for column, fen in ((10, state.due_fen), (11, state.withheld_fen), (15, item.paid_fen)):
            if fen is None:
                put(sheet, offset, column, "未定" if column == 10 else None, formats)
            else:
                sheet.write_number(offset, column, float(fen_to_yuan(fen)), money)
        for column, value in ((12, state.status_label), (13, state.reason), (14, item.paid_on)):
            put(sheet, offset, column, value, formats)
        due_total += state.due_fen or 0
        withheld_total += state.withheld_fen
        paid_total += item.paid_fen or 0
    foot = len(rows) + 2
    sheet.write_string(foot, 0, "合计", bold)
    for column, fen in ((10, due_total), (11, withheld_total), (15, paid_total)):
        sheet.write_number(foot, column, float(fen_to_yuan(fen)), money)
    sheet.freeze_panes(2, 0)
    book.close()
    return out.getvalue()

