"""Where settings come from (defaults < instance config.toml < environment < create_app overrides),
README lists them all, and every list page pages by PAGE_SIZE."""
from __future__ import annotations

import re
from datetime import date

import pytest

from oversight import PROJECT_ROOT, create_app
from oversight.config import Defaults
from oversight.extensions import db


@pytest.fixture
def instance(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OVERSIGHT_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def test_each_layer_overrides_the_one_before(instance, monkeypatch):
    (instance / "config.toml").write_text(
        'PAGE_SIZE = 10\nBUREAU_NAME = "赣县区民政局（文件）"\nSMTP_HOST = "file.example"\n'
        'DATABASE_URL = "postgres://file@db.example/oversight"\n', encoding="utf-8")
    monkeypatch.setenv("OVERSIGHT_BUREAU_NAME", "赣县区民政局")
    monkeypatch.setenv("OVERSIGHT_SMTP_HOST", "env.example")
    monkeypatch.setenv("OVERSIGHT_SMTP_PORT", "2525")
    monkeypatch.setenv("OVERSIGHT_SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("OVERSIGHT_PASSWORD_HASH_PARAMS", '{"time_cost": 1, "memory_cost": 8, "parallelism": 1}')
    app = create_app({"SMTP_HOST": "override.example"})
    config = app.config
    assert config["LOG_LEVEL"] == Defaults.LOG_LEVEL == "INFO"          # default
    assert config["PAGE_SIZE"] == 10                                    # instance file
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://file@db.example/oversight"
    assert config["BUREAU_NAME"] == "赣县区民政局"                       # environment over the file
    assert config["SMTP_PORT"] == 2525 and config["SESSION_COOKIE_SECURE"] is False  # typed from JSON
    assert config["PASSWORD_HASH_PARAMS"] == {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    assert config["SMTP_HOST"] == "override.example"                    # create_app over everything
    assert config["UPLOADS_DIR"] == str(instance / "uploads")


def test_the_historic_database_url_and_secret_key_still_work(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://oversight@db.example/oversight")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://oversight@db.example/oversight"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    monkeypatch.setenv("OVERSIGHT_DATABASE_URL", "postgresql://prefixed@db.example/oversight")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://prefixed@db.example/oversight"


def test_without_any_setting_the_instance_folder_holds_database_and_key(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'oversight.sqlite'}"
    assert app.config["SECRET_KEY"] == (instance / "secret_key").read_text().strip()
    assert app.config["SESSION_COOKIE_SECURE"] is True  # production unless told otherwise


def _readme_settings() -> set[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(?:OVERSIGHT_)?([A-Z][A-Z0-9_]*)`", section, flags=re.M))


def test_readme_lists_every_setting():
    settings = {name for name in vars(Defaults) if name.isupper()}
    assert settings - _readme_settings() == set()


def test_the_code_reads_no_setting_that_has_no_default():
    read = set()
    for path in (PROJECT_ROOT / "oversight").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"config(?:\.get\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']", text))
    flask_own = {"TESTING", "DEBUG", "SESSION_COOKIE_NAME", "MAX_COOKIE_SIZE"}
    assert read - flask_own - {name for name in vars(Defaults) if name.isupper()} == set()


LIST_PAGES = {"/assignments/", "/audit/", "/subjects/", "/uploads/", "/records/", "/reviews/", "/draws/",
              "/callbacks/", "/callbacks/complaints/", "/spot-checks/", "/spot-checks/notices/", "/evaluations/",
              "/contracts/", "/contractors/", "/users/", "/notifications/", "/admin/jobs", "/check-results/"}


def test_every_list_page_pages_by_page_size(app, factory, client_for, monkeypatch):
    app.config["PAGE_SIZE"] = 7
    sizes: dict[str, set[int]] = {}
    paginate = db.paginate

    def spy(select, **kwargs):
        sizes.setdefault(spy.url, set()).add(kwargs["per_page"])
        return paginate(select, **kwargs)

    monkeypatch.setattr(db, "paginate", spy)
    for role in ("admin", "supervisor", "contractor", "auditor"):
        client = client_for(factory.user(role, contractor=factory.contractor() if role == "contractor" else None))
        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods and "<" not in rule.rule:
                spy.url = rule.rule
                client.get(rule.rule)
    assert set(sizes) >= LIST_PAGES
    assert {url: found for url, found in sizes.items() if found != {7}} == {}


def test_the_contract_list_shows_page_size_contracts_a_page(app, factory, client_for):
    app.config["PAGE_SIZE"] = 2
    codes = [factory.contract(code=f"PAGE-{n}", term_start=date(2025, n, 1)).code for n in (1, 2, 3)]
    client = client_for(factory.user("admin"))
    first, second = (client.get(f"/contracts/?page={n}").get_data(as_text=True) for n in (1, 2))
    assert [code in first for code in codes] == [False, True, True]  # newest term first
    assert [code in second for code in codes] == [True, False, False]
    assert "第 1 / 2 页，共 3 条" in first
