"""The assignment form refuses a repeat of open work and links to the open assignment (issue 10.10)."""
from datetime import date

from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import Assignment


def test_the_form_refuses_a_second_open_assignment_and_links_the_open_one(client_for, factory):
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2030, 12, 31))
    household = factory.subject("household")
    open_one = factory.assignment(contract, household, "household_survey", due_date=date(2030, 3, 31), status="overdue")
    client = client_for(factory.user("supervisor"))
    response = client.post("/assignments/new", {
        "contract_id": contract.id, "service_type": "household_survey", "subject_id_number": household.id_number,
        "due_date": "2030-06-30", "number": ""}, token_from="/assignments/new")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已有未完成的家计调查任务 {open_one.number}" in page and "不能重复派发" in page
    assert f'href="/assignments/{open_one.id}">{open_one.number}</a>' in page
    assert db.session.execute(select(func.count()).select_from(Assignment)).scalar_one() == 1
