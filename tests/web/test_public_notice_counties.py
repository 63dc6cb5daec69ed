"""The public notice (公示) of a city of counties (issue 14): seed-demo's small city (赣州市 with 赣县区,
章贡区 and 南康区). The year's page lists each county's notice; each county's page and PDF hold that
county's contracts only, titled with its own bureau; an unknown code answers 404.

Self-contained (tests/demo_support): the small city is built once for the module on a database of
its own (a SQLite file, or a schema on TEST_DATABASE_URL's server).
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote

import pytest
import time_machine
from sqlalchemy import select

from oversight.clock import day_starts_at
from oversight.domain.money import format_yuan
from oversight.extensions import db
from oversight.models import Area, Contract
from oversight.services.areas import area_by_code, ensure_area
from oversight.services.public_notice import notice_counties, public_notice
from seeds.counties import COUNTIES
from seeds.demo import build_demo
from tests.conftest import Client
from tests.demo_support import Databases
from tests.web.test_public_notice import leaks, page_text, pdf_text, personal_names

TODAY = date(2026, 11, 25)
YEAR = 2026
BUREAUS = {"360704": "赣州市赣县区民政局", "360702": "赣州市章贡区民政局", "360703": "赣州市南康区民政局"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("public-city"))
    app = databases.app("public_city")
    with app.app_context():
        build_demo("small-city", 7, TODAY)
        db.engine.dispose()
    yield app
    databases.drop()


@pytest.fixture
def at_demo_day():
    with time_machine.travel(day_starts_at(TODAY).replace(hour=4), tick=False):
        yield


def _contracts(app) -> dict[str, list[tuple[str, str, int]]]:
    """County code → its contracts in their term in YEAR: (code, contractor, amount in fen)."""
    with app.app_context():
        rows = db.session.execute(
            select(Area.code, Contract.code, Contract.amount_fen, Contract.contractor_id)
            .join(Area, Contract.county_id == Area.id)
            .where(Contract.term_start <= date(YEAR, 12, 31), Contract.term_end >= date(YEAR, 1, 1))).all()
        contracts = db.session.execute(select(Contract)).scalars().all()
        contractor = {contract.contractor_id: contract.contractor.name for contract in contracts}
    found: dict[str, list] = {}
    for county, code, amount, contractor_id in rows:
        found.setdefault(county, []).append((code, contractor[contractor_id], amount))
    return found


def test_the_years_page_lists_each_countys_notice_under_its_bureau(city, at_demo_day):
    client = Client(city)
    response = client.get(f"/public/{YEAR}/")
    assert response.status_code == 200
    text, links = page_text(response.get_data(as_text=True))
    contracts = _contracts(city)
    assert set(contracts) == {plan.code for plan in COUNTIES}  # every county has contracts in the year
    for plan in COUNTIES:
        assert f"/public/{YEAR}/{plan.code}/" in links and f"/public/{YEAR}/{plan.code}/notice.pdf" in links
        assert plan.name in text and BUREAUS[plan.code] in text
        assert f"{len(contracts[plan.code])} 项" in text
        assert f"{format_yuan(sum(amount for _, _, amount in contracts[plan.code]))} 元" in text
    # The list is of counties: no contract is on it, and no address carries a row id.
    assert not any(code in text for found in contracts.values() for code, _, _ in found)
    assert all(re.fullmatch(r"/public/(\d{4}/(\d{6}/(notice\.pdf)?)?)?", link)
               for link in links if link.startswith("/public")), links
    assert not [link for link in links if not link.startswith("/public") and re.search(r"\d", link)]
    # Among several counties no one notice speaks for the install: its PDF is each county's.
    assert client.get(f"/public/{YEAR}/notice.pdf").status_code == 404
    index = client.get("/public/").get_data(as_text=True)
    assert f"/public/{YEAR}/" in index


def test_each_countys_notice_holds_its_own_contracts_and_none_of_anothers(city, at_demo_day):
    client = Client(city)
    contracts = _contracts(city)
    for plan in COUNTIES:
        own = contracts[plan.code]
        others = [row for code, found in contracts.items() if code != plan.code for row in found]
        response = client.get(f"/public/{YEAR}/{plan.code}/")
        assert response.status_code == 200
        text, links = page_text(response.get_data(as_text=True))
        assert f"{BUREAUS[plan.code]}{YEAR}年度政府购买社会救助服务履约情况公示" in text
        assert f"合同共 {len(own)} 项" in text
        for code, contractor, amount in own:
            assert code in text and contractor in text and f"{format_yuan(amount)} 元" in text
        for code, contractor, _ in others:
            assert code not in text and contractor not in text, (plan.code, code)
        assert f"/public/{YEAR}/{plan.code}/notice.pdf" in links and f"/public/{YEAR}/" in links

        pdf = client.get(f"/public/{YEAR}/{plan.code}/notice.pdf")
        assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
        assert f"履约情况公示_{YEAR}_{plan.code}.pdf" in unquote(pdf.headers["Content-Disposition"])
        squashed = re.sub(r"\s+", "", pdf_text(pdf.data))  # table cells wrap
        assert f"{BUREAUS[plan.code]}{YEAR}年度" in squashed
        for code, contractor, _ in own:
            assert code in squashed and contractor in squashed
        for code, contractor, _ in others:
            assert code not in squashed and contractor not in squashed, (plan.code, code)


def test_the_county_notices_together_are_the_whole_notice_with_the_same_filter(city):
    with city.app_context():
        whole = public_notice(YEAR).contracts
        parts = []
        for county in notice_counties(YEAR):
            notice = public_notice(YEAR, county.county_id)
            assert notice.contracts and county.contract_count == len(notice.contracts)
            assert county.total_fen == notice.total_fen and county.contractor_count == notice.contractor_count
            parts += notice.contracts
        # Row for row the same (approved and locked figures only): the county only narrows the rows.
        assert sorted(parts, key=lambda row: row.code) == sorted(whole, key=lambda row: row.code)
        db.session.rollback()


def test_an_unknown_code_or_a_county_with_nothing_published_answers_404(city, at_demo_day):
    client = Client(city)
    with city.app_context():
        ensure_area("360723", "大余县")  # a county of the city with no contract at all
        db.session.commit()
        assert area_by_code("360723") is not None
    try:
        for address in ("/public/2026/360799/", "/public/2026/360700/", "/public/2026/360000/",
                        "/public/2026/360704100/", "/public/2026/abcdef/", "/public/2026/360723/",
                        "/public/2026/360723/notice.pdf", "/public/2026/360799/notice.pdf",
                        "/public/1999/360704/", "/public/1999/360704/notice.pdf"):
            assert client.get(address).status_code == 404, address
        assert "大余县" not in client.get(f"/public/{YEAR}/").get_data(as_text=True)
    finally:
        with city.app_context():
            db.session.delete(area_by_code("360723"))
            db.session.commit()


def test_no_county_notice_holds_personal_data(city, at_demo_day):
    client = Client(city)
    with city.app_context():
        names = personal_names()
    assert len(names) > 50
    for plan in COUNTIES:
        html = client.get(f"/public/{YEAR}/{plan.code}/").get_data(as_text=True)
        text, _ = page_text(html)
        squashed = re.sub(r"\s+", "", pdf_text(client.get(f"/public/{YEAR}/{plan.code}/notice.pdf").data))
        assert leaks(text, names) == [] and leaks(html, names) == [] and leaks(squashed, names) == []


def test_the_county_pages_share_the_notices_rate_limit(city, at_demo_day):
    city.config["PUBLIC_REQUESTS_PER_ADDRESS"] = "3 per minute"
    try:
        client = Client(city)
        address = {"REMOTE_ADDR": "203.0.113.21"}
        assert [client.get(path, environ_base=address).status_code
                for path in (f"/public/{YEAR}/", f"/public/{YEAR}/360702/", "/public/")] == [200] * 3
        refused = client.get(f"/public/{YEAR}/360702/notice.pdf", environ_base=address)
        assert refused.status_code == 429 and "访问过于频繁" in refused.get_data(as_text=True)
    finally:
        city.config["PUBLIC_REQUESTS_PER_ADDRESS"] = "60 per minute"


def test_a_city_user_who_chose_a_county_carries_no_row_id_onto_the_notice(city, at_demo_day):
    """The city dashboard's chosen county (`?county=<id>`) stays on a signed-in user's links, but
    never on the public notice's: its addresses hold years and county codes only."""
    client = Client(city)
    assert client.login("city-supervisor", "demo-city-supervisor").status_code == 302
    with city.app_context():
        chosen = area_by_code("360702").id
    for path in (f"/public/{YEAR}/?county={chosen}", f"/public/{YEAR}/360702/?county={chosen}"):
        response = client.get(path)
        assert response.status_code == 200
        _, links = page_text(response.get_data(as_text=True))
        public = [link for link in links if link.startswith("/public")]
        assert public and not [link for link in public if "county=" in link], public
