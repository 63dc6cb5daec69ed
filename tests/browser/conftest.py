"""Browser tests: the app served on loopback in a thread, driven by Debian's chromium."""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


class LiveServer:
    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    """The test app on a free loopback port; data the test commits is what the browser sees."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def log_in(page, live_server):
    """log_in(user) → the page, logged in through the real form, on the dashboard."""
    from tests.factories import Factory

    def do(user):
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", Factory.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/dashboard")
        return page

    return do


@pytest.fixture
def nav_to(page):
    """nav_to(label): follow the navigation's entry `label`, opening its group first when it is in one."""

    def do(label):
        exact = re.compile(rf"^{re.escape(label)}$")
        link = page.locator("nav.mainnav a").filter(has_text=exact)
        # `has` matches inside each group, so its locator is relative to the group.
        group = page.locator("nav.mainnav details.navgroup").filter(has=page.locator("a").filter(has_text=exact))
        if group.count() and not link.is_visible():
            group.locator("summary").click()
        link.click()

    return do


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
