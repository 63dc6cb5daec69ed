"""The quarterly review sheet and the annual evaluation report, built from stored reviews and evaluations."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from oversight.charts import missing_glyphs
from oversight.exports import reports
from oversight.exports.sheets import review_sheet
from oversight.extensions import db
from oversight.models import CompletionRecord
from oversight.services.kpi_evidence import EvidenceRow, evidence_rows
from tests.exports_support import GOOD_QUARTER, make_evaluation, make_payment, make_review

NOW = datetime(2026, 1, 20, 9, 0)
INJECTION = '=HYPERLINK("http://evil.example/","点我")'


@pytest.fixture
def year(factory):
    """A contract with four approved quarters of 2025, an evaluation with an annual item, two payments."""
    contract = factory.contract(service_types=("household_survey", "care_visit"))
    reviews = [
        make_review(contract, "2025Q1", volume=60),
        make_review(contract, "2025Q2", counts={**GOOD_QUARTER, "spot_check_pass": (7, 10)}, volume=90,
                    comment=INJECTION, record_ids=(11, 12)),
        make_review(contract, "2025Q3", manual=[("-2", INJECTION)], volume=110),
        make_review(contract, "2025Q4", volume=100),
    ]
    make_payment(contract, date(2025, 3, 1), 30_000_000, "fixed", "首付款")
    make_payment(contract, date(2025, 6, 1), 5_000_000, "performance", "预付绩效款")
    evaluation = make_evaluation(contract, 2025, annual_items=[("1.5", "培训到位")], approver=factory.user("admin"))
    return contract, reviews, evaluation


def _cells(sheet) -> list:
    return [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_review_sheet_shows_every_indicator_and_the_total_as_numbers(year):
    contract, reviews, _ = year
    book = load_workbook(io.BytesIO(review_sheet(reviews[1], generated_at=NOW, evidence=evidence_rows(reviews[1].figures))))
    sheet = book["季度考核表"]
    values = [cell.value for cell in _cells(sheet)]
    assert f"{contract.title}　2025Q2 季度履约考核表" in values
    for indicator in reviews[1].figures.indicators:
        assert indicator.name in values
    total_label = next(cell for cell in _cells(sheet) if cell.value == "总分")
    assert sheet.cell(total_label.row, 3).value == float(reviews[1].figures.total)
    assert sheet.cell(total_label.row, 8).value == reviews[1].rating


def test_review_sheet_is_set_up_for_a4_printing_on_one_page_wide(year):
    _, reviews, _ = year
    sheet = load_workbook(io.BytesIO(review_sheet(reviews[0], generated_at=NOW, evidence=evidence_rows(reviews[0].figures))))["季度考核表"]
    assert sheet.page_setup.paperSize == 9
    # One page wide (fitToWidth's default, 1, is left out of the file), as many pages tall as needed.
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert "&P" in sheet.oddFooter.right.text


def test_review_sheet_keeps_a_formula_looking_comment_and_reason_inert(year):
    _, reviews, _ = year
    for review in (reviews[1], reviews[2]):
        sheet = load_workbook(io.BytesIO(review_sheet(review, generated_at=NOW, evidence=evidence_rows(review.figures))))["季度考核表"]
        found = [cell for cell in _cells(sheet) if INJECTION in str(cell.value)]
        assert found and all(cell.data_type == "s" and cell.value == "'" + INJECTION for cell in found)


def test_review_sheet_lists_the_records_behind_each_indicator_by_assignment_number(factory):
    contract = factory.contract()
    assignments = [factory.assignment(contract, due_date=date(2025, 5, 10)) for _ in range(2)]
    review = make_review(contract, "2025Q2", record_ids=[a.id for a in assignments])
    evidence = load_workbook(io.BytesIO(review_sheet(review, generated_at=NOW, evidence=evidence_rows(review.figures))))
    sheet = evidence["指标依据"]
    assert [cell.value for cell in sheet[1]] == ["指标", "分子", "分母", "任务编号", "依据", "加权估计"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    completion = [row for row in rows if row[0] == "任务完成率"]
    assert [row[3] for row in completion] == [a.number for a in assignments]
    assert completion[0][1:3] == (98, 100) and completion[0][4] == "任务（截止 2025-05-10）"
    assert not any(isinstance(value, int) and value in {a.id for a in assignments} for row in rows for value in row[3:5])


def test_a_spot_check_and_its_notice_are_named_by_the_checked_records_assignment(factory):
    contract = factory.contract()
    assignment = factory.assignment(contract, status="completed")
    record = CompletionRecord(assignment_id=assignment.id, contract_id=contract.id, service_type="household_survey",
                              service_date=date(2025, 5, 3), start_time="09:00", end_time="09:45", duration_minutes=45,
                              worker_id=contract.contractor.workers[0].id)
    db.session.add(record)
    db.session.commit()
    review = make_review(contract, "2025Q2", record_ids=[record.id])
    named = evidence_rows(review.figures)
    assert named["spot_check_pass"] == {record.id: EvidenceRow(assignment.number, "服务记录（服务日期 2025-05-03）")}


def test_report_content_carries_the_meeting_tables(year):
    contract, reviews, evaluation = year
    report = reports.build_report(evaluation, generated_at=NOW)
    assert report.title == "2025年度绩效评价报告" and contract.code in report.subtitle and not report.draft
    tables = [block for block in report.blocks if isinstance(block, reports.Table)]
    quarters = next(table for table in tables if table.headers[0] == "季度")
    assert [row[0] for row in quarters.rows] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert [row[2] for row in quarters.rows] == [str(r.figures.total) for r in reviews]
    indicators = next(table for table in tables if table.headers[0] == "考核指标")
    spot = next(row for row in indicators.rows if row[0] == "抽查合格率")
    assert spot[2] == "70.00%（0.00分）"
    payments = next(table for table in tables if table.headers[0] == "付款日期")
    assert [row[1] for row in payments.rows] == ["固定部分", "绩效挂钩部分"]
    conclusion = f"年度得分 {evaluation.figures.score} 分，评级为“{evaluation.rating}”。"
    assert any(isinstance(b, reports.Paragraph) and b.text == conclusion for b in report.blocks)
    assert len([block for block in report.blocks if isinstance(block, reports.Figure)]) == 2


def test_report_text_says_what_the_scoring_did_with_each_empty_indicator(factory):
    contract = factory.contract()
    no_callbacks = {key: counts for key, counts in GOOD_QUARTER.items() if key != "satisfaction"}
    reviews = [make_review(contract, "2025Q1"), make_review(contract, "2025Q2", counts=no_callbacks)]
    for quarter in ("2025Q3", "2025Q4"):
        make_review(contract, quarter)
    evaluation = make_evaluation(contract, 2025)
    report = reports.build_report(evaluation, generated_at=NOW)
    blocks = report.blocks
    table = next(block for block in blocks if isinstance(block, reports.Table) and block.headers[0] == "考核指标")
    note = blocks[blocks.index(table) - 1].text
    assert note == ("每格为指标值及其得分；“无数据”（回访满意率）：当季没有可计算的记录，该指标不计分，其权重按比例分摊至"
                    "当季其他指标，当季其他指标的得分按分摊后的实际权重计算；“无此类事项”（整改按时率）：当季没有应考核的"
                    "事项，该指标按满分计，即得其当季实际权重的全部分值。")
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["回访满意率"][1] == "无数据" and rows["回访满意率"][0].endswith("分）")
    assert rows["整改按时率"][0] == "无此类事项（5.00分）"  # full marks: its whole weight
    # The table agrees with the text: Q2's cells add up to its indicator total with satisfaction at
    # nothing, the others out of weights re-spread to 100.
    scored = [re.search(r"（([\d.]+)分）", cells[1]) for cells in rows.values()]
    assert sum(Decimal(found.group(1)) for found in scored if found) == reviews[1].figures.indicator_total
    weights = {item.name: item.effective_weight for item in reviews[1].figures.indicators}
    assert weights["回访满意率"] == 0 and sum(weights.values()) == 100
    assert weights["整改按时率"] > 5  # its share of the re-spread weight, scored in full
    assert rows["整改按时率"][1] == f"无此类事项（{weights['整改按时率']}分）"

    full_year = factory.contract()
    for quarter in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        make_review(full_year, quarter)
    plain = reports.build_report(make_evaluation(full_year, 2025), generated_at=NOW)
    assert not any(isinstance(block, reports.Paragraph) and "分摊" in block.text for block in plain.blocks)


def test_report_of_a_draft_says_so(factory):
    contract = factory.contract()
    for quarter in ("2025Q1", "2025Q2"):
        make_review(contract, quarter)
    report = reports.build_report(make_evaluation(contract, 2025), generated_at=NOW)
    assert report.draft
    assert any(isinstance(b, reports.Paragraph) and "草稿" in b.text for b in report.blocks)
    assert any(isinstance(b, reports.Paragraph) and "2025Q3、2025Q4" in b.text for b in report.blocks)


def test_docx_sets_the_east_asian_font_and_holds_tables_and_charts(year):
    _, _, evaluation = year
    data = reports.to_docx(reports.build_report(evaluation, generated_at=NOW))
    with zipfile.ZipFile(io.BytesIO(data)) as document:
        styles = document.read("word/styles.xml").decode("utf-8")
        body = document.read("word/document.xml").decode("utf-8")
        images = [name for name in document.namelist() if name.startswith("word/media/")]
    assert 'w:eastAsia="宋体"' in styles and 'w:eastAsia="黑体"' in styles
    assert "2025年度绩效评价报告" in body and evaluation.contract.code in body
    assert body.count("<w:tbl>") == 6
    assert len(images) == 2


def test_pdf_embeds_a_chinese_font_that_has_every_character_used(year):
    _, _, evaluation = year
    report = reports.build_report(evaluation, generated_at=NOW)
    data = reports.to_pdf(report)
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data and re.search(rb"/BaseFont /\w{6}\+WenQuanYiMicroHei", data)
    text = report.title + report.subtitle + "".join(
        getattr(block, "text", "") + "".join(getattr(block, "headers", ())) +
        "".join(cell for row in getattr(block, "rows", ()) for cell in row) + getattr(block, "caption", "")
        for block in report.blocks)
    font_path = next(path for path in reports.CJK_FONT_FILES if path.endswith(".ttc"))
    assert missing_glyphs(text + "第页草稿", font_path) == set()
