"""The queries rewritten for a city's years of records give what the plain queries gave."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from oversight.clock import local_day
from oversight.domain.comparison import tally
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Assignment, Contract, Subject
from oversight.services import dashboard
from oversight.services.assignments import AssignmentFilters, filtered_assignments
from oversight.services.check_results import check_facts, quarter_check_figures
from oversight.services.kpi_evidence import gather_evidence
from tests.performance_support import build_quarter

TODAY = date(2025, 6, 20)


@pytest.fixture
def county(factory):
    """Two contractors, three contracts (one without assignments), assignments in every status,
    some still 'assigned' past their due date, in two townships."""
    first, second = factory.contractor(), factory.contractor()
    busy = factory.contract(first, service_types=("household_survey",))
    care = factory.contract(second, service_types=("care_visit",))
    idle = factory.contract(second, service_types=("care_visit",))
    plan = [(busy, "household", "梅林镇", [("assigned", 3), ("assigned", -2), ("completed", -10), ("overdue", -30),
                                          ("cancelled", 5), ("completed", 1)]),
            (care, "person", "江口镇", [("assigned", 6), ("overdue", -4), ("completed", -1), ("assigned", -1)])]
    for contract, kind, township, rows in plan:
        for status, days in rows:
            subject = factory.subject(kind, township=township)
            factory.assignment(contract, subject, due_date=TODAY + timedelta(days=days), status=status)
    return {"busy": busy, "care": care, "idle": idle, "second": second}


def _grouped(scope_ids):
    stmt = select(Assignment.contract_id, Assignment.status, func.count()).group_by(
        Assignment.contract_id, Assignment.status)
    if scope_ids is not None:
        stmt = stmt.where(Assignment.contract_id.in_(scope_ids))
    counts = {}
    for contract_id, status, count in db.session.execute(stmt):
        counts.setdefault(contract_id, {})[status] = count
    return counts


@pytest.mark.parametrize("scoped", [False, True])
def test_dashboard_counts_equal_a_plain_group_by(county, scoped):
    scope = select(Contract.id).where(Contract.contractor_id == county["second"].id) if scoped else None
    progress = dashboard.contract_progress(scope)
    expected = _grouped([county["care"].id, county["idle"].id] if scoped else None)
    assert {row.contract.id: row.counts for row in progress} == {
        contract.id: expected.get(contract.id, {}) for contract in (county["busy"], county["care"], county["idle"])
        if not scoped or contract.contractor_id == county["second"].id}
    totals = {}
    for counts in expected.values():
        for status, count in counts.items():
            totals[status] = totals.get(status, 0) + count
    assert dashboard.status_counts(progress) == totals
    assert totals == ({"assigned": 2, "overdue": 1, "completed": 1} if scoped else
                      {"assigned": 4, "overdue": 2, "completed": 3, "cancelled": 1})


@pytest.mark.parametrize("scoped", [False, True])
def test_overdue_counts_marked_and_open_past_due_as_the_or_did(county, scoped):
    scope = select(Contract.id).where(Contract.contractor_id == county["second"].id) if scoped else None
    plain = select(func.count()).select_from(Assignment).where(
        (Assignment.status == "overdue") | ((Assignment.status == "assigned") & (Assignment.due_date < TODAY)))
    if scoped:
        plain = plain.where(Assignment.contract_id.in_(scope))
    assert dashboard.overdue_count(scope, TODAY) == db.session.execute(plain).scalar_one() == (2 if scoped else 4)


@pytest.mark.parametrize("filters", [AssignmentFilters(), AssignmentFilters(township="江口镇"),
                                     AssignmentFilters(township="梅林镇", status="assigned"),
                                     AssignmentFilters(status="completed")])
def test_the_list_joins_subjects_only_to_filter_by_township(county, filters):
    joined = select(Assignment.id).join(Subject, Assignment.subject_id == Subject.id)
    if filters.township:
        joined = joined.where(Subject.township == filters.township)
    if filters.status:
        joined = joined.where(Assignment.status == filters.status)
    expected = db.session.execute(joined.order_by(Assignment.due_date.desc(), Assignment.id.desc())).scalars().all()
    stmt = filtered_assignments(filters)
    assert [a.id for a in db.session.execute(stmt).scalars()] == expected
    assert " JOIN subjects" in str(stmt) if filters.township else " JOIN " not in str(stmt)


def test_the_list_loads_each_rows_subject_and_contract_with_it(county):
    db.session.expire_all()
    rows = db.session.execute(filtered_assignments(AssignmentFilters())).scalars().all()
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        shown = [(a.subject.name, a.subject.township, a.contract.code) for a in rows]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(shown) == 10 and statements == []


def test_timeliness_compares_the_county_day_in_the_database_as_python_does(factory):
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    due = date(2025, 8, 10)
    moments = [datetime(2025, 8, 10, 15, 59, 59, 999999), datetime(2025, 8, 10, 16, 0), datetime(2025, 8, 9, 16, 0),
               datetime(2025, 8, 10, 0, 0), datetime(2025, 8, 11, 1, 30), datetime(2025, 12, 31, 23, 0), None]
    made = []
    for moment in moments:
        assignment = factory.assignment(contract, due_date=due, status="completed")
        assignment.completed_at = moment
        made.append(assignment)
    db.session.commit()
    found = gather_evidence(contract.id, Quarter(2025, 3))
    expected = [a.id for a in made if a.completed_at is not None and local_day(a.completed_at) <= due]
    assert list(found.counted_ids["timeliness"]) == expected and len(expected) == 3
    assert found.evidence["timeliness"].denominator == len(moments)


def test_scoring_reads_the_stored_field_counts_and_the_same_figures_as_the_results_page(factory):
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    build_quarter(contract, factory.user("supervisor"))
    full = quarter_check_figures(contract.id, "2025Q3")
    light = quarter_check_figures(contract.id, "2025Q3", lots=False)
    assert "draws" in full["spot_checks"] and "draws" not in light["spot_checks"]
    full["spot_checks"].pop("draws")
    assert light == full
    random = [fact for fact in check_facts(contract.id, Quarter(2025, 3)) if fact.stratum != "targeted"]
    errors = tally(fact.comparison for fact in random)
    assert (light["field_accuracy"]["compared"], light["field_accuracy"]["differing"]) == (
        errors.compared, errors.differing) == (200, 6)
