"""The public notice (公示) on the demo county: no log-in, final ratings only, nothing personal in the
page or its PDF, no internal ids, and a sensible rate limit."""
from __future__ import annotations

import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from oversight.clock import day_starts_at
from oversight.domain.money import format_yuan
from oversight.extensions import db
from oversight.models import AnnualEvaluation, Contract, ContractAcceptance, Contractor, FieldWorker, QuarterlyReview, Subject, User
from oversight.services.evaluations import approve_evaluation, publish_evaluation
from oversight.services.public_notice import acceptance_conclusions, public_notice
from seeds.demo import build_demo
from tests.conftest import Client
from tests.demo_support import Databases

TODAY = date(2026, 5, 20)
# 18-digit 身份证 numbers (the last may be X), 11-digit mobiles, landlines with their area code.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("public"))
    app = databases.app("public")
    with app.app_context():
        build_demo("small", 7, TODAY)
        db.engine.dispose()
    yield app
    databases.drop()


@pytest.fixture
def at_demo_day():
    with time_machine.travel(day_starts_at(TODAY).replace(hour=4), tick=False):
        yield


class Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links = [], []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name == "href"]

    def handle_data(self, data):
        self.parts.append(data)


def page_text(html: str) -> tuple[str, list[str]]:
    parser = Text()
    parser.feed(html)
    return " ".join(parser.parts), parser.links


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def personal_names() -> set[str]:
    """Every person's name in the database: subjects, field workers, contact persons, users."""
    return ({name for name in db.session.execute(select(Subject.name)).scalars()}
            | {name for name in db.session.execute(select(FieldWorker.name)).scalars()}
            | {name for name in db.session.execute(select(Contractor.contact_person)).scalars()}
            | {name for name in db.session.execute(select(User.display_name)).scalars()})


def leaks(text: str, names: set[str]) -> list[str]:
    found = [f"身份证号 {m}" for m in ID_NUMBER.findall(text)] + [f"手机 {m}" for m in MOBILE.findall(text)]
    found += [f"固话 {m}" for m in LANDLINE.findall(text)]
    return found + [f"姓名 {name}" for name in sorted(names) if name and name in text]


def test_the_leak_scan_finds_what_it_looks_for():
    names = {"邱华"}
    assert leaks("联系人邱华，电话 13907971234，身份证 36070419500101001X，0797-8123456", names) == [
        "身份证号 36070419500101001X", "手机 13907971234", "固话 0797-8123456", "姓名 邱华"]
    assert leaks("52360704MJ4222419J 合同金额 43,600.00 元 2025-07-01", names) == []


def test_the_notice_needs_no_log_in_and_shows_contracts_amounts_and_approved_ratings(demo, at_demo_day):
    client = Client(demo)
    index = client.get("/public/")
    assert index.status_code == 200 and "/public/2025/" in index.get_data(as_text=True)
    response = client.get("/public/2025/")
    assert response.status_code == 200
    text, links = page_text(response.get_data(as_text=True))
    with demo.app_context():
        contracts = db.session.execute(select(Contract)).scalars().all()
        approved = db.session.execute(select(QuarterlyReview).where(QuarterlyReview.status == "approved",
                                                                    QuarterlyReview.quarter.like("2025Q%"))).scalars().all()
        drafts = db.session.execute(select(QuarterlyReview).where(QuarterlyReview.status == "draft")).scalars().all()
        notice = public_notice(2025)
        for contract in contracts:
            assert contract.code in text and contract.contractor.name in text
            assert f"{format_yuan(contract.amount_fen)} 元" in text
        assert approved and drafts
        for review in approved:
            assert f"{review.total_centi / 100:.2f} 分 {review.rating}" in text
        # The 2026 drafts are not results: the 2026 notice shows no quarter score at all.
        assert all(q is None for row in public_notice(2026).contracts for q in row.quarters)
        assert all(row.annual is None for row in notice.contracts)  # the demo's evaluations are drafts
        # The demo concludes each contract's first-year 履约验收 (合格) once that year is over.
        concluded = db.session.execute(select(ContractAcceptance).where(
            ContractAcceptance.year == 2025, ContractAcceptance.status == "concluded")).scalars().all()
        assert concluded and acceptance_conclusions(2025) == {row.contract_id: "合格" for row in concluded}
        assert "合格" in text and ("暂无" in text) == (len(concluded) < len(contracts))
    # No address carries a row id: only years.
    assert not [link for link in links if re.search(r"/(contracts|contractors|reviews|evaluations)/\d", link)]
    assert client.get("/public/1999/").status_code == 404


