"""Spreadsheet exports: safe cells, streaming CSV and .xlsx tables, the quarterly review sheet.

Every text cell goes through `neutralize_cell`; workbooks are opened with XlsxWriter's
`strings_to_*` conversions off, so that no text ever turns into a formula, link or number.
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter

from ..adapters.tables.formulas import neutralize_cell
from ..clock import county_time_heading, county_wall_time, format_county_time
from ..domain.figures import ReviewFigures
from . import estimate_text
from ..domain.vocabulary import Position, ReviewStatus, label_of
from ..services.kpi_evidence import EvidenceRow

XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
# Excel's limit on the characters of one cell; longer text is cut with a pointer to the .csv copy.
EXCEL_MAX_CHARS = 32_767
TRUNCATED = "…（内容过长已截断，完整内容见同名 .csv 文件）"
# Rows per worksheet, header included (Excel's limit); a longer table continues on a new sheet.
EXCEL_MAX_ROWS = 1_048_576



def yes_no(value: bool | None) -> str:
    """是 / 否, or "" for unknown."""
    return "" if value is None else ("是" if value else "否")


def cell_text(value: Any) -> str:
    """How a value is written into a CSV cell: text neutralised, dates ISO, booleans 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralize_cell(value)
    return str(value)


class CsvTable:
    """A CSV table written to a binary stream: UTF-8 with BOM (Excel reads the Chinese), CRLF rows."""

    def __init__(self, stream: IO[bytes], headers: Sequence[str]):
        stream.write(codecs.BOM_UTF8)
        self._text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
        self._writer = csv.writer(self._text)
        self._writer.writerow([cell_text(header) for header in headers])

    def write(self, row: Sequence[Any]) -> None:
        self._writer.writerow([cell_text(value) for value in row])

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


class CellFormats:
    """The number formats a workbook writes typed cells with."""

    def __init__(self, book: xlsxwriter.Workbook, **extra: Any):
        self.date = book.add_format({"num_format": "yyyy-mm-dd", **extra})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", **extra})
        self.decimal = book.add_format({"num_format": "0.00##", **extra})
        self.plain = book.add_format(extra) if extra else None


def put(sheet, row: int, column: int, value: Any, formats: CellFormats, cell_format=None) -> None:
    """Write one typed cell; text neutralised, Decimal as a number, None as a blank."""
    if value is None or value == "":
        if cell_format is not None or formats.plain is not None:
            sheet.write_blank(row, column, None, cell_format or formats.plain)
    elif isinstance(value, bool):
        sheet.write_string(row, column, yes_no(value), cell_format or formats.plain)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, column, value, cell_format or formats.datetime)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, datetime(value.year, value.month, value.day), cell_format or formats.date)
    elif isinstance(value, Decimal):
        sheet.write_number(row, column, float(value), cell_format or formats.decimal)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, column, value, cell_format or formats.plain)
    else:
        text = neutralize_cell(str(value))
        if len(text) > EXCEL_MAX_CHARS:
            text = text[: EXCEL_MAX_CHARS - len(TRUNCATED)] + TRUNCATED
        sheet.write_string(row, column, text, cell_format or formats.plain)


class XlsxTable:
    """A one-table workbook written row by row in constant memory; continues on new sheets past Excel's limit."""

    def __init__(self, path: str, title: str, headers: Sequence[str]):
        self._book = xlsxwriter.Workbook(path, {**XLSX_OPTIONS, "constant_memory": True})
        self._title = title
        self._headers = list(headers)
        self._header_format = self._book.add_format({"bold": True, "bg_color": "#EEF1F4", "border": 1})
        self._formats = CellFormats(self._book)
        self._sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self._sheets += 1
        name = self._title if self._sheets == 1 else f"{self._title}（{self._sheets}）"
        self._sheet = self._book.add_worksheet(name[:31])
        for position, header in enumerate(self._headers):
            self._sheet.set_column(position, position, max(10, 2 * len(header) + 2))
            self._sheet.write_string(0, position, neutralize_cell(header), self._header_format)
        self._sheet.freeze_panes(1, 0)
        self._row = 1

    def write(self, row: Sequence[Any]) -> None:
        if self._row == EXCEL_MAX_ROWS:
            self._new_sheet()
        for position, value in enumerate(row):
            put(self._sheet, self._row, position, value, self._formats)
        self._row += 1

    def close(self) -> None:
        self._book.close()


