"""seed-demo's city (赣州市 with 赣县区, 章贡区 and 南康区) and the city dashboard built on it:
the city's figures are the sums of its counties', each county's computed as that county sees it.

Self-contained (tests/demo_support): the small city is built once for the module on a database
of its own (a SQLite file, or a schema on TEST_DATABASE_URL's server).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from oversight.clock import county_today, day_starts_at
from oversight.domain.periods import Quarter
from oversight.domain.vocabulary import AreaLevel
from oversight.extensions import db
from oversight.models import (Area, Assignment, Complaint, CompletionRecord, Contract, Contractor, LocalStandard,
                              QuarterlyReview, RectificationNotice, SpotCheck, Subject, User)
from oversight.services.areas import area_by_code
from oversight.services.city_dashboard import city_dashboard
from oversight.services.spot_checks import notice_overdue
from seeds.counties import CITY, CITY_STAFF, COUNTIES
from seeds.demo import SCALES, build_demo
from tests.conftest import Client
from tests.demo_support import Databases

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """(app, summary) of the small city as of TODAY."""
    databases = Databases(tmp_path_factory.mktemp("city"))
    app = databases.app("city")
    with app.app_context():
        summary = build_demo("small-city", 7, TODAY)
        db.engine.dispose()
    yield app, summary
    databases.drop()


@pytest.fixture
def ctx(city):
    app, summary = city
    with app.app_context():
        yield summary
        db.session.rollback()
        db.engine.dispose()


def _county(code: str) -> Area:
    return area_by_code(code)


def test_the_city_has_three_counties_each_with_its_own_registers_contracts_and_users(ctx):
    city = _county(CITY[0])
    assert city.level == AreaLevel.CITY and city.parent.code == "360000"
    counties = db.session.execute(select(Area).where(Area.parent_id == city.id)).scalars().all()
    assert sorted((area.code, area.name) for area in counties) == sorted((plan.code, plan.name) for plan in COUNTIES)
    spec = SCALES["small-city"]
    for plan in COUNTIES:
        county = _county(plan.code)
        townships = db.session.execute(select(Area.name).where(Area.parent_id == county.id)).scalars().all()
        assert set(townships) == {name for name, _, _ in plan.townships}  # reference data for each county
        subjects = db.session.execute(select(Subject.township).where(Subject.county_id == county.id)).scalars().all()
        assert subjects and set(subjects) <= {name for name, _, _ in plan.townships[:spec.townships]}
        contractors = db.session.execute(select(Contractor).where(Contractor.county_id == county.id)).scalars().all()
        assert {c.name for c in contractors} == {spec_.name for spec_ in plan.contractors[:spec.contractors]}
        contracts = db.session.execute(select(Contract).where(Contract.county_id == county.id)).scalars().all()
        assert contracts and all(c.code.startswith(plan.contract_prefix) for c in contracts)
        assert all(c.contractor.county_id == county.id for c in contracts)
        # Every row hanging off a county's contract is that county's.
        for model in (Assignment, CompletionRecord):
            stray = db.session.execute(select(func.count()).select_from(model).join(Contract, model.contract_id == Contract.id)
                                       .where(Contract.county_id == county.id, model.county_id != county.id)).scalar_one()
            assert stray == 0
        staff = {username for username, _, _ in plan.staff}
        users = db.session.execute(select(User).where(User.username.in_(staff))).scalars().all()
        assert len(users) == len(staff) and all(user.area_id == county.id for user in users)
        assert db.session.execute(select(func.count()).select_from(QuarterlyReview).where(
            QuarterlyReview.county_id == county.id)).scalar_one() > 0
    for username, role, _ in CITY_STAFF:
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        assert (user.role, user.area_id) == (role, city.id)
    # Subjects' ID numbers never repeat across the counties; assignment numbers neither.
    numbers = db.session.execute(select(Subject.id_number)).scalars().all()
    assert len(numbers) == len(set(numbers))


def test_each_county_has_its_own_standards_and_the_poverty_lines_differ(ctx):
    lines = {}
    for plan in COUNTIES:
        county = _county(plan.code)
        lines[plan.name] = dict(db.session.execute(select(LocalStandard.year, LocalStandard.poverty_line_fen)
                                                   .where(LocalStandard.county_id == county.id)).all())
        assert set(lines[plan.name]) == {TODAY.year - 2, TODAY.year - 1, TODAY.year}
    assert len({found[TODAY.year] for found in lines.values()}) == 3


def test_the_summary_lists_every_log_in_with_its_area(ctx):
    areas = Counter(user.area for user in ctx.users)
    assert areas[CITY[1]] == len(CITY_STAFF)
    assert all(areas[plan.name] >= len(plan.staff) for plan in COUNTIES)
    assert ctx.counties == tuple(plan.name for plan in COUNTIES)


def _independent_counts(county_id: int, quarter: Quarter, today: date) -> dict[str, int]:
    """One county's figures from its rows, one by one in Python (no grouped query)."""
    contracts = db.session.execute(select(Contract).where(Contract.county_id == county_id)).scalars().all()
    ids = {contract.id for contract in contracts}
    newest: dict[int, QuarterlyReview] = {}
    for review in db.session.execute(select(QuarterlyReview).where(QuarterlyReview.quarter == str(quarter),
                                                                    QuarterlyReview.status != "draft")).scalars():
        if review.contract_id in ids and (review.contract_id not in newest
                                          or review.revision > newest[review.contract_id].revision):
            newest[review.contract_id] = review
    checks = [check for check in db.session.execute(select(SpotCheck)).scalars()
              if check.contract_id in ids and check.draw_item.draw.quarter == str(quarter)]
    notices = [notice for notice in db.session.execute(select(RectificationNotice)).scalars()
               if notice.contract_id in ids]
    complaints = [complaint for complaint in db.session.execute(select(Complaint)).scalars()
                  if complaint.contract_id in ids]
    return {
        "contracts": sum(1 for c in contracts if c.term_start <= today <= c.term_end),
        "reviewed_contracts": len(newest),
        "below_80": sum(1 for review in newest.values() if review.total_centi < 8000),
        "checks": len(checks), "checks_passed": sum(1 for check in checks if check.passed),
        "overdue_notices": sum(1 for notice in notices if notice_overdue(notice, today)),
        "open_complaints": sum(1 for complaint in complaints if complaint.status != "closed"),
        "complaints_in_quarter": sum(1 for complaint in complaints
                                     if day_starts_at(quarter.start) <= complaint.created_at
                                     < day_starts_at(quarter.next().start)),
    }


