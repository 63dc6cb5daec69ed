"""The printable 整改通知书 of one rectification notice round (.docx and .pdf, in Chinese).

The content is built once (`build_notice_document`) from the stored notice; `to_docx` and
`to_pdf` lay the same lines out under the bureau's heading, with the notice's number.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from ..clock import local_day
from ..models import RectificationNotice
from .reports import pdf_font


@dataclass(frozen=True)
class NoticeDocument:
    heading: str  # the bureau, e.g. 赣州市赣县区民政局
    title: str
    number: str
    addressee: str
    paragraphs: tuple[str, ...]
    findings: tuple[tuple[str, str, str], ...]  # field, reported, re-checked
    signature: str
    date: str


def _day(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(item) for item in value) or "—"
    return str(value)


def build_notice_document(notice: RectificationNotice, bureau_name: str) -> NoticeDocument:
    """The notice's document: the failed check's differing fields, the requirement and the deadline."""
    check = notice.spot_check
    record = check.record
    contract = notice.contract
    round_text = f"（第{notice.round}轮）" if notice.round > 1 else ""
    findings = tuple((field["label"], _value(field["reported"]), _value(field["rechecked"]))
                     for field in check.comparison["fields"] if field.get("matches") is False)
    paragraphs = [
        f"根据《{contract.title}》（合同编号 {contract.code}）的约定，我局于{_day(check.checked_on)}对你单位"
        f"任务 {record.assignment.number}（服务日期 {_day(record.service_date)}）的服务记录进行了抽查复核"
        f"（{check.method}），复核结论为：{check.comparison['reason']}。",
    ]
    if notice.round > 1 and notice.previous is not None:
        paragraphs.append(f"你单位对整改通知{notice.previous.number}的整改情况经审核不予认可，现重新下发本通知。")
    paragraphs += [
        f"整改要求：{notice.requirement}",
        f"请于{_day(notice.deadline)}前完成整改，并通过履约监管系统提交整改情况及佐证材料。"
        "逾期未整改或整改不合格的，将按合同约定在季度考核中扣分。",
    ]
    return NoticeDocument(
        heading=bureau_name, title=f"整改通知书{round_text}", number=notice.number,
        addressee=f"{contract.contractor.name}：", paragraphs=tuple(paragraphs), findings=findings,
        signature=bureau_name, date=_day(local_day(notice.issued_at)))


# --- .docx ----------------------------------------------------------------------------------


def to_docx(document: NoticeDocument) -> bytes:
    """The notice as a Word document with East-Asian fonts (仿宋 body, 宋体 heading)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    def run(paragraph, text: str, *, size: float = 14, bold: bool = False, font: str = "仿宋",
            color: RGBColor | None = None):
        piece = paragraph.add_run(text)
        piece.font.size, piece.font.bold = Pt(size), bold
        piece.font.name = "Times New Roman"
        piece._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        if color is not None:
            piece.font.color.rgb = color
        return piece

    word = Document()
    section = word.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.6))
    word.styles["Normal"].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")
    heading = word.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(heading, document.heading, size=22, bold=True, font="宋体", color=RGBColor(0xC0, 0x00, 0x00))
    title = word.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(title, document.title, size=18, bold=True, font="黑体")
    number = word.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(number, document.number)
    run(word.add_paragraph(), document.addressee)
    for text in document.paragraphs:
        paragraph = word.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(28)
        run(paragraph, text)
    if document.findings:
        table = word.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("不一致的项目", "上报", "复核")):
            run(cell.paragraphs[0], text, size=12, bold=True)
        for values in document.findings:
            for cell, text in zip(table.add_row().cells, values):
                run(cell.paragraphs[0], text, size=12)
    for text in (document.signature, document.date):
        paragraph = word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run(paragraph, text)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


# --- .pdf -----------------------------------------------------------------------------------


def to_pdf(document: NoticeDocument) -> bytes:
    """The notice as an A4 PDF with the Chinese TrueType font embedded."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=21, wordWrap="CJK", firstLineIndent=24,
                          spaceAfter=4)
    plain = ParagraphStyle("plain", parent=body, firstLineIndent=0)
    styles = {
        "heading": ParagraphStyle("heading", parent=plain, fontSize=22, leading=32, alignment=TA_CENTER,
                                  textColor=colors.HexColor("#c00000"), spaceAfter=6),
        "title": ParagraphStyle("title", parent=plain, fontSize=17, leading=26, alignment=TA_CENTER),
        "number": ParagraphStyle("number", parent=plain, alignment=TA_CENTER, spaceAfter=10),
        "right": ParagraphStyle("right", parent=plain, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=plain, fontSize=10.5, leading=15),
    }

    def para(text: str, style) -> Paragraph:
        return Paragraph(escape(text), style)

    story = [para(document.heading, styles["heading"]), para(document.title, styles["title"]),
             para(document.number, styles["number"]), para(document.addressee, plain)]
    story += [para(text, body) for text in document.paragraphs]
    if document.findings:
        rows = [[para(text, styles["cell"]) for text in ("不一致的项目", "上报", "复核")]]
        rows += [[para(text, styles["cell"]) for text in values] for values in document.findings]
        table = Table(rows, colWidths=[60 * mm, 50 * mm, 50 * mm], repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4"))]))
        story += [Spacer(1, 3 * mm), table, Spacer(1, 6 * mm)]
    story += [Spacer(1, 8 * mm), para(document.signature, styles["right"]), para(document.date, styles["right"])]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=26 * mm, rightMargin=26 * mm, topMargin=25 * mm,
                      bottomMargin=25 * mm, title=f"{document.title} {document.number}", author=document.heading,
                      ).build(story)
    return out.getvalue()
