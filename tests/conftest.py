"""Fixtures: a throw-away database per test run (SQLite file, or a PostgreSQL schema), emptied
after each test, and a logged-in test client per role.

Set TEST_DATABASE_URL=postgresql+psycopg://… to run the suite on PostgreSQL; an unreachable
server is an error, never a skip.
"""
from __future__ import annotations

import os
import re
import secrets
import tempfile

import pytest
from sqlalchemy import create_engine, text

from oversight import create_app
from oversight.extensions import db
from oversight.services.audit import append_only_lifted

from tests.factories import Factory

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
# Argon2 at the lowest cost: the suite hashes hundreds of passwords; production keeps the defaults.
CHEAP_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def pytest_configure(config):
    """Apps made without an instance folder of their own (and the commands the tests run in
    subprocesses) keep their files, audit keys included, in a throw-away folder, never ./instance;
    one audit key ring serves the whole run, so every process keys the shared database alike."""
    folder = tempfile.mkdtemp(prefix="oversight-test-instance-")
    os.environ.setdefault("OVERSIGHT_INSTANCE_PATH", folder)
    os.environ.setdefault("OVERSIGHT_AUDIT_KEY_FILE", os.path.join(folder, "audit_keys.json"))
    # Queue tasks run at once where they are enqueued, so no test needs a worker but the queue's own.
    os.environ.setdefault("OVERSIGHT_QUEUE_IMMEDIATE", "true")


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def database_config(tmp_path_factory):
    """Engine settings for a database that only this test run uses."""
    if not POSTGRES_URL:
        path = tmp_path_factory.mktemp("db") / "test.sqlite"
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
        return
    schema = f"t_{os.getpid()}_{secrets.token_hex(4)}"
    # The app works as a role of its own that owns the schema but is no superuser: a superuser
    # passes every row-level security policy, the tables' owner only those not forced.
    role = f"{schema}_owner"
    admin_engine = create_engine(POSTGRES_URL)
    with admin_engine.begin() as connection:  # raises when the server is unreachable: no silent skip
        connection.execute(text(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS'))
        connection.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"'))
    yield {
        "SQLALCHEMY_DATABASE_URI": POSTGRES_URL,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema} -crole={role}"}},
        "TEST_SCHEMA": schema,
        "TEST_ROLE": role,
    }
    with admin_engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        connection.execute(text(f'DROP ROLE "{role}"'))
    admin_engine.dispose()


@pytest.fixture(scope="session")
def _schema(database_config, tmp_path_factory):
    """Create the tables once per run."""
    app = create_app({**database_config, "TESTING": True,
                      "UPLOADS_DIR": str(tmp_path_factory.mktemp("uploads"))})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return database_config


def empty_all_tables() -> None:
    """Every table emptied; the audit log through its one sanctioned way round the append-only triggers."""
    with append_only_lifted(db.session.connection()):
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(_schema, tmp_path):
    app = create_app({**_schema, "TESTING": True, "PASSWORD_HASH_PARAMS": CHEAP_HASHING, "SECRET_KEY": "test-" + secrets.token_hex(8),
                      "UPLOADS_DIR": str(tmp_path / "uploads"), "REPORTS_DIR": str(tmp_path / "reports"),
                      "AUDIT_ANCHOR_FILE": str(tmp_path / "audit_anchors.jsonl")})
    with app.app_context():
        yield app
        db.session.rollback()
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def factory(app) -> Factory:
    return Factory()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Client:
    """A test client that logs in through the real form and posts with the page's CSRF token.

    Each request runs in a fresh app context, as in production: the test's own context (and its
    `g` and database session) is never shared with the request.
    """

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def _request(self, method: str, url: str, **kwargs):
        with self.app.app_context():
            return getattr(self.http, method)(url, **kwargs)

    def get(self, url, **kwargs):
        return self._request("get", url, **kwargs)

    def csrf_token(self, page_url: str) -> str:
        page = self.get(page_url)
        match = _CSRF.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {page_url}"
        return match.group(1)

    def post(self, url, data=None, *, token_from: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from or "/dashboard"))
        return self._request("post", url, data=data, **kwargs)

    def login(self, username: str, password: str):
        token = self.csrf_token("/login")
        return self._request("post", "/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def client_for(app):
    """client_for(user) → a Client logged in as that user (password: Factory.PASSWORD)."""

    def make(user) -> Client:
        client = Client(app)
        response = client.login(user.username, Factory.PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make
