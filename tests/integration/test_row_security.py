"""PostgreSQL row-level security by county (services/row_security.py, models/row_security.py):
the policy on a scratch table with a county_id, held to the run's non-superuser owner role."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from oversight.extensions import db
from oversight.models import Area
from oversight.models.row_security import enable_statements
from oversight.services import row_security
from oversight.services.row_security import county_scope, counties_of_area, setting_value, system_scope

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="row-level security is PostgreSQL's; on SQLite the app's filters are the only line")

_scratch_metadata = MetaData()
scratch = Table("rls_scratch", _scratch_metadata, Column("id", Integer, primary_key=True),
                Column("county_id", Integer), Column("note", String(20)))


def _area(code: str, name: str, level: str, parent: Area | None = None) -> Area:
    area = Area(code=code, name=name, level=level, parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    return area


@pytest.fixture
def city(app):
    """A city of two counties and a township of the first; the scratch table under the policy
    with two rows in each county."""
    province = _area("360000", "江西省", "province")
    ganzhou = _area("360700", "赣州市", "city", province)
    county_a = _area("360704", "赣县区", "county", ganzhou)
    county_b = _area("360721", "信丰县", "county", ganzhou)
    township = _area("360704100", "梅林镇", "township", county_a)
    db.session.commit()
    with db.engine.begin() as connection:
        scratch.create(connection)
        for statement in enable_statements(scratch.name):
            connection.exec_driver_sql(statement)
        connection.execute(insert(scratch), [{"county_id": county_a.id, "note": "a1"}, {"county_id": county_a.id, "note": "a2"},
                                             {"county_id": county_b.id, "note": "b1"}, {"county_id": county_b.id, "note": "b2"}])
    yield {"province": province, "city": ganzhou, "a": county_a, "b": county_b, "township": township}
    db.session.rollback()
    with db.engine.begin() as connection:
        scratch.drop(connection)


def _notes(connection=None) -> list[str]:
    return sorted((connection or db.session).execute(select(scratch.c.note)).scalars())


def test_the_role_the_app_works_as_is_held_to_the_policies(app):
    """A superuser or BYPASSRLS role would pass every policy: the test run's role is neither."""
    role = db.session.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    assert (role.rolsuper, role.rolbypassrls) == (False, False)


def test_an_unfiltered_select_in_a_county_request_returns_only_that_countys_rows(app, city):
    with app.app_context(), app.test_request_context("/"):  # a request of its own, as in production
        row_security.bind_request(setting_value(counties_of_area(city["a"].id)))
        assert _notes() == ["a1", "a2"]
        db.session.commit()
        assert _notes() == ["a1", "a2"]  # the next transaction begins in the scope too
        with db.engine.connect() as own:  # a connection of its own (the import's anomaly reader)
            assert _notes(own) == ["a1", "a2"]
        db.session.rollback()


def test_a_county_request_cannot_write_another_countys_row(app, city):
    with app.app_context(), app.test_request_context("/"):  # a request of its own, as in production
        row_security.bind_request(setting_value([city["a"].id]))
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(insert(scratch).values(county_id=city["b"].id, note="b3"))
        db.session.rollback()
        # B's rows are not there to update; an A row cannot be moved into B.
        assert db.session.execute(update(scratch).where(scratch.c.note == "b1").values(note="bx")).rowcount == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(update(scratch).where(scratch.c.note == "a1").values(county_id=city["b"].id))
        db.session.rollback()
        assert db.session.execute(update(scratch).where(scratch.c.note == "a1").values(note="a1x")).rowcount == 1
        db.session.commit()
    assert _notes() == ["a1x", "a2", "b1", "b2"]


def test_a_city_sees_its_counties_a_township_its_county_and_a_request_nobody_signed_in_to_nothing(app, city):
    assert sorted(counties_of_area(city["city"].id)) == sorted([city["a"].id, city["b"].id])
    assert sorted(counties_of_area(city["province"].id)) == sorted([city["a"].id, city["b"].id])
    assert counties_of_area(city["township"].id) == [city["a"].id]
    with app.app_context(), app.test_request_context("/"):  # a request of its own, as in production
        row_security.bind_request(setting_value(counties_of_area(city["city"].id)))
        assert _notes() == ["a1", "a2", "b1", "b2"]
        db.session.rollback()
    with app.app_context(), app.test_request_context("/"):  # a request of its own, as in production
        assert _notes() == []
        db.session.rollback()


def test_outside_a_request_the_system_sees_every_row_and_a_scope_block_narrows_it(app, city):
    assert _notes() == ["a1", "a2", "b1", "b2"]
    with county_scope([city["b"].id]):
        assert _notes() == ["b1", "b2"]  # the transaction in progress too
        with system_scope():
            assert _notes() == ["a1", "a2", "b1", "b2"]
        assert _notes() == ["b1", "b2"]
        db.session.commit()
        assert _notes() == ["b1", "b2"]
    assert _notes() == ["a1", "a2", "b1", "b2"]


def test_an_unset_scope_sees_nothing(app, city):
    """A connection that never went through the app's listener (no setting at all) sees no row."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SELECT set_config('oversight.county_ids', NULL, true)")
        assert _notes(connection) == []


def test_a_thread_started_with_the_scope_carries_it(app, city):
    seen: list[list[str]] = []
    engine = db.engine

    def read() -> None:
        with engine.connect() as connection:
            seen.append(_notes(connection))

    with county_scope([city["a"].id]):
        thread = threading.Thread(target=row_security.carried(read))
        thread.start()
        thread.join()
    plain = threading.Thread(target=read)  # a thread of its own is the system
    plain.start()
    plain.join()
    assert seen == [["a1", "a2"], ["a1", "a2", "b1", "b2"]]
