"""A county's users never see another county's data (issue 14): the demo's county (360704 赣县区)
and a second county of the same city (360703 章贡区) with its own contractor, contract, subjects,
assignments, records, review, draw, spot check and tender. Logged in as every role of the first,
a crawl from the dashboard follows every link and finds nothing of the second; every GET route
filled with the second county's ids answers 404 (or 403 to a role that may not use the page at
all); a user of the city sees both.
"""
from __future__ import annotations

import io
from collections import deque
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from oversight.adapters.files import uploads_store
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import (
    Assignment,
    CompletionRecord,
    Contract,
    Contractor,
    DrawItem,
    FieldWorker,
    ProcurementProject,
    QuarterlyReview,
    SamplingDraw,
    SpotCheck,
    Subject,
    User,
)
from oversight.services import procurement
from oversight.services.accounts import create_user
from oversight.services.areas import ensure_area, home_county
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.field_app import create_token
from oversight.services.reviews import score_quarter_reviews
from oversight.services.spot_checks import record_spot_check
from seeds.demo import build_demo
from tests.conftest import Client
from tests.demo_support import Databases
from tests.factories import Factory
from tests.web.test_no_raw_codes import VisibleText, _fillings, _same_site, file_texts

TODAY = date(2026, 5, 20)
SURVEY_VALUES = {"household_size": 3, "annual_income_fen": 2_400_000, "financial_assets_fen": 500_000,
                 "survey_conclusion": "符合"}
ROLES = {"admin": "admin", "supervisor": "supervisor", "auditor": "auditor", "contractor": "renhe",
         "field_worker": "renhe-w1"}
URLS_PER_ENDPOINT = 2
# The public notice (公示) is published to anyone, every county's own (tests/web/test_public_notice_counties.py);
# the API answers tokens, not sessions.
SKIPPED_PREFIXES = ("/public", "/api/")  # the API has a test of its own, below
B_CONTRACTOR = "章贡区同济社会工作服务中心"
B_CONTRACT = "ZGMZ-2026-001"
B_PROJECT = "ZGZC-2027-001"
B_PEOPLE = ("邝乙一", "邝乙二", "邝乙三", "邝乙四")
B_WORKER = "邝乙工"
MARKERS = (B_CONTRACTOR, B_CONTRACT, B_PROJECT, B_WORKER, *B_PEOPLE)
# Rows of the second county by the path argument that names them.
B_ROWS = {"contract_id": Contract, "contractor_id": Contractor, "subject_id": Subject, "assignment_id": Assignment,
          "record_id": CompletionRecord, "review_id": QuarterlyReview, "draw_id": SamplingDraw,
          "item_id": DrawItem, "check_id": SpotCheck, "worker_id": FieldWorker, "project_id": ProcurementProject}


def add_second_county() -> dict[str, list[int]]:
    """The second county's world, made through the services as its own users would."""
    factory = Factory()
    county = ensure_area("360703", "章贡区")
    contractor = factory.contractor(B_CONTRACTOR, workers=0, county=county)
    worker = FieldWorker(contractor_id=contractor.id, worker_no="ZG001", name=B_WORKER)
    db.session.add(worker)
    db.session.commit()
    contract = factory.contract(contractor, term_start=date(2026, 1, 1), term_end=date(2026, 12, 31),
                                code=B_CONTRACT)
    admin = create_user("zg-admin", Factory.PASSWORD, "admin", "章贡管理员", area_id=county.id)
    create_user("zg-renhe", Factory.PASSWORD, "contractor", "章贡承接", contractor.id)
    for n, name in enumerate(B_PEOPLE):
        subject = factory.subject(name=name, county=county)
        assignment = factory.assignment(contract, subject, due_date=date(2026, 3, 31), status="completed")
        factory.record(assignment, worker, service_date=date(2026, 2, 2 + n))
    score_quarter_reviews(Quarter.parse("2026Q1"), B_CONTRACT, TODAY, admin)
    drawn = make_draws(SPOT_CHECK, Quarter.parse("2026Q1"), today=TODAY, contract_id=contract.id, seed="zg")
    item = drawn.draws[0].items[0]
    record_spot_check(item, checker=admin, method="入户复核", checked_on=date(2026, 4, 10), values=SURVEY_VALUES,
                      note="乙县复核", uploads=[], store=uploads_store(), today=TODAY)
    project = procurement.save_project(
        None, lines={"household_survey": (100, 1)}, code=B_PROJECT, title="章贡区家计调查采购", budget_line="社会救助",
        budget_fen=1_000_000, procurement_method="公开招标", price_points=Decimal(30), term_start=date(2027, 1, 1),
        term_end=date(2027, 12, 31), performance_share_bp=3000, user=admin, county_id=county.id)
    db.session.commit()
    return {name: list(db.session.execute(select(model.id).where(model.id.in_(_ids_of_b(model, county.id, project))))
                       .scalars()) for name, model in B_ROWS.items()}