def test_the_city_figures_are_each_countys_own_and_their_sums(ctx):
    board = city_dashboard(_county(CITY[0]), TODAY)
    assert board.quarter is not None
    assert [row.code for row in board.figures.rows] == sorted(plan.code for plan in COUNTIES)
    for row in board.figures.rows:
        assert vars(row.counts) == _independent_counts(row.area_id, board.quarter, TODAY), row.name
    total = board.figures.total
    for name in vars(total):
        assert getattr(total, name) == sum(getattr(row.counts, name) for row in board.figures.rows)
    assert total.checks > 0 and total.contracts == 6
    pooled = board.figures.pooled_pass_rate
    assert (pooled.numerator, pooled.denominator) == (total.checks_passed, total.checks)


_STAT = r'>(\d+)</a></div><div class="label">{label}</div>'


def _stat(page: str, label: str) -> int:
    found = re.search(_STAT.format(label=label), page)
    assert found, f"no {label} on the page"
    return int(found.group(1))


def _logged_in(app, username: str) -> Client:
    client = Client(app)
    assert client.login(username, f"demo-{username}").status_code == 302
    return client


def _city_rows(page: str) -> dict[str, list[str]]:
    """The city page's table: county code (or "total") → its cells' texts."""
    rows = {}
    for code, body in re.findall(r'<tr data-county="(\d+)">(.*?)</tr>', page, re.S):
        rows[code] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
    total = re.search(r'<tr id="city-total">(.*?)</tr>', page, re.S).group(1)
    rows["total"] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", total, re.S)]
    return rows


