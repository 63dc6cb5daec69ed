"""Oversight (履约监管): supervision of government-purchased social-assistance services."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from .config import load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _instance_secret_key(instance_path: str) -> str:
    """A random key generated once and kept in the instance folder when SECRET_KEY is unset."""
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def create_app(overrides: dict | None = None) -> Flask:
    """Application factory: settings as `oversight.config` describes, `overrides` last."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("OVERSIGHT_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,  # config.toml is read from the instance folder
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    load_settings(app.config, overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'oversight.sqlite'}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    app.config["REPORTS_DIR"] = app.config["REPORTS_DIR"] or str(PROJECT_ROOT / "reports")
    app.config["UPLOADS_DIR"] = app.config["UPLOADS_DIR"] or str(Path(app.instance_path) / "uploads")
    app.config["AUDIT_KEY_FILE"] = app.config["AUDIT_KEY_FILE"] or str(Path(app.instance_path) / "audit_keys.json")
    app.config["AUDIT_ANCHOR_FILE"] = (app.config["AUDIT_ANCHOR_FILE"]
                                       or str(Path(app.instance_path) / "audit_anchors.jsonl"))
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        queue_url = app.config.get("QUEUE_URL") or ""
        app.config["RATELIMIT_STORAGE_URI"] = queue_url if queue_url.startswith(("redis://", "rediss://")) else "memory://"
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import models  # noqa: F401  (registers every table)
    from .extensions import csrf, db, limiter, login_manager, migrate, migration_includes
    from .services.accounts import configure_hashing, install_session_version_listener
    from .services.audit import install_listeners
    from .services.row_security import install_listener as install_row_security

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                    include_object=migration_includes)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    install_listeners()
    install_row_security()
    install_session_version_listener()
    configure_hashing(app.config["PASSWORD_HASH_PARAMS"])
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