def _ids_of_b(model, county_id, project):
    if model is ProcurementProject:
        return select(ProcurementProject.id).where(ProcurementProject.id == project.id)
    if hasattr(model, "county_id"):
        return select(model.id).where(model.county_id == county_id)
    if model is FieldWorker:
        return select(FieldWorker.id).join(Contractor).where(Contractor.county_id == county_id)
    if model is DrawItem:
        return select(DrawItem.id).join(SamplingDraw).where(SamplingDraw.county_id == county_id)
    return select(model.id).join(Contract, model.contract_id == Contract.id).where(Contract.county_id == county_id)


@pytest.fixture(scope="module")
def two_counties(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("counties"))
    app = databases.app("counties", QUEUE_IMMEDIATE=True)
    with app.app_context():
        build_demo("small", 7, TODAY)
        b_ids = add_second_county()
        city = home_county().parent_id
        create_user("city-supervisor", Factory.PASSWORD, "supervisor", "市局监管", area_id=city)
        db.session.commit()
        db.engine.dispose()
    yield app, b_ids
    databases.drop()


def _texts(response) -> list[str]:
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("text/html"):
        page = VisibleText()
        page.feed(response.get_data(as_text=True))
        return page.texts + page.code_texts + page.links
    if content_type.startswith(("application/json", "text/")):
        return [response.get_data(as_text=True)]
    return [text for _, texts in file_texts("file", content_type, response.get_data()) for text in texts]


def _crawl(app, client) -> tuple[set[str], list[str]]:
    """Every page reachable from the dashboard (a few URLs per endpoint): endpoints, and what of the
    second county they showed."""
    adapter = app.url_map.bind("localhost")
    seen, per_endpoint, found = set(), {}, []
    queue = deque(["/dashboard"])
    while queue:
        url = queue.popleft()
        if url in seen or url.startswith(SKIPPED_PREFIXES):
            continue
        seen.add(url)
        try:
            endpoint, _ = adapter.match(urlsplit(url).path, method="GET")
        except (NotFound, MethodNotAllowed):
            continue
        if endpoint in ("auth.logout", "static") or per_endpoint.get(endpoint, 0) >= URLS_PER_ENDPOINT:
            continue
        per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            queue.append(_same_site(response.headers["Location"]) or "/dashboard")
            continue
        if response.status_code != 200:
            continue
        texts = _texts(response)
        found += [f"{url}: {marker}" for marker in MARKERS if any(marker in text for text in texts)]
        if response.headers.get("Content-Type", "").startswith("text/html"):
            page = VisibleText()
            page.feed(response.get_data(as_text=True))
            queue.extend(link for link in map(_same_site, page.links) if link)
    return set(per_endpoint), found


@pytest.mark.parametrize("role", ROLES)
def test_a_crawl_as_every_role_of_one_county_finds_nothing_of_the_other(two_counties, role):
    app, _ = two_counties
    client = Client(app)
    assert client.login(ROLES[role], f"demo-{ROLES[role]}").status_code == 302
    visited, found = _crawl(app, client)
    assert len(visited) > (3 if role == "field_worker" else 15)
    assert found == [], "\n".join(found)


