"""The annual evaluation report (.docx and .pdf, in Chinese): the tables and charts a review meeting uses.

The content is built once as a list of blocks (`build_report`) from the stored evaluation and its
quarterly reviews; `to_docx` and `to_pdf` only lay the same blocks out.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from ..charts import CJK_FONT_FILES
from ..charts.performance import rates_with_intervals, score_trend
from ..domain.figures import QuarterWeight
from ..clock import format_county_time
from ..domain.money import format_yuan
from ..extensions import db
from ..models import AnnualEvaluation, PaymentRecord, QuarterlyReview
from . import estimate_text
from ..domain.vocabulary import EvaluationStatus, PaymentKind, label_of



# --- content --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths


@dataclass(frozen=True)
class Figure:
    png: bytes
    caption: str


@dataclass
class Report:
    title: str
    subtitle: str
    draft: bool
    blocks: list = field(default_factory=list)
    landscape: bool = False  # wide tables (the contractor profile, the public notice)


def _percent(text: Decimal | str | None) -> str:
    if text is None or text == "":
        return "无数据"
    return f"{Decimal(str(text)) * 100:.2f}%"


def _yuan(fen: int | None) -> str:
    return f"{format_yuan(fen)} 元" if fen is not None else ""


def _reviews_of(evaluation: AnnualEvaluation) -> dict[int, QuarterlyReview]:
    ids = evaluation.figures.review_ids
    if not ids:
        return {}
    rows = db.session.execute(select(QuarterlyReview).where(QuarterlyReview.id.in_(ids))).scalars()
    return {review.id: review for review in rows}


def _payments_of(evaluation: AnnualEvaluation) -> list[PaymentRecord]:
    return db.session.execute(
        select(PaymentRecord)
        .where(PaymentRecord.contract_id == evaluation.contract_id,
               PaymentRecord.paid_on >= date(evaluation.year, 1, 1),
               PaymentRecord.paid_on <= date(evaluation.year, 12, 31))
        .order_by(PaymentRecord.paid_on, PaymentRecord.id)
    ).scalars().all()


def build_report(evaluation: AnnualEvaluation, *, generated_at: datetime) -> Report:
    """The report's title and blocks, from the evaluation, its quarterly reviews and the year's payments."""
    figures = evaluation.figures
    contract = evaluation.contract
    contractor = contract.contractor
    reviews = _reviews_of(evaluation)
    quarters = figures.quarters
    status = label_of(EvaluationStatus, evaluation.status)
    report = Report(
        title=f"{figures.year}年度绩效评价报告",
        subtitle=f"{contract.title}（合同编号 {contract.code}）",
        draft=evaluation.status != "approved",
    )
    add = report.blocks.append
    if report.draft:
        add(Paragraph("本报告为草稿：年度评价尚未批准，其中数据可能变动。"))
    add(Paragraph(f"评价状态：{status}（第 {evaluation.revision} 版）　生成时间：{format_county_time(generated_at, labelled=True)}"))

    add(Heading("一、合同概况"))
    add(Table(("项目", "内容"), (
        ("合同名称", contract.title),
        ("合同编号", contract.code),
        ("承接机构", contractor.name),
        ("统一社会信用代码", contractor.credit_code),
        ("采购方式", contract.procurement_method),
        ("合同金额", _yuan(contract.amount_fen)),
        ("服务期限", f"{contract.term_start:%Y年%m月%d日} 至 {contract.term_end:%Y年%m月%d日}"),
        ("服务内容", "、".join(f"{line.label}（年度目标 {line.annual_target}）" for line in contract.service_lines)),
        ("绩效挂钩比例", _percent(figures.payment.performance_share)),
    ), (1, 3)))

    add(Heading("二、季度考核结果"))
    add(Table(("季度", "考核版本", "季度得分", "评级", "完成服务量", "计入年度权重"), tuple(
        (q.quarter, f"第 {q.revision} 版", str(q.total),
         reviews[q.review_id].rating if q.review_id in reviews else "",
         str(q.completed_volume), _percent(q.weight))
        for q in quarters
    ), (1, 1, 1, 1, 1, 1)))
    add(Paragraph("年度得分为各季度得分按完成服务量加权的平均值（各季度均无完成量时取算术平均），再加年度加减分。"))
    missing = figures.missing_quarters
    if missing:
        add(Paragraph("尚未审定、未计入年度得分的季度：" + "、".join(row.quarter for row in missing) + "。"))
    counted = [reviews[q.review_id] for q in quarters if q.review_id in reviews]
    for number, (png, caption) in enumerate(contract_charts(contract, counted), start=1):
        add(Figure(png, f"图{number}　{caption}"))

    indicator_rows = _indicator_rows(quarters, reviews)
    if indicator_rows:
        add(Heading("三、分项指标"))
        add(Paragraph(_indicator_note(quarters, reviews)))
        add(Table(("考核指标", *(q.quarter for q in quarters)), indicator_rows, (2, *([2] * len(quarters)))))
    estimate_rows = _estimate_rows(quarters, reviews)
    if estimate_rows:
        add(Paragraph("抽查合格率与数据准确率的指标值为按各分层总体记录数加权的估计；样本 k/n 为复检计数；"
                      "定向抽查的记录非随机抽取，单独列示，不计入估计。"))
        add(Table(("季度", "考核指标", "加权估计", "95% 置信区间", "样本 k/n", "定向抽查（不计入估计）"), estimate_rows,
                  (1, 1.4, 1, 1.8, 1.4, 1.6)))

    add(Heading("四、年度加减分"))
    items = figures.annual_items
    if items:
        add(Table(("序号", "分值", "理由"), tuple(
            (str(number), str(item.points), item.reason) for number, item in enumerate(items, start=1)
        ), (1, 1, 6)))
    else:
        add(Paragraph("无。"))

    add(Heading("五、年度评价结论"))
    add(Paragraph(f"年度得分 {figures.score} 分，评级为“{figures.rating}”。"))

    payment = figures.payment

    def pending(fen: int) -> str:
        """A payment figure: final once the evaluation is approved, 未定 (with the estimate) before."""
        return f"未定（测算 {_yuan(fen)}）" if report.draft else _yuan(fen)

    add(Heading("六、绩效挂钩款项"))
    add(Table(("项目", "金额或比例"), tuple(row for row in (
        ("合同金额", _yuan(payment.contract_amount_fen)),
        (f"其中{figures.year}年度部分（按服务天数）", _yuan(payment.year_amount_fen)),
        ("绩效挂钩比例", _percent(payment.performance_share)),
        ("固定部分", _yuan(payment.fixed_fen)),
        ("绩效挂钩部分", _yuan(payment.linked_fen)),
        (f"评级“{figures.rating}”对应支付比例", _percent(payment.payout_rate)),
        ("绩效挂钩部分应付", pending(payment.payable_fen)),
        ("扣减", pending(payment.withheld_fen)),
        ("已预付（绩效挂钩部分）", _yuan(payment.already_paid_fen)),
        ("尚需支付", pending(payment.remaining_fen)),
        ("应追回（预付超过应付）", pending(payment.to_recover_fen)) if payment.to_recover_fen else None,
    ) if row), (1, 1)))

    payments = _payments_of(evaluation)
    add(Heading("七、本年度付款记录"))
    if payments:
        add(Table(("付款日期", "类别", "金额", "备注"), tuple(
            (f"{p.paid_on:%Y-%m-%d}", label_of(PaymentKind, p.kind), _yuan(p.amount_fen), p.note or "")
            for p in payments
        ), (1, 1, 1, 2)))
    else:
        add(Paragraph("本年度无付款记录。"))

    add(Paragraph("评价单位（盖章）：　　　　　　　　　　日期："))
    return report


def _indicator_rows(quarters: Sequence[QuarterWeight],
                    reviews: dict[int, QuarterlyReview]) -> tuple[tuple[str, ...], ...]:
    names: dict[str, str] = {}
    cells: dict[tuple[str, str], str] = {}
    for quarter in quarters:
        review = reviews.get(quarter.review_id)
        for indicator in review.figures.indicators if review else ():
            names.setdefault(indicator.key, indicator.name)
            if indicator.no_data:
                cells[indicator.key, quarter.quarter] = "无数据"
            elif indicator.value is None:
                cells[indicator.key, quarter.quarter] = f"无此类事项（{indicator.score}分）"
            else:
                cells[indicator.key, quarter.quarter] = f"{_percent(indicator.value)}（{indicator.score}分）"
    return tuple(
        (name, *(cells.get((key, quarter.quarter), "—") for quarter in quarters)) for key, name in names.items()
    )


def _indicator_note(quarters: Sequence[QuarterWeight], reviews: dict[int, QuarterlyReview]) -> str:
    """What the indicator table's cells mean, saying for each kind of empty cell it holds what the
    scoring did (domain.scoring): an indicator without data is not scored and its weight is
    re-spread over the quarter's others; one marked full when empty (no notices due) scores in full."""
    re_spread: dict[str, None] = {}
    in_full: dict[str, None] = {}
    for quarter in quarters:
        review = reviews.get(quarter.review_id)
        for indicator in review.figures.indicators if review else ():
            if indicator.no_data:
                re_spread[indicator.name] = None
            elif indicator.value is None:
                in_full[indicator.name] = None
    parts = ["每格为指标值及其得分"]
    if re_spread:
        parts.append(f"“无数据”（{'、'.join(re_spread)}）：当季没有可计算的记录，该指标不计分，其权重按比例分摊至当季"
                     "其他指标，当季其他指标的得分按分摊后的实际权重计算")
    if in_full:
        parts.append(f"“无此类事项”（{'、'.join(in_full)}）：当季没有应考核的事项，该指标按满分计，即得其当季实际权重的全部分值")
    return "；".join(parts) + "。"


