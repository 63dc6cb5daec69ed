"""The printable 整改通知书: the bureau's heading and the notice's number in the .docx and the PDF."""
import io
from datetime import date, datetime

import pytest
from docx import Document
from pypdf import PdfReader

from oversight.adapters.files import LocalFileStore
from oversight.charts import missing_glyphs
from oversight.clock import replayed_at
from oversight.domain.periods import Quarter
from oversight.exports import notice_document
from oversight.exports.reports import CJK_FONT_FILES
from oversight.extensions import db
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.spot_checks import close_notice, issue_notice, record_spot_check, respond_notice

from tests.checks_support import AFTER_Q3, add_records

BUREAU = "赣州市赣县区民政局"


@pytest.fixture
def notice(factory, tmp_path):
    contractor = factory.contractor(name="赣县区同心社会工作服务中心", workers=1)
    contract = factory.contract(contractor)
    add_records(contract, {0: 6})
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="d").draws[0]
    supervisor = factory.user("supervisor")
    check = record_spot_check(draw.items[0], checker=supervisor, method="入户复核", checked_on=date(2025, 10, 16),
                              values={"household_size": 4, "survey_conclusion": "不符合"}, note=None, uploads=[],
                              store=LocalFileStore(tmp_path), today=date(2025, 10, 16))
    with replayed_at(datetime(2025, 10, 17, 2)):
        first = issue_notice(check, deadline=date(2025, 11, 1), requirement="重新入户核实并更正调查结论",
                             issuer=supervisor, today=date(2025, 10, 17))
        respond_notice(first, response="已更正", user=factory.user("contractor", contractor))
        second = close_notice(first, outcome="not_accepted", note="无佐证", user=supervisor, today=date(2025, 10, 17))
    db.session.commit()
    return second


def test_the_document_says_who_what_and_by_when(notice):
    document = notice_document.build_notice_document(notice, BUREAU)
    assert (document.heading, document.number, document.title) == (BUREAU, "〔2025〕整改第002号", "整改通知书（第2轮）")
    assert document.addressee == "赣县区同心社会工作服务中心："
    text = "".join(document.paragraphs)
    # The second round's deadline: 15 working days after the first was not accepted on Friday 17 October.
    assert "〔2025〕整改第001号" in text and "不予认可" in text and "2025年11月7日" in text
    assert ("调查结论", "符合", "不符合") in document.findings
    assert document.date == "2025年10月17日"


def test_the_docx_holds_the_heading_and_the_number(notice):
    data = notice_document.to_docx(notice_document.build_notice_document(notice, BUREAU))
    word = Document(io.BytesIO(data))
    lines = [paragraph.text for paragraph in word.paragraphs]
    assert lines[0] == BUREAU and "〔2025〕整改第002号" in lines
    cells = [cell.text for row in word.tables[0].rows for cell in row.cells]
    assert cells[:3] == ["不一致的项目", "上报", "复核"] and "调查结论" in cells
    assert 'w:eastAsia="仿宋"' in word.element.xml


def test_the_pdf_embeds_a_chinese_font_and_reads_back_the_heading_and_the_number(notice):
    document = notice_document.build_notice_document(notice, BUREAU)
    data = notice_document.to_pdf(document)
    assert b"/FontFile2" in data
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert BUREAU in text and "〔2025〕整改第002号" in text and "整改通知书" in text
    every = document.heading + document.title + document.number + document.addressee + "".join(
        document.paragraphs) + "".join(cell for row in document.findings for cell in row) + "不一致的项目上报复核"
    font = next(path for path in CJK_FONT_FILES if path.endswith(".ttc"))
    assert missing_glyphs(every, font) == set()