def test_neither_the_page_nor_the_pdf_holds_personal_data(demo, at_demo_day):
    client = Client(demo)
    with demo.app_context():
        names = personal_names()
        subjects = db.session.execute(select(Subject.id_number)).scalars().all()
    assert len(names) > 50 and len(subjects) > 50  # the demo's people make the scan mean something
    for year in (2025, 2026):
        html = client.get(f"/public/{year}/").get_data(as_text=True)
        text, _ = page_text(html)
        assert leaks(text, names) == [] and leaks(html, names) == []
        pdf = client.get(f"/public/{year}/notice.pdf")
        assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
        assert b"/FontFile2" in pdf.data  # the CJK font embedded
        content = pdf_text(pdf.data)
        # Table cells wrap: a name cut across two lines is still a leak.
        squashed = re.sub(r"\s+", "", content)
        assert "履约情况公示" in content and "GXMZ-2025-001" in squashed and "赣县区同心社会工作服务中心" in squashed
        assert leaks(content, names) == [] and leaks(squashed, names) == []
        assert not any(number in squashed or number in html for number in subjects)


def test_an_evaluation_appears_once_approved_not_while_only_published(demo, at_demo_day):
    client = Client(demo)
    with demo.app_context():
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        evaluation = db.session.execute(select(AnnualEvaluation).where(AnnualEvaluation.year == 2025)
                                        .order_by(AnnualEvaluation.id)).scalars().first()
        publish_evaluation(evaluation, date(2026, 1, 10), window_days=7)
        db.session.commit()
        shown = f"{evaluation.score_centi / 100:.2f} 分 {evaluation.rating}"
    assert all(row.annual is None for row in _notice(demo))
    with demo.app_context():
        evaluation = db.session.get(AnnualEvaluation, evaluation.id)
        approve_evaluation(evaluation, admin, date(2026, 1, 20))
        db.session.commit()
        code = evaluation.contract.code
    row = next(row for row in _notice(demo) if row.code == code)
    assert row.annual is not None and f"{row.annual.score:.2f} 分 {row.annual.rating}" == shown
    assert shown in client.get("/public/2025/").get_data(as_text=True)


def _notice(app):
    with app.app_context():
        return public_notice(2025).contracts


def test_too_many_requests_from_one_address_are_refused_in_chinese(demo, at_demo_day):
    demo.config["PUBLIC_REQUESTS_PER_ADDRESS"] = "3 per minute"
    try:
        client = Client(demo)
        address = {"REMOTE_ADDR": "203.0.113.9"}
        assert [client.get("/public/2025/", environ_base=address).status_code for _ in range(3)] == [200] * 3
        refused = client.get("/public/2025/notice.pdf", environ_base=address)
        assert refused.status_code == 429 and "访问过于频繁" in refused.get_data(as_text=True)
        assert client.get("/public/2025/", environ_base={"REMOTE_ADDR": "203.0.113.10"}).status_code == 200
    finally:
        demo.config["PUBLIC_REQUESTS_PER_ADDRESS"] = "60 per minute"


def test_one_county_keeps_one_notice_and_its_code_reads_the_same(demo, at_demo_day):
    """A one-county install's year page is its notice, not a list of counties; the county's own
    address shows the same notice under the same bureau, another code answers 404."""
    client = Client(demo)
    year_page = client.get("/public/2025/").get_data(as_text=True)
    _, links = page_text(year_page)
    assert "public-notice" in year_page and "public-counties" not in year_page
    assert "/public/2025/notice.pdf" in links and not [link for link in links if re.search(r"/2025/\d{6}/", link)]
    county_page = client.get("/public/2025/360704/")
    assert county_page.status_code == 200
    rows = re.compile(r'<table id="public-notice">.*?</table>', re.S)
    heading = re.compile(r"<h1>(.*?)</h1>")
    county_html = county_page.get_data(as_text=True)
    assert rows.search(county_html).group() == rows.search(year_page).group()
    assert heading.search(county_html).group(1) == heading.search(year_page).group(1) == \
        "赣县区民政局2025年度政府购买社会救助服务履约情况公示"
    assert "/public/2025/360704/notice.pdf" in page_text(county_html)[1] and "其他县（区）" not in county_html
    assert client.get("/public/2025/360704/notice.pdf").status_code == 200
    assert client.get("/public/2025/360702/").status_code == 404
