"""PostgreSQL row-level security by county (services/row_security.py, models/row_security.py):
the policy on a scratch table with a county_id, held to the run's non-superuser owner role."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from oversight.extensions import db
from oversight.models import Area, AuditEvent, CompletionRecord, Contract, Subject, User
from oversight.models.row_security import enable_statements
from oversight.services import row_security
from oversight.services.areas import county_ids_under
from oversight.services.row_security import county_scope, setting_value, system_scope

from tests.conftest import POSTGRES_URL
from tests.factories import valid_id_number

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
    """A city of two counties; the scratch table under the policy with two rows in each county."""
    province = _area("360000", "江西省", "province")
    ganzhou = _area("360700", "赣州市", "city", province)
    county_a = _area("360704", "赣县区", "county", ganzhou)
    county_b = _area("360721", "信丰县", "county", ganzhou)
    db.session.commit()
    with db.engine.begin() as connection:
        scratch.create(connection)
        for statement in enable_statements(scratch.name):
            connection.exec_driver_sql(statement)
        connection.execute(insert(scratch), [{"county_id": county_a.id, "note": "a1"}, {"county_id": county_a.id, "note": "a2"},
                                             {"county_id": county_b.id, "note": "b1"}, {"county_id": county_b.id, "note": "b2"}])
    yield {"province": province, "city": ganzhou, "a": county_a, "b": county_b}
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
        row_security.bind_request(setting_value(county_ids_under(city["a"].id)))
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


def test_a_city_sees_its_counties_and_a_request_nobody_signed_in_to_nothing(app, city):
    assert sorted(county_ids_under(city["city"].id)) == sorted([city["a"].id, city["b"].id])
    assert sorted(county_ids_under(city["province"].id)) == sorted([city["a"].id, city["b"].id])
    with app.app_context(), app.test_request_context("/"):  # a request of its own, as in production
        row_security.bind_request(setting_value(county_ids_under(city["city"].id)))
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


# --- the app's own tables, through the whole web stack ------------------------------------


@pytest.fixture
def two_counties(app, factory):
    """A record in the install's county (A, 赣县区) and one in another county of the city (B,
    信丰县), with a supervisor of each county and one of the city; and a route that asks for
    records with no filter at all, as a forgetful query would."""
    county_a, county_b = factory.county(), factory.county("360721", "信丰县")
    records = {}
    for name, county in (("a", county_a), ("b", county_b)):
        contract = factory.contract(factory.contractor(county=county))
        records[name] = factory.record(factory.assignment(contract))
    city = db.session.get(Area, county_a.parent_id)

    def unfiltered():
        answer = {"records": sorted(db.session.execute(select(CompletionRecord.id)).scalars()),
                  "contracts": db.session.execute(select(func.count()).select_from(Contract)).scalar_one()}
        other = records["b"] if records["a"].id in answer["records"] else records["a"]
        answer["updated_other"] = db.session.execute(
            update(CompletionRecord).where(CompletionRecord.id == other.id).values(flagged=True)).rowcount
        db.session.rollback()
        try:
            db.session.add(Subject(county_id=other.county_id, kind="household", name="越界", id_number=valid_id_number(999),
                                   township="梅林镇", village="梅林村", category="低保"))
            db.session.flush()
            answer["inserted_other"] = True
        except DBAPIError as error:
            answer["inserted_other"] = False
            answer["refusal"] = str(error.orig)
        db.session.rollback()
        return answer

    app.add_url_rule("/test/unfiltered-records", "test_unfiltered_records", unfiltered)
    return {"a": records["a"], "b": records["b"],
            "supervisor_a": factory.user("supervisor", area=county_a),
            "supervisor_b": factory.user("supervisor", area=county_b),
            "supervisor_city": factory.user("supervisor", area=city)}


def test_an_unfiltered_select_in_a_county_users_request_returns_only_that_countys_records(two_counties, client_for):
    for user, mine in (("supervisor_a", "a"), ("supervisor_b", "b")):
        answer = client_for(two_counties[user]).get("/test/unfiltered-records").get_json()
        assert answer["records"] == [two_counties[mine].id]
        assert answer["contracts"] == 1
        assert answer["updated_other"] == 0  # the other county's record is not there to update
        assert answer["inserted_other"] is False and "row-level security" in answer["refusal"]


def test_a_city_users_request_sees_every_county_of_the_city(two_counties, client_for):
    answer = client_for(two_counties["supervisor_city"]).get("/test/unfiltered-records").get_json()
    assert answer["records"] == sorted([two_counties["a"].id, two_counties["b"].id])


def test_a_moved_record_is_refused_in_a_county_scope_and_the_system_sees_all(app, two_counties):
    a, b = two_counties["a"], two_counties["b"]
    with county_scope([a.county_id]):
        assert list(db.session.execute(select(CompletionRecord.id)).scalars()) == [a.id]
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(update(CompletionRecord).where(CompletionRecord.id == a.id).values(county_id=b.county_id))
        db.session.rollback()
    assert sorted(db.session.execute(select(CompletionRecord.id)).scalars()) == sorted([a.id, b.id])


def test_a_job_started_from_a_county_users_request_is_the_systems_work(app, two_counties, client_for):
    """「立即运行」 by a county's admin runs the job as the system: both counties' overdue tasks."""
    from oversight.jobs import JOBS
    from oversight.services.jobs import run_now

    spec = next(spec for spec in JOBS if spec.name == "mark_overdue")
    with app.app_context(), app.test_request_context("/"):
        row_security.bind_user(db.session.get(User, two_counties["supervisor_a"].id))
        run = run_now(spec, date(2026, 1, 10), {})
        assert run.outcome == "succeeded", run.error
        assert run.summary["assignments_overdue"] == 2


def test_a_task_for_a_user_works_in_the_users_counties(app, two_counties):
    from oversight.services.audit import Actor, SYSTEM_ACTOR
    from oversight.tasks import _in_app

    seen = {}
    user = two_counties["supervisor_b"]
    for name, actor in (("user", Actor(user.id, user.username)), ("system", SYSTEM_ACTOR)):
        with _in_app(app, actor):
            seen[name] = sorted(db.session.execute(select(CompletionRecord.id)).scalars())
    assert seen == {"user": [two_counties["b"].id], "system": sorted([two_counties["a"].id, two_counties["b"].id])}


def test_the_audit_verification_sees_the_whole_chain(app, two_counties):
    from oversight.services.audit import verify_audit_log

    events = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert verify_audit_log() == (events, None)
