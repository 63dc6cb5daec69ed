"""Oversight (履约监管): supervision of government-purchased social-assistance services."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from .config import Config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _instance_secret_key(instance_path: str) -> str:
    """A random key generated once and kept in the instance folder when SECRET_KEY is unset."""
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def create_app(config: object | None = None) -> Flask:
    """Application factory: `config` is a Config instance or a mapping of overrides."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("OVERSIGHT_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(config if isinstance(config, Config) else Config())
    if isinstance(config, dict):
        app.config.update(config)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{Path(app.instance_path) / 'oversight.sqlite'}"
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    app.config.setdefault("REPORTS_DIR", str(PROJECT_ROOT / "reports"))
    app.config.setdefault("UPLOADS_DIR", str(Path(app.instance_path) / "uploads"))

    from . import models  # noqa: F401  (registers every table)
    from .extensions import csrf, db, login_manager, migrate, migration_includes
    from .services.accounts import configure_hashing
    from .services.audit import install_listeners

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                    include_object=migration_includes)
    login_manager.init_app(app)
    csrf.init_app(app)
    install_listeners()
    configure_hashing(app.config.get("PASSWORD_HASH_PARAMS"))
    _enable_sqlite_foreign_keys()

    from .web import register_web

    register_web(app)
    if not app.testing:
        from .logs import configure_logging

        configure_logging(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _enable_sqlite_foreign_keys() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
