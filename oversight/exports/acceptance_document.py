"""The 验收书 (履约验收书) of one contract's year (.docx and .pdf, in Chinese).

Built once (`build_acceptance_document`) from the stored acceptance and its figures; `to_docx`
and `to_pdf` lay out the same lines under the bureau's name.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from ..domain.acceptance import AcceptanceFigures
from ..domain.money import format_yuan
from ..models import ContractAcceptance
from .reports import pdf_font

DELIVERY_HEADERS = ("服务内容", "年度目标量", "下达服务量", "完成量", "完成率")
CHECK_HEADERS = ("服务内容", "抽查合格率", "回访满意率")
TEAM_HEADERS = ("姓名", "验收小组角色", "单位", "签字")


@dataclass(frozen=True)
class AcceptanceDocument:
    heading: str
    title: str
    facts: tuple[tuple[str, str], ...]
    delivery: tuple[tuple[str, ...], ...]
    checks: tuple[tuple[str, ...], ...]
    team: tuple[tuple[str, ...], ...]
    conclusion: str
    opinion: str
    signature: str
    date: str

    def all_text(self) -> str:
        cells = [cell for table in (self.facts, self.delivery, self.checks, self.team) for row in table for cell in row]
        return "".join([self.heading, self.title, self.conclusion, self.opinion, self.signature, self.date, *cells,
                        *DELIVERY_HEADERS, *CHECK_HEADERS, *TEAM_HEADERS])


def _day(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "    年  月  日"


def build_acceptance_document(acceptance: ContractAcceptance, figures: AcceptanceFigures,
                              bureau_name: str) -> AcceptanceDocument:
    contract = acceptance.contract
    facts = (("合同名称", contract.title), ("合同编号", contract.code), ("承接机构", contract.contractor.name),
             ("合同金额", f"{format_yuan(contract.amount_fen)} 元"),
             ("服务期限", f"{_day(contract.term_start)}至{_day(contract.term_end)}"),
             ("验收年度", f"{acceptance.year}年"), ("验收日期", _day(acceptance.accepted_on)))
    delivery = tuple((line.label, str(line.target), str(line.issued), str(line.completed),
                      f"{line.completion}%" if line.completion is not None else "—") for line in figures.lines)
    checks = tuple((row.label, row.spot_checks.text(), row.satisfaction.text()) for row in figures.checks)
    team = tuple((member.name, member.role_label, member.organisation or "", "") for member in acceptance.members)
    return AcceptanceDocument(
        heading=bureau_name, title=f"政府购买服务项目履约验收书（{acceptance.year}年度）", facts=facts,
        delivery=delivery, checks=checks, team=team,
        conclusion=f"验收结论：{acceptance.conclusion_label}" + ("" if acceptance.concluded else "（草稿，尚未出具）"),
        opinion=f"验收意见：{acceptance.opinion or ''}", signature=bureau_name, date=_day(acceptance.accepted_on))


def _tables(document: AcceptanceDocument):
    return (("一、项目基本情况", ("项目", "内容"), document.facts),
            ("二、服务目标完成情况", DELIVERY_HEADERS, document.delivery),
            ("三、服务质量（抽查复核与电话回访，95%置信区间为 Wilson 区间）", CHECK_HEADERS, document.checks),
            ("四、验收小组（含服务对象代表）", TEAM_HEADERS, document.team))


def to_docx(document: AcceptanceDocument) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    def run(paragraph, text: str, *, size: float = 12, bold: bool = False, font: str = "仿宋"):
        piece = paragraph.add_run(text)
        piece.font.size, piece.font.bold, piece.font.name = Pt(size), bold, "Times New Roman"
        piece._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        return piece

    word = Document()
    section = word.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    word.styles["Normal"].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")
    for text, size, font in ((document.heading, 16, "宋体"), (document.title, 18, "黑体")):
        paragraph = word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run(paragraph, text, size=size, bold=True, font=font)
    for caption, headers, rows in _tables(document):
        run(word.add_paragraph(), caption, size=13, bold=True, font="黑体")
        table = word.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, headers):
            run(cell.paragraphs[0], text, size=10.5, bold=True)
        for values in rows:
            for cell, text in zip(table.add_row().cells, values):
                run(cell.paragraphs[0], text, size=10.5)
    run(word.add_paragraph(), "五、验收结论", size=13, bold=True, font="黑体")
    run(word.add_paragraph(), document.conclusion, bold=True)
    run(word.add_paragraph(), document.opinion)
    for text in (f"采购人（盖章）：{document.signature}", document.date):
        paragraph = word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run(paragraph, text)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def to_pdf(document: AcceptanceDocument) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = pdf_font()
    plain = ParagraphStyle("plain", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    heading = ParagraphStyle("heading", parent=plain, fontSize=16, leading=26, alignment=TA_CENTER)
    title = ParagraphStyle("title", parent=plain, fontSize=17, leading=28, alignment=TA_CENTER, spaceAfter=8)
    caption = ParagraphStyle("caption", parent=plain, fontSize=12.5, leading=22, spaceBefore=8)
    cell = ParagraphStyle("cell", parent=plain, fontSize=9.5, leading=14)
    right = ParagraphStyle("right", parent=plain, alignment=TA_RIGHT)

    def para(text: str, style) -> Paragraph:
        return Paragraph(escape(text), style)

    story = [para(document.heading, heading), para(document.title, title)]
    for text, headers, rows in _tables(document):
        story.append(para(text, caption))
        data = [[para(h, cell) for h in headers]] + [[para(v, cell) for v in row] for row in rows]
        width = 158 * mm / len(headers)
        table = Table(data, colWidths=[width] * len(headers), repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4"))]))
        story.append(table)
    story += [para("五、验收结论", caption), para(document.conclusion, plain), para(document.opinion, plain),
              Spacer(1, 10 * mm), para(f"采购人（盖章）：{document.signature}", right), para(document.date, right)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=26 * mm, rightMargin=26 * mm, topMargin=22 * mm,
                      bottomMargin=22 * mm, title=document.title, author=document.heading).build(story)
    return out.getvalue()