def test_the_city_page_adds_up_what_each_countys_supervisor_sees_on_their_dashboard(city):
    app, _ = city
    page = _logged_in(app, "city-supervisor").get("/dashboard/city")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    rows = _city_rows(text)
    today = county_today()
    overdue = complaints = 0
    for plan in COUNTIES:
        county_page = _logged_in(app, plan.staff[1][0]).get("/dashboard").get_data(as_text=True)
        mine = _stat(county_page, "逾期整改通知"), _stat(county_page, "未结投诉")
        # Column 6 and 7 of a county's row: overdue notices, open complaints.
        assert (int(rows[plan.code][6]), int(rows[plan.code][7])) == mine, plan.name
        overdue, complaints = overdue + mine[0], complaints + mine[1]
    assert (int(rows["total"][6]), int(rows["total"][7])) == (overdue, complaints)
    for column in (1, 2, 3, 4):  # contracts, reviewed, below 80, checks: the total is the sum
        assert int(rows["total"][column]) == sum(int(rows[plan.code][column]) for plan in COUNTIES)
    with app.app_context():
        board = city_dashboard(area_by_code(CITY[0]), today)
        assert f"{board.figures.pooled_pass_rate.value * 100:.1f}%" in rows["total"][5]
        chart = _logged_in(app, "city-admin").get("/dashboard/city/pass-rates.png")
        assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")


def test_a_countys_row_links_to_that_countys_own_view(city):
    app, _ = city
    client = _logged_in(app, "city-supervisor")
    with app.app_context():
        zhanggong = area_by_code("360702")
        theirs = set(db.session.execute(select(Contract.code).where(Contract.county_id == zhanggong.id)).scalars())
        others = set(db.session.execute(select(Contract.code).where(Contract.county_id != zhanggong.id)).scalars())
        county_id = zhanggong.id
    city_page = client.get("/dashboard/city").get_data(as_text=True)
    assert f'/dashboard?county={county_id}' in city_page
    view = client.get(f"/dashboard?county={county_id}").get_data(as_text=True)
    assert 'id="county-view"' in view and "章贡区" in view
    assert all(code in view for code in theirs) and not any(code in view for code in others)
    # The county's view keeps the county on its links, and says so with the way back to all three.
    assert f'href="/contracts/?county={county_id}"' in view and 'href="/contracts/"' not in view
    assert '仅显示 <strong>章贡区</strong>' in view and 'href="/dashboard">查看全部县（区）' in view
    contracts = client.get(f"/contracts/?county={county_id}").get_data(as_text=True)
    assert all(code in contracts for code in theirs) and not any(code in contracts for code in others)
    # Without the filter the city user sees all three counties' contracts.
    everything = client.get("/contracts/").get_data(as_text=True)
    assert all(code in everything for code in theirs | others)


@pytest.mark.parametrize(("username", "status"), [
    ("supervisor", 404), ("zg-admin", 404), ("nk-auditor", 404),  # county staff: no city dashboard
    ("huimin", 403),  # contractors may not read it at all
    ("hemei-w1", 404),  # a field worker reaches only the field pages (web.access)
])
def test_a_county_user_never_sees_the_city_dashboard(city, username, status):
    app, _ = city
    client = _logged_in(app, username)
    assert client.get("/dashboard/city").status_code == status
    assert client.get("/dashboard/city/pass-rates.png").status_code == status
    assert "/dashboard/city" not in client.get("/dashboard").get_data(as_text=True)


def test_a_county_user_cannot_widen_their_scope_with_the_county_filter(city):
    app, _ = city
    client = _logged_in(app, "zg-supervisor")
    with app.app_context():
        ganxian = area_by_code("360704").id
        ganxian_codes = set(db.session.execute(select(Contract.code).where(Contract.county_id == ganxian)).scalars())
    page = client.get(f"/contracts/?county={ganxian}").get_data(as_text=True)
    assert not any(code in page for code in ganxian_codes)
