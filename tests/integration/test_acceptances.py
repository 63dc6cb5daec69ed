"""履约验收: the year's delivery and check rates with their intervals, the team rule, the conclusion
frozen, and the 验收书 rendered as .docx and PDF with the Chinese text in them."""
import io
from datetime import date

import pytest
from sqlalchemy import select
from docx import Document
from pypdf import PdfReader

from oversight.charts import missing_glyphs
from oversight.domain.acceptance import AcceptanceError
from oversight.domain.statistics import wilson_interval
from oversight.exports import acceptance_document
from oversight.exports.reports import CJK_FONT_FILES
from oversight.extensions import db
from oversight.models import AuditEvent
from oversight.services import acceptances

from tests.performance_support import build_quarter

BUREAU = "赣州市赣县区民政局"
TODAY = date(2026, 1, 20)


@pytest.fixture
def setting(factory):
    contractor = factory.contractor(name="赣县区同心社会工作服务中心", workers=1)
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    supervisor = factory.user("supervisor")
    build_quarter(contract, supervisor)
    acceptance = acceptances.open_acceptance(contract, 2025, supervisor)
    db.session.commit()
    return {"contract": contract, "acceptance": acceptance, "supervisor": supervisor}


def test_the_figures_hold_each_line_against_its_target_and_the_rates_with_wilson_intervals(setting):
    figures = acceptances.compute_figures(setting["contract"], 2025)
    # build_quarter: 50 due in 2025Q3 (45 completed) and 3 due in Q2 (completed); 2 cancelled do not count.
    [line] = figures.lines
    assert (line.service_type, line.target, line.issued, line.completed, str(line.completion)) == (
        "household_survey", 100, 53, 48, "48.00")
    overall = figures.overall
    # 20 random checks, 18 passed (the targeted one left out); 10 answered callbacks, 8 at 3 or more (满意 and above).
    assert (overall.spot_checks.numerator, overall.spot_checks.denominator) == (18, 20)
    assert (overall.spot_checks.low, overall.spot_checks.high) == pytest.approx(wilson_interval(18, 20))
    assert (overall.satisfaction.numerator, overall.satisfaction.denominator) == (8, 10)
    assert figures.checks[0].spot_checks == overall.spot_checks
    assert overall.spot_checks.text() == "90.00%（95%置信区间 69.90%–97.21%，样本 18/20）"


def test_a_team_without_a_recipients_representative_is_refused_in_chinese(setting):
    acceptance, supervisor = setting["acceptance"], setting["supervisor"]
    acceptances.add_member(acceptance, "李明", "leader", "赣县区民政局")
    acceptances.add_member(acceptance, "陈静", "expert", "赣南师范大学")
    with pytest.raises(AcceptanceError, match="验收小组中没有服务对象代表"):
        acceptances.conclude(acceptance, conclusion="qualified", opinion="按合同完成", accepted_on=TODAY,
                             user=supervisor, today=TODAY)
    assert acceptance.status == "draft" and acceptance.conclusion is None and acceptance.figures is None
    with pytest.raises(AcceptanceError, match="角色"):
        acceptances.add_member(acceptance, "赵六", "boss", None)


def test_the_conclusion_freezes_the_figures_and_closes_the_team(setting):
    acceptance, supervisor = setting["acceptance"], setting["supervisor"]
    acceptances.add_member(acceptance, "李明", "leader", "赣县区民政局")
    acceptances.add_member(acceptance, "王芳", "recipient", "梅林镇低保户代表")
    with pytest.raises(AcceptanceError, match="请选择合格、基本合格或不合格"):
        acceptances.conclude(acceptance, conclusion="", opinion="x", accepted_on=TODAY, user=supervisor, today=TODAY)
    acceptances.conclude(acceptance, conclusion="basically_qualified", opinion="完成量不足目标的一半，质量达标",
                         accepted_on=TODAY, user=supervisor, today=TODAY)
    db.session.commit()
    assert (acceptance.status, acceptance.conclusion_label) == ("concluded", "基本合格")
    assert acceptances.figures_of(acceptance).to_json() == acceptance.figures
    assert acceptances.concluded_acceptances(2025) == [acceptance]
    with pytest.raises(AcceptanceError, match="验收结论已出具"):
        acceptances.add_member(acceptance, "赵六", "other", None)
    with pytest.raises(AcceptanceError, match="已存在"):
        acceptances.open_acceptance(setting["contract"], 2025, supervisor)
    logged = db.session.execute(select(AuditEvent.object_type, AuditEvent.action, AuditEvent.changes)
                                .where(AuditEvent.object_type.in_(("ContractAcceptance", "AcceptanceMember")))
                                .order_by(AuditEvent.id)).all()
    assert [(kind, action) for kind, action, _ in logged].count(("AcceptanceMember", "create")) == 2
    assert any(kind == "ContractAcceptance" and action == "update" and "conclusion" in changes
               for kind, action, changes in logged)


@pytest.fixture
def concluded(setting):
    acceptance, supervisor = setting["acceptance"], setting["supervisor"]
    acceptances.add_member(acceptance, "李明", "leader", "赣县区民政局")
    acceptances.add_member(acceptance, "王芳", "recipient", "梅林镇低保户代表")
    acceptances.conclude(acceptance, conclusion="qualified", opinion="服务按合同约定完成，同意验收",
                         accepted_on=TODAY, user=supervisor, today=TODAY)
    db.session.commit()
    return acceptance_document.build_acceptance_document(acceptance, acceptances.figures_of(acceptance), BUREAU)


def test_the_docx_holds_the_title_the_team_and_the_conclusion(concluded):
    word = Document(io.BytesIO(acceptance_document.to_docx(concluded)))
    lines = [paragraph.text for paragraph in word.paragraphs]
    assert lines[0] == BUREAU and "政府购买服务项目履约验收书（2025年度）" in lines
    assert "验收结论：合格" in lines and "验收意见：服务按合同约定完成，同意验收" in lines
    cells = [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    assert "服务对象代表" in cells and "王芳" in cells and "家计调查" in cells and "48.00%" in cells
    assert 'w:eastAsia="仿宋"' in word.element.xml


def test_the_pdf_embeds_a_chinese_font_with_every_glyph_and_reads_back(concluded):
    data = acceptance_document.to_pdf(concluded)
    assert b"/FontFile2" in data
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for expected in ("履约验收书", "赣县区同心社会工作服务中心", "服务对象代表", "验收结论：合格", BUREAU):
        assert expected in text
    font = next(path for path in CJK_FONT_FILES if path.endswith(".ttc"))
    assert missing_glyphs(concluded.all_text(), font) == set()


def test_care_visits_are_counted_in_visits_as_their_target_is(factory):
    contract = factory.contract(service_types=("care_visit",), term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    subject = factory.subject(kind="person")
    for month, status in ((3, "completed"), (4, "completed"), (5, "assigned"), (6, "cancelled")):
        factory.assignment(contract, subject, service_type="care_visit", due_date=date(2025, month, 28), status=status)
    db.session.commit()
    [line] = acceptances.compute_figures(contract, 2025).lines
    # Two visits a month each: three months issued (the cancelled one aside), two completed.
    assert (line.target, line.issued, line.completed, str(line.completion)) == (100, 6, 4, "4.00")
