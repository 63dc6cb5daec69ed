"""Apps on databases of their own (SQLite files, or PostgreSQL schemas), for tests that seed the demo.

Self-contained: independent of conftest's per-run database, so that a demo built once per module
stays untouched by the tests that empty the shared tables.
"""
from __future__ import annotations

import os
import secrets

from sqlalchemy import create_engine, text

from oversight import create_app
from oversight.extensions import db

CHEAP_HASHING = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


class Databases:
    """Apps on databases of their own: SQLite files, or PostgreSQL schemas dropped by `drop`."""

    def __init__(self, folder):
        self.folder, self.schemas = folder, []

    def app(self, name: str, *, tables: bool = True, **settings):
        config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.folder}/{name}.sqlite", "TESTING": True,
                  "SECRET_KEY": "seed-demo-test", "PASSWORD_HASH_PARAMS": CHEAP_HASHING,
                  "UPLOADS_DIR": str(self.folder / name / "uploads"),
                  "AUDIT_ANCHOR_FILE": str(self.folder / name / "audit_anchors.jsonl"), **settings}
        if POSTGRES_URL:
            schema = f"seed_{name}_{secrets.token_hex(4)}"
            with create_engine(POSTGRES_URL).begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            self.schemas.append(schema)
            config.update(SQLALCHEMY_DATABASE_URI=POSTGRES_URL,
                          SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}})
        app = create_app(config)
        if tables:
            with app.app_context():
                db.create_all()
                db.engine.dispose()
        return app

    def drop(self) -> None:
        if self.schemas:
            engine = create_engine(POSTGRES_URL)
            with engine.begin() as connection:
                for schema in self.schemas:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()
