"""The contractor profile (履约档案) for a tender's scoring committee, as .xlsx and PDF.

The rows are built once (`profile_rows`) from `services.contractor_profile`; the workbook and the
PDF (the annual report's layout, `reports.to_pdf`) lay out the same cells, and the page shows the
same words.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import xlsxwriter

from ..clock import format_county_time
from ..domain.estimates import DesignEstimate
from ..domain.money import format_yuan
from ..domain.statistics import Rate
from ..domain.vocabulary import ComplaintSource, EvaluationStatus, ReviewStatus, label_of
from ..services.contractor_profile import ContractorProfile, YearLine
from . import reports
from .sheets import XLSX_OPTIONS, CellFormats, put


def percent(value: float | None) -> str:
    return "无数据" if value is None else f"{Decimal(str(value)) * 100:.1f}%"


def estimate_value(estimate: DesignEstimate) -> str:
    return percent(estimate.value) if estimate.has_data else "无数据"


def estimate_interval(estimate: DesignEstimate) -> str:
    """"58.9%–94.6%", noting a full inspection (no sampling error)."""
    if not estimate.has_data:
        return "—"
    text = f"{percent(estimate.low)}–{percent(estimate.high)}"
    return f"{text}（全部复检，无抽样误差）" if estimate.effective_size == float("inf") else text


def rate_text(rate: Rate) -> str:
    """"9/11（81.8%）", or 无 without data."""
    return f"{rate.numerator}/{rate.denominator}（{percent(rate.value)}）" if rate.has_data else "无"


def rate_interval(rate: Rate) -> str:
    return f"{percent(rate.low)}–{percent(rate.high)}" if rate.has_data else "—"


def score_text(score: Decimal | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def complaints_text(year: YearLine) -> str:
    complaints = year.complaints
    parts = [f"{label_of(ComplaintSource, source)} {count}" for source, count in complaints.by_source.items() if count]
    return f"{complaints.total} 件" + (f"（{'、'.join(parts)}）" if parts else "")


def rectifications_text(year: YearLine) -> str:
    r = year.rectifications
    text = f"通知 {r.notices} 份，共 {r.rounds} 轮（重新下发 {r.reissued} 轮）"
    ends = [f"{label} {count}" for label, count in (("整改合格", r.accepted), ("整改不合格", r.not_accepted),
                                                     ("申诉改判撤销", r.withdrawn), ("未结", r.open),
                                                     ("升级处理", r.escalated)) if count]
    return text + (f"；{'、'.join(ends)}" if ends else "")


def appeals_text(year: YearLine) -> str:
    a = year.appeals
    if not a.filed:
        return "无"
    return f"{a.filed} 件：维持原结论 {a.upheld}、改判为合格 {a.overturned}、待裁决 {a.pending}"


def evaluation_text(year: YearLine) -> str:
    if year.evaluation is None:
        return "尚无已发布的年度评价"
    status = label_of(EvaluationStatus, year.evaluation.status)
    return f"{score_text(year.evaluation_score)} 分，{year.evaluation.rating}（{status}）"


YEAR_HEADERS = ("合同编号", "年度", "年度评价", "抽查合格率（加权估计）", "95% 置信区间", "样本 k/n",
                "回访满意率", "满意率 95% 区间", "整改", "投诉", "申诉")
QUARTER_HEADERS = ("合同编号", "季度", "考核总分", "等级", "考核状态", "抽查合格率（加权估计）", "95% 置信区间",
                   "样本 k/n", "定向抽查（不计入估计）")


@dataclass(frozen=True)
class ProfileRows:
    contracts: tuple[tuple[str, ...], ...]
    years: tuple[tuple[str, ...], ...]
    quarters: tuple[tuple[str, ...], ...]
    score_lines: tuple[str, ...]


def profile_rows(profile: ContractorProfile, max_points: Decimal | int | str = 10) -> ProfileRows:
    """Every cell of the profile as text, shared by the workbook, the PDF and the page."""
    contracts, years, quarters = [], [], []
    for line in profile.contracts:
        contract = line.contract
        contracts.append((contract.code, contract.title, contract.procurement_method,
                          f"{format_yuan(contract.amount_fen)} 元",
                          f"{contract.term_start:%Y-%m-%d} 至 {contract.term_end:%Y-%m-%d}",
                          "、".join(service.label for service in contract.service_lines)))
        for year in line.years:
            years.append((contract.code, str(year.year), evaluation_text(year), estimate_value(year.spot_check),
                          estimate_interval(year.spot_check), rate_text(year.spot_check.sample),
                          rate_text(year.complaints.satisfaction), rate_interval(year.complaints.satisfaction),
                          rectifications_text(year), complaints_text(year), appeals_text(year)))
            for quarter in year.quarters:
                review = quarter.review
                quarters.append((contract.code, str(quarter.quarter), score_text(quarter.total),
                                 review.rating if review else "—",
                                 label_of(ReviewStatus, review.status) if review else "尚无已发布的考核",
                                 estimate_value(quarter.spot_check), estimate_interval(quarter.spot_check),
                                 rate_text(quarter.spot_check.sample), rate_text(quarter.spot_check.targeted)))
    score = profile.past_performance(max_points)
    lines = [f"过往履约得分（满分 {score.max_points}）：" + ("无已审定的履约结果，由评分办法确定" if score.points is None
                                                  else f"{score.points} 分（历年平均 {score.history_score:.2f} 分）")]
    lines += [f"{year.contract_code} {year.year} 年：{year.basis}" + (f" {year.score:.2f} 分" if year.score is not None
                                                                   else "") for year in score.years]
    lines.append("计分方法：每个合同年度取已审定的年度评价得分，无则取该年已审定季度考核总分的平均，均无则不计；"
                 "各年度得分取平均后按满分折算，四舍五入到 0.01 分。")
    return ProfileRows(tuple(contracts), tuple(years), tuple(quarters), tuple(lines))


CONTRACT_HEADERS = ("合同编号", "合同名称", "采购方式", "合同金额", "服务期限", "服务内容")


def _title(profile: ContractorProfile) -> str:
    return f"{profile.contractor.name} 履约档案"


def to_xlsx(profile: ContractorProfile, *, generated_at: datetime) -> bytes:
    """The profile as a workbook: 合同, 年度, 季度 and 过往履约得分 sheets."""
    rows = profile_rows(profile)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {**XLSX_OPTIONS, "in_memory": True})
    header = book.add_format({"bold": True, "bg_color": "#EEF1F4", "border": 1, "text_wrap": True})
    title = book.add_format({"bold": True, "font_size": 14})
    formats = CellFormats(book, text_wrap=True, valign="top")
    note = f"统一社会信用代码 {profile.contractor.credit_code}　生成时间 {format_county_time(generated_at, labelled=True)}"
    for name, headers, body in (("合同", CONTRACT_HEADERS, rows.contracts), ("年度", YEAR_HEADERS, rows.years),
                                ("季度", QUARTER_HEADERS, rows.quarters)):
        sheet = book.add_worksheet(name)
        put(sheet, 0, 0, _title(profile), formats, title)
        put(sheet, 1, 0, note, formats)
        for column, text in enumerate(headers):
            sheet.set_column(column, column, max(12, 2 * len(text) + 2))
            put(sheet, 3, column, text, formats, header)
        for row, values in enumerate(body, start=4):
            for column, value in enumerate(values):
                put(sheet, row, column, value, formats)
        sheet.freeze_panes(4, 0)
    sheet = book.add_worksheet("过往履约得分")
    sheet.set_column(0, 0, 100)
    put(sheet, 0, 0, _title(profile), formats, title)
    for row, text in enumerate(rows.score_lines, start=2):
        put(sheet, row, 0, text, formats)
    book.close()
    return out.getvalue()


def build_report(profile: ContractorProfile, *, generated_at: datetime) -> reports.Report:
    """The profile as the annual report's blocks (title, tables, notes)."""
    rows = profile_rows(profile)
    report = reports.Report(title=_title(profile), subtitle=f"统一社会信用代码 {profile.contractor.credit_code}",
                            draft=False, landscape=True)
    add = report.blocks.append
    add(reports.Paragraph(f"供评标委员会评审过往履约情况使用。生成时间：{format_county_time(generated_at, labelled=True)}。"
                          "考核与评价为已发布的结果（状态见表）；抽查合格率为按分层加权的设计估计，"
                          "定向抽查不计入估计。"))
    add(reports.Heading("一、合同"))
    add(reports.Table(CONTRACT_HEADERS, rows.contracts, (2, 3, 1.3, 1.6, 2.2, 2)))
    add(reports.Heading("二、各年度履约情况"))
    add(reports.Table(YEAR_HEADERS, rows.years, (1.6, 0.8, 1.8, 1, 1.4, 1, 1.2, 1.4, 2, 1.4, 1.6)))
    add(reports.Heading("三、各季度考核与抽查"))
    add(reports.Table(QUARTER_HEADERS, rows.quarters, (1.6, 1, 0.9, 0.8, 1.4, 1, 1.6, 1.2, 1.2)))
    add(reports.Heading("四、过往履约得分"))
    for text in rows.score_lines:
        add(reports.Paragraph(text))
    return report


def to_pdf(profile: ContractorProfile, *, generated_at: datetime) -> bytes:
    return reports.to_pdf(build_report(profile, generated_at=generated_at))