# --- the quarterly review sheet ----------------------------------------------------------------


def review_sheet(review, *, generated_at: datetime, evidence: Mapping[str, Mapping[int, EvidenceRow]]) -> bytes:
    """The quarterly review as an .xlsx laid out for printing on A4, with the records behind each
    figure named by `evidence` (`kpi_evidence.evidence_rows` of its figures)."""
    figures = review.figures
    contract = review.contract
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, XLSX_OPTIONS)
    book.set_properties({"title": f"{contract.code} {figures.quarter} 季度履约考核表", "author": "履约监管"})
    base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    fmt = {
        "title": book.add_format({**base, "bold": True, "font_size": 16, "align": "center"}),
        "subtitle": book.add_format({**base, "align": "center"}),
        "section": book.add_format({**base, "bold": True, "font_size": 11}),
        "label": book.add_format({**base, "bold": True, "border": 1, "bg_color": "#EEF1F4"}),
        "cell": book.add_format({**base, "border": 1, "text_wrap": True}),
        "head": book.add_format({**base, "bold": True, "border": 1, "bg_color": "#EEF1F4", "align": "center",
                                 "text_wrap": True}),
        "percent": book.add_format({**base, "border": 1, "num_format": "0.00%"}),
        "score": book.add_format({**base, "border": 1, "num_format": "0.00"}),
        "int": book.add_format({**base, "border": 1, "num_format": "0"}),
        "total": book.add_format({**base, "bold": True, "border": 1, "num_format": "0.00"}),
        "sign": book.add_format({**base, "font_size": 11}),
    }
    formats = CellFormats(book, **base, border=1)
    sheet = book.add_worksheet("季度考核表")
    widths = (6, 16, 11, 9, 9, 8, 9, 9, 30)
    for position, width in enumerate(widths):
        sheet.set_column(position, position, width)
    last = len(widths) - 1

    def text(row: int, col: int, value: Any, cell_format) -> None:
        put(sheet, row, col, value, formats, cell_format)

    def merged(row: int, first: int, final: int, value: Any, cell_format) -> None:
        sheet.merge_range(row, first, row, final, "", cell_format)
        text(row, first, value, cell_format)

    merged(0, 0, last, f"{contract.title}　{figures.quarter} 季度履约考核表", fmt["title"])
    sheet.set_row(0, 28)
    status = label_of(ReviewStatus, review.status)
    merged(1, 0, last, f"第 {review.revision} 版　状态：{status}", fmt["subtitle"])
    scheme = figures.scheme
    info = (
        ("合同编号", contract.code, "承接机构", contract.contractor.name),
        ("考核方案", f"{scheme.name}（{scheme.code} 第{scheme.version}版）", "考核季度", figures.quarter),
        ("完成服务量", figures.completed_volume, county_time_heading("计算时间"), county_wall_time(review.computed_at)),
    )
    row = 3
    for left_label, left_value, right_label, right_value in info:
        sheet.merge_range(row, 0, row, 1, "", fmt["label"])
        text(row, 0, left_label, fmt["label"])
        sheet.merge_range(row, 2, row, 4, "", fmt["cell"])
        text(row, 2, left_value, fmt["cell"])
        sheet.merge_range(row, 5, row, 6, "", fmt["label"])
        text(row, 5, right_label, fmt["label"])
        sheet.merge_range(row, 7, row, last, "", fmt["cell"])
        text(row, 7, right_value, formats.datetime if isinstance(right_value, datetime) else fmt["cell"])
        row += 1

    row += 1
    text(row, 0, "一、考核指标", fmt["section"])
    row += 1
    table_header = row
    for position, header in enumerate(("序号", "考核指标", "指标值", "分子", "分母", "权重", "实际权重", "得分", "说明")):
        text(row, position, header, fmt["head"])
    for number, indicator in enumerate(figures.indicators, start=1):
        row += 1
        note = indicator.note
        if indicator.no_data and not note:
            note = "本季度无数据"
        text(row, 0, number, fmt["int"])
        text(row, 1, indicator.name, fmt["cell"])
        value = indicator.value
        text(row, 2, value if value is not None else "无数据", fmt["percent"] if value is not None else fmt["cell"])
        text(row, 3, indicator.numerator, fmt["int"])
        text(row, 4, indicator.denominator, fmt["int"])
        text(row, 5, indicator.weight, fmt["score"])
        text(row, 6, indicator.effective_weight, fmt["score"])
        text(row, 7, indicator.score, fmt["score"])
        text(row, 8, note, fmt["cell"])
    row += 1
    sheet.merge_range(row, 0, row, 6, "", fmt["label"])
    text(row, 0, "指标得分合计", fmt["label"])
    text(row, 7, figures.indicator_total, fmt["total"])
    text(row, 8, "", fmt["cell"])
    estimated = [item for item in figures.indicators if item.estimate is not None]
    if estimated:
        row += 2
        text(row, 0, "抽查指标的加权估计（计入考核的指标值）", fmt["section"])
        row += 1
        for first, final, header in ((0, 1, "考核指标"), (2, 2, "加权估计"), (3, 4, "95% 置信区间"), (5, 6, "样本 k/n"),
                                     (7, 8, "定向抽查（不计入估计）")):
            if first == final:
                text(row, first, header, fmt["head"])
            else:
                merged(row, first, final, header, fmt["head"])
        for item in estimated:
            estimate = item.estimate
            row += 1
            merged(row, 0, 1, item.name, fmt["cell"])
            value = estimate.value
            text(row, 2, value if value is not None else "无数据", fmt["percent"] if value is not None else fmt["cell"])
            merged(row, 3, 4, estimate_text.interval(estimate), fmt["cell"])
            merged(row, 5, 6, estimate_text.share(estimate.sample), fmt["cell"])
            merged(row, 7, 8, estimate_text.share(estimate.targeted), fmt["cell"])
        row += 1
        merged(row, 0, last, "注：按各分层（随机层每名服务人员、异常加权层）总体记录数加权；样本 k/n 为复检计数；"
                             "定向抽查的记录非随机抽取，单独列示，不计入估计。", fmt["cell"])

    row += 2
    text(row, 0, "二、加减分项", fmt["section"])
    row += 1
    text(row, 0, "序号", fmt["head"])
    text(row, 1, "分值", fmt["head"])
    sheet.merge_range(row, 2, row, last, "", fmt["head"])
    text(row, 2, "理由", fmt["head"])
    items = figures.manual_items
    for number, item in enumerate(items, start=1):
        row += 1
        text(row, 0, number, fmt["int"])
        text(row, 1, item.points, fmt["score"])
        sheet.merge_range(row, 2, row, last, "", fmt["cell"])
        text(row, 2, item.reason, fmt["cell"])
    if not items:
        row += 1
        sheet.merge_range(row, 0, row, last, "", fmt["cell"])
        text(row, 0, "无", fmt["cell"])
    row += 1
    text(row, 0, "合计", fmt["label"])
    text(row, 1, figures.manual_total, fmt["total"])
    sheet.merge_range(row, 2, row, last, "", fmt["cell"])

    row += 2
    text(row, 0, "三、考核结果", fmt["section"])
    row += 1
    sheet.merge_range(row, 0, row, 1, "", fmt["label"])
    text(row, 0, "总分", fmt["label"])
    sheet.merge_range(row, 2, row, 4, "", fmt["total"])
    text(row, 2, figures.total, fmt["total"])
    sheet.merge_range(row, 5, row, 6, "", fmt["label"])
    text(row, 5, "评级", fmt["label"])
    sheet.merge_range(row, 7, row, last, "", fmt["cell"])
    text(row, 7, figures.rating, fmt["cell"])
    if figures.no_data_keys:
        row += 1
        names = "、".join(figures.no_data_names)
        merged(row, 0, last, f"注：{names} 本季度无数据，其权重已按比例分摊至其他指标。", fmt["cell"])

    row += 2
    text(row, 0, "四、承接机构意见", fmt["section"])
    row += 1
    sheet.merge_range(row, 0, row, 1, "", fmt["label"])
    text(row, 0, "意见", fmt["label"])
    sheet.merge_range(row, 2, row, last, "", fmt["cell"])
    text(row, 2, label_of(Position, review.contractor_position) if review.contractor_position else "尚未提交", fmt["cell"])
    row += 1
    sheet.merge_range(row, 0, row, 1, "", fmt["label"])
    text(row, 0, "说明", fmt["label"])
    sheet.merge_range(row, 2, row, last, "", fmt["cell"])
    text(row, 2, review.contractor_comment or "", fmt["cell"])
    sheet.set_row(row, 45)
    if review.settlement:
        row += 1
        sheet.merge_range(row, 0, row, 1, "", fmt["label"])
        text(row, 0, "裁定意见", fmt["label"])
        sheet.merge_range(row, 2, row, last, "", fmt["cell"])
        text(row, 2, review.settlement, fmt["cell"])
        sheet.set_row(row, 45)

    row += 2
    for line in ("考核人（签字）：　　　　　　　　　　日期：", "承接机构（盖章）：　　　　　　　　日期：",
                 "审核人（签字）：　　　　　　　　　　日期："):
        merged(row, 0, last, line, fmt["sign"])
        sheet.set_row(row, 26)
        row += 1

    sheet.set_paper(9)
    sheet.set_portrait()
    sheet.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    sheet.center_horizontally()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(table_header)
    sheet.print_area(0, 0, row, last)
    footer_name = f"{contract.code} {figures.quarter}".replace("&", "&&")
    sheet.set_footer(f"&L{footer_name}　导出于 {format_county_time(generated_at, labelled=True)}&R第 &P 页，共 &N 页")

    _evidence_sheet(book, figures, evidence)
    book.close()
    return out.getvalue()