def _estimate_rows(quarters: Sequence[QuarterWeight],
                   reviews: dict[int, QuarterlyReview]) -> tuple[tuple[str, ...], ...]:
    """Per quarter, each indicator scored on a design-based estimate: estimate, interval, raw k/n, targeted."""
    rows = []
    for quarter in quarters:
        review = reviews.get(quarter.review_id)
        for indicator in review.figures.indicators if review else ():
            estimate = indicator.estimate
            if estimate is not None:
                rows.append((quarter.quarter, indicator.name, estimate_text.percent(estimate.value),
                             estimate_text.interval(estimate), estimate_text.share(estimate.sample),
                             estimate_text.share(estimate.targeted)))
    return tuple(rows)


# --- charts ---------------------------------------------------------------------------------


def contract_charts(contract, reviews: list[QuarterlyReview]) -> list[tuple[bytes, str]]:
    """The charts of a contract's year as (PNG, caption), drawn by `oversight.charts.performance`."""
    if not reviews:
        return []
    return [(score_trend(contract, reviews), "各季度考核得分与评级分数线"),
            (rates_with_intervals(reviews), "抽查合格率、回访满意率与服务真实率（竖线为95%置信区间）")]


# --- .docx ----------------------------------------------------------------------------------


def to_docx(report: Report) -> bytes:
    """The report as a Word document, East-Asian fonts set so that Word shows the Chinese as 宋体/黑体."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    def east_asian(style, font: str) -> None:
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.2))
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_before = Pt(6)
    east_asian(normal, "宋体")
    for name in ("Title", "Subtitle", "Heading 1"):
        style = document.styles[name]
        style.font.name = "Times New Roman"
        east_asian(style, "黑体")

    title = document.add_paragraph(report.title, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = document.add_paragraph(report.subtitle, style="Subtitle")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    usable = section.page_width - section.left_margin - section.right_margin
    for block in report.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Paragraph):
            document.add_paragraph(block.text)
        elif isinstance(block, Figure):
            document.add_picture(io.BytesIO(block.png), width=Cm(15))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = document.add_paragraph(block.caption)
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif isinstance(block, Table):
            table = document.add_table(rows=1, cols=len(block.headers))
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, header in zip(table.rows[0].cells, block.headers):
                cell.text = header
                cell.paragraphs[0].runs[0].bold = True
                shading = OxmlElement("w:shd")
                shading.set(qn("w:val"), "clear")
                shading.set(qn("w:fill"), "EEF1F4")
                cell._tc.get_or_add_tcPr().append(shading)
            for values in block.rows:
                for cell, value in zip(table.add_row().cells, values):
                    cell.text = value
            share = usable / sum(block.widths)
            for column, width in zip(table.columns, block.widths):
                for cell in column.cells:
                    cell.width = int(share * width)
    footer = section.footer.paragraphs[0]
    footer.text = f"{report.subtitle}　{report.title}"
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- .pdf -----------------------------------------------------------------------------------

PDF_FONT = "WenQuanYiMicroHei"


@lru_cache(maxsize=1)
def pdf_font() -> str:
    """Register the embeddable TrueType CJK font with reportlab (a .ttc needs its sub-font index)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in CJK_FONT_FILES:
        if Path(path).exists() and path.endswith((".ttc", ".ttf")):
            pdfmetrics.registerFont(TTFont(PDF_FONT, path, subfontIndex=0))
            return PDF_FONT
    raise RuntimeError("未找到可嵌入 PDF 的中文 TrueType 字体：请安装 fonts-wqy-microhei")