def _b_urls(app, b_ids) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route with an id argument, filled with the second county's ids."""
    urls = []
    with app.app_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or not set(rule.arguments) & set(B_ROWS) or rule.rule.startswith("/api/"):
                continue
            for filled in _fillings(rule, None)[:1] or [{}]:
                values = {**filled, **{name: b_ids[name][0] for name in rule.arguments if name in B_ROWS
                                       and b_ids[name]}}
                if set(rule.arguments) <= set(values):
                    urls.append((rule.endpoint, rule.build(values, append_unknown=False)[1]))
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_every_id_of_the_other_county_answers_404(two_counties, role):
    app, b_ids = two_counties
    assert all(b_ids[name] for name in B_ROWS), b_ids
    client = Client(app)
    assert client.login(ROLES[role], f"demo-{ROLES[role]}").status_code == 302
    urls = _b_urls(app, b_ids)
    assert len(urls) > 30
    answered = {url: client.get(url) for _, url in urls}
    shown = {url: response.status_code for url, response in answered.items()
             if response.status_code not in (403, 404)
             or any(marker in text for marker in MARKERS for text in _texts(response))}
    assert shown == {}
    if role in ("admin", "supervisor", "auditor"):  # the bureau's own roles meet 404, not a role's 403
        assert sum(response.status_code == 404 for response in answered.values()) > 25


def test_a_user_of_the_city_sees_both_counties(two_counties):
    app, b_ids = two_counties
    client = Client(app)
    assert client.login("city-supervisor", Factory.PASSWORD).status_code == 302
    contracts = client.get("/contracts/").get_data(as_text=True)
    assert B_CONTRACT in contracts and "GXMZ-" in contracts
    assert client.get(f"/contracts/{b_ids['contract_id'][0]}").status_code == 200
    with app.app_context():
        mine = db.session.execute(select(Contract.id).where(Contract.code.startswith("GXMZ-"))).scalars().first()
    assert client.get(f"/contracts/{mine}").status_code == 200


def test_the_other_countys_admin_sees_its_own_county_only(two_counties):
    app, b_ids = two_counties
    client = Client(app)
    assert client.login("zg-admin", Factory.PASSWORD).status_code == 302
    contracts = client.get("/contracts/").get_data(as_text=True)
    assert B_CONTRACT in contracts and "GXMZ-" not in contracts
    users = client.get("/users/").get_data(as_text=True)
    assert "zg-renhe" in users and "renhe-w1" not in users
    with app.app_context():
        theirs = db.session.execute(select(User.id).where(User.username == "admin")).scalar_one()
    assert client.post(f"/users/{theirs}/toggle", token_from="/users/").status_code == 404


@pytest.mark.parametrize("username", ["supervisor", "renhe", "city-supervisor"])
def test_the_api_answers_a_token_its_countys_rows_only(two_counties, username):
    """A device token reads what its user's pages show: a county supervisor's lists and fetches
    nothing of the other county (404), a contractor its own contracts', a city's user both."""
    app, b_ids = two_counties
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        _, token = create_token(user, "测试设备")
        db.session.commit()
        everyone = db.session.execute(select(func.count()).select_from(Assignment)).scalar_one()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/assignments?per_page=100", headers=headers).get_json()
    b_assignment = client.get(f"/api/v1/assignments/{b_ids['assignment_id'][0]}", headers=headers)
    upload = client.post("/api/v1/uploads", headers=headers, data={
        "contract_id": str(b_ids["contract_id"][0]), "service_type": "household_survey",
        "file": (io.BytesIO(b"x"), "log.csv")}, content_type="multipart/form-data")
    if username == "city-supervisor":
        assert listed["total"] == everyone and b_assignment.status_code == 200
        return
    assert 0 < listed["total"] <= everyone - len(b_ids["assignment_id"])
    assert B_CONTRACT not in {item["contract_code"] for item in listed["items"]}
    assert b_assignment.status_code == 404
    assert upload.status_code in (403, 404)
    assert not any(marker in b_assignment.get_data(as_text=True) + upload.get_data(as_text=True)
                   for marker in MARKERS)
