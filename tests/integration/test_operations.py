"""Health check, SQLite backup and restore."""
import sqlite3

import pytest
from sqlalchemy import select

from oversight import create_app
from oversight.extensions import db
from oversight.services.areas import home_county
from oversight.models import Contractor
from tests.conftest import POSTGRES_URL


def test_healthz_reports_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.skipif(bool(POSTGRES_URL), reason="backup/restore is for the SQLite default; PostgreSQL uses pg_dump")
def test_backup_then_restore_gives_the_same_data(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite'}", "TESTING": True})
    runner = app.test_cli_runner()
    with app.app_context():
        db.create_all()
        db.session.add(Contractor(name="甲", credit_code="91512081MA62K0260E", contact_person="张",
                                  contact_phone="13800000000", county_id=home_county().id))
        db.session.commit()
        result = runner.invoke(args=["backup", "--out", str(tmp_path / "b.sqlite")])
        assert result.exit_code == 0, result.output
        db.session.execute(select(Contractor)).scalar_one().name = "乙"
        db.session.commit()
        assert runner.invoke(args=["restore", str(tmp_path / "b.sqlite")]).exit_code != 0  # needs --yes
        result = runner.invoke(args=["restore", str(tmp_path / "b.sqlite"), "--yes"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        assert db.session.execute(select(Contractor.name)).scalar_one() == "甲"
        assert runner.invoke(args=["verify-audit-log"]).exit_code == 0
    assert (tmp_path / "live.before-restore.sqlite").exists()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite only")
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite'}", "TESTING": True})
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["restore", str(other), "--yes"])
    assert result.exit_code != 0 and "不是履约监管的数据库备份" in result.output