def _evidence_sheet(book: xlsxwriter.Workbook, figures: ReviewFigures,
                    evidence: Mapping[str, Mapping[int, EvidenceRow]]) -> None:
    """The records behind each indicator, one per row by 任务编号, so every figure can be traced."""
    sheet = book.add_worksheet("指标依据")
    head = book.add_format({"bold": True, "bg_color": "#EEF1F4", "border": 1})
    formats = CellFormats(book)
    for position, (header, width) in enumerate((("指标", 16), ("分子", 8), ("分母", 8), ("任务编号", 22),
                                                ("依据", 30), ("加权估计", 60))):
        sheet.set_column(position, position, width)
        sheet.write_string(0, position, header, head)
    row = 1
    for indicator in figures.indicators:
        named = evidence.get(indicator.key, {})
        rows: Iterable[EvidenceRow | None] = [named.get(record_id) for record_id in indicator.record_ids] or [None]
        weighted = None if indicator.estimate is None else estimate_text.summary(indicator.estimate)
        for number, found in enumerate(rows):
            for position, value in enumerate((indicator.name, indicator.numerator, indicator.denominator,
                                              found.number if found else None, found.detail if found else None,
                                              None if number else weighted)):
                put(sheet, row, position, value, formats)
            row += 1
    sheet.freeze_panes(1, 0)
