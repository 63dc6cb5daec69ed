"""The Alembic migrations build, from an empty database, exactly the schema the models declare."""
import os
import secrets

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from oversight import create_app
from oversight.extensions import db
from tests.conftest import POSTGRES_URL


def test_init_db_upgrades_an_empty_database_to_the_models(tmp_path):
    config = {"TESTING": True}
    schema = None
    if POSTGRES_URL:
        schema = f"m_{os.getpid()}_{secrets.token_hex(4)}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        config.update(SQLALCHEMY_DATABASE_URI=POSTGRES_URL,
                      SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}})
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    app = create_app(config)
    try:
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        with app.app_context(), db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            db.engine.dispose()
    finally:
        if schema:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
