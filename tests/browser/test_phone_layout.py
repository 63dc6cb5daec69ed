"""Every contractor page of the demo fits the screen at 1366 px and on a 390 px phone: the
document never scrolls sideways (a wide table scrolls inside its own box)."""
from __future__ import annotations

from collections import Counter, deque
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from oversight.extensions import db
from oversight.models import User
from seeds.demo import build_demo
from tests.conftest import Client
from tests.web.test_no_raw_codes import SKIPPED_BLUEPRINTS, SKIPPED_ENDPOINTS, UNFILLABLE, _fillings

TODAY = date(2026, 5, 20)
CONTRACTOR = "renhe"
WIDTHS = (1366, 390)
PAGES_PER_ENDPOINT = 2
WIDER_THAN_THE_SCREEN = "document.documentElement.scrollWidth - window.innerWidth"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def contractor_pages(app, client: Client) -> list[str]:
    """The HTML pages reachable from the dashboard, at most PAGES_PER_ENDPOINT per endpoint."""
    adapter = app.url_map.bind("localhost")
    seen, per_endpoint, pages = set(), Counter(), []
    queue = deque(["/dashboard"])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        try:
            endpoint, _ = adapter.match(urlsplit(url).path, method="GET")
        except (NotFound, MethodNotAllowed):
            continue
        if endpoint in ("auth.logout", "static") or per_endpoint[endpoint] >= PAGES_PER_ENDPOINT:
            continue
        response = client.get(url)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        per_endpoint[endpoint] += 1
        pages.append(url)
        links = Links()
        links.feed(response.get_data(as_text=True))
        for href in links.hrefs:
            href = urldefrag(href)[0]
            if href.startswith("/") and not href.startswith("//"):
                queue.append(href)
    return pages


def routed_pages(app, client: Client, username: str) -> list[str]:
    """Every GET route of the url_map that renders an HTML page for the contractor, its path
    arguments filled from the contractor's own demo rows (the url_map crawl of test_no_raw_codes):
    the pages no link from the dashboard leads to are measured too."""
    contractor_id = db.session.execute(select(User.contractor_id).where(User.username == username)).scalar()
    pages = []
    for rule in app.url_map.iter_rules():
        if ("GET" not in rule.methods or rule.endpoint in UNFILLABLE | SKIPPED_ENDPOINTS
                or rule.endpoint.startswith(SKIPPED_BLUEPRINTS)):
            continue
        for filled in _fillings(rule, contractor_id):
            url = rule.build(filled, append_unknown=False)[1]
            response = client.get(url)
            if response.status_code == 200 and response.content_type.startswith("text/html"):
                pages.append(url)
                break
    return pages


@pytest.fixture
def demo(app):
    build_demo("small", 7, TODAY)
    db.session.commit()
    return app


def test_no_contractor_page_scrolls_sideways_at_1366_or_390_px(demo, live_server, page):
    client = Client(demo)
    assert client.login(CONTRACTOR, f"demo-{CONTRACTOR}").status_code == 302
    crawled = contractor_pages(demo, client)
    assert len(crawled) > 20 and any(url.startswith("/assignments/") for url in crawled)
    routed = routed_pages(demo, client, CONTRACTOR)
    assert len(routed) > 20 and {"/contracts/", "/workers/"} <= {url[:url.find("/", 1) + 1] for url in routed}
    urls = list(dict.fromkeys(crawled + routed))

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", CONTRACTOR)
    page.fill("input[name=password]", f"demo-{CONTRACTOR}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard")
    too_wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            page.goto(live_server.url + url)
            overflow = page.evaluate(WIDER_THAN_THE_SCREEN)
            if overflow > 0:
                too_wide.append(f"{width}px {url}: {overflow}px too wide")
    assert not too_wide, "\n".join(too_wide)