def to_pdf(report: Report) -> bytes:
    """The report as an A4 PDF with the Chinese font embedded, page numbers, and 草稿 across a draft."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, KeepTogether, SimpleDocTemplate, Spacer
    from reportlab.platypus import Paragraph as PdfParagraph
    from reportlab.platypus import Table as PdfTable
    from reportlab.platypus import TableStyle
    from xml.sax.saxutils import escape

    font = pdf_font()
    page = (A4[1], A4[0]) if report.landscape else A4
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK", spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=12, spaceAfter=0)
    head = ParagraphStyle("head", parent=cell, textColor=colors.HexColor("#1f2933"))
    styles = {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11, alignment=TA_CENTER, spaceAfter=12),
        "heading": ParagraphStyle("heading", parent=body, fontSize=13, leading=20, spaceBefore=10, spaceAfter=6,
                                  textColor=colors.HexColor("#a8262d")),
        "caption": ParagraphStyle("caption", parent=body, fontSize=9, alignment=TA_CENTER),
    }
    width = page[0] - 40 * mm

    def para(text: str, style) -> PdfParagraph:
        return PdfParagraph(escape(text).replace("\n", "<br/>"), style)

    story = [para(report.title, styles["title"]), para(report.subtitle, styles["subtitle"])]
    for block in report.blocks:
        if isinstance(block, Heading):
            story.append(para(block.text, styles["heading"]))
        elif isinstance(block, Paragraph):
            story.append(para(block.text, body))
        elif isinstance(block, Figure):
            image = Image(io.BytesIO(block.png))
            scale = min(1.0, (150 * mm) / image.imageWidth)
            image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
            story.append(KeepTogether([image, para(block.caption, styles["caption"])]))
        elif isinstance(block, Table):
            share = width / sum(block.widths)
            data = [[para(text, head) for text in block.headers]]
            data += [[para(text, cell) for text in row] for row in block.rows]
            table = PdfTable(data, colWidths=[share * w for w in block.widths], repeatRows=1)
            table.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]))
            story += [table, Spacer(1, 4 * mm)]

    def decorate(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#6b7785"))
        canvas.drawCentredString(page[0] / 2, 12 * mm, f"{report.subtitle}　第 {document.page} 页")
        if report.draft:
            canvas.setFont(font, 90)
            canvas.setFillColor(colors.Color(0.66, 0.15, 0.18, alpha=0.12))
            canvas.translate(page[0] / 2, page[1] / 2)
            canvas.rotate(40)
            canvas.drawCentredString(0, 0, "草稿")
        canvas.restoreState()

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=page, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                      bottomMargin=20 * mm, title=f"{report.title} {report.subtitle}", author="履约监管",
                      ).build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
