"""The condition-report pages: a supervisor or the contractor serving a person records a change and
its re-assessment is issued; another contractor's person answers 404; the bureau states from when
a changed tier takes effect on the subject page."""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from oversight.domain import self_care
from oversight.extensions import db
from oversight.models import Assignment, CompletionRecord, ConditionReport, TierEffectiveDate


@pytest.fixture
def people(factory):
    ours, theirs = factory.contractor(), factory.contractor()
    contract = factory.contract(ours, service_types=("self_care_assessment",))
    other_contract = factory.contract(theirs, service_types=("self_care_assessment",))
    subject, stranger = factory.subject("person", name="王秀英"), factory.subject("person", name="李桂兰")
    first = factory.assignment(contract, subject, due_date=date(2026, 1, 31), status="completed")
    factory.record(first, service_date=date(2026, 1, 10), eating=True, dressing=True, transfer=True, toileting=True,
                   walking=True, bathing=True, conclusion=self_care.CONCLUSION_FULL, fails=0)
    factory.assignment(other_contract, stranger, due_date=date(2026, 1, 31))
    return {"contract": contract, "subject": subject, "stranger": stranger,
            "supervisor": factory.user("supervisor"), "staff": factory.user("contractor", ours),
            "their_staff": factory.user("contractor", theirs), "auditor": factory.user("auditor")}


def _form(people, **changes):
    return {"contract_id": str(people["contract"].id), "reported_on": "2026-02-12", "reporter_kind": "field_worker",
            "reporter_name": "社工张敏", "description": "近日跌倒，卧床不起", **changes}


def test_the_contractor_serving_the_person_reports_a_change_and_sees_its_re_assessment(client_for, people):
    staff = client_for(people["staff"])
    url = f"/condition-reports/new/{people['subject'].id}"
    page = staff.get(url).get_data(as_text=True)
    assert "报告情况变化" in page and people["contract"].code in page
    answer = staff.post(url, _form(people), token_from=url)
    assert answer.status_code == 302
    report = db.session.execute(select(ConditionReport)).scalar_one()
    assignment = db.session.get(Assignment, report.assignment_id)
    assert (report.reporter_kind, report.entered_by_id, assignment.reason) == (
        "field_worker", people["staff"].id, "reassessment")
    shown = staff.get(answer.headers["Location"]).get_data(as_text=True)
    assert "服务人员（经承接机构）" in shown and assignment.number in shown and str(assignment.due_date) in shown
    assigned = staff.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert "情况变化复评" in assigned and "field_worker" not in shown
    assert "情况变化复评" in staff.get("/assignments/").get_data(as_text=True)
    assert assignment.number in staff.get("/condition-reports/").get_data(as_text=True)


def test_another_contractors_person_and_report_answer_404(client_for, people):
    supervisor = client_for(people["supervisor"])
    url = f"/condition-reports/new/{people['subject'].id}"
    assert supervisor.post(url, _form(people, reporter_kind="village_committee"), token_from=url).status_code == 302
    report = db.session.execute(select(ConditionReport)).scalar_one()
    theirs = client_for(people["their_staff"])
    assert theirs.get(url).status_code == 404
    assert theirs.get(f"/condition-reports/{report.id}").status_code == 404
    assert report.assignment.number not in theirs.get("/condition-reports/").get_data(as_text=True)
    # Their own person, on a contract of theirs, but offered only their own contracts: ours is refused.
    their_url = f"/condition-reports/new/{people['stranger'].id}"
    refused = theirs.post(their_url, _form(people), token_from=their_url)
    assert db.session.execute(select(ConditionReport.id)).scalars().all() == [report.id]
    assert refused.status_code == 303  # the form again: not a choice it offers
    assert client_for(people["auditor"]).get(url).status_code == 403
    assert client_for(people["staff"]).get(f"/condition-reports/{report.id}").status_code == 200


def test_a_refused_report_says_why_and_records_nothing(client_for, people):
    supervisor = client_for(people["supervisor"])
    url = f"/condition-reports/new/{people['subject'].id}"
    answer = supervisor.post(url, _form(people, description=""), token_from=url)
    assert answer.status_code == 303 and "请写明情况变化的内容" in supervisor.get(url).get_data(as_text=True)
    future = supervisor.post(url, _form(people, reported_on="2099-01-01"), token_from=url)
    assert "报告日期不能晚于今天" in supervisor.get(future.headers["Location"]).get_data(as_text=True)
    assert db.session.execute(select(ConditionReport)).first() is None


def test_the_subject_page_shows_the_tier_history_and_a_supervisor_states_the_effective_date(client_for, people,
                                                                                              factory):
    supervisor = client_for(people["supervisor"])
    url = f"/condition-reports/new/{people['subject'].id}"
    supervisor.post(url, _form(people), token_from=url)
    assignment = db.session.execute(select(Assignment).where(Assignment.reason == "reassessment")).scalar_one()
    record = factory.record(assignment, service_date=date(2026, 3, 5), eating=False, dressing=False, transfer=False,
                            toileting=False, walking=True, bathing=False, conclusion=self_care.CONCLUSION_NONE, fails=5)
    assignment.status, assignment.completed_at = "completed", datetime(2026, 3, 5, 2)
    db.session.commit()
    subject_url = f"/subjects/{people['subject'].id}"
    page = supervisor.get(subject_url).get_data(as_text=True)
    assert "一档 全护理" in page and "2026-04-01" in page and "默认：评估次月1日" in page
    answer = supervisor.post(f"/condition-reports/records/{record.id}/effective-date",
                             {"effective_from": "2026-03-01", "reason": "自复评当月起"}, token_from=subject_url)
    assert answer.status_code == 302
    stated = db.session.execute(select(TierEffectiveDate)).scalar_one()
    assert (stated.record_id, stated.effective_from, stated.stated_by_id) == (
        record.id, date(2026, 3, 1), people["supervisor"].id)
    assert "默认：评估次月1日" in supervisor.get(subject_url).get_data(as_text=True)  # the first assessment's
    staff = client_for(people["staff"])
    assert "tier-history" not in staff.get(subject_url).get_data(as_text=True)
    assert staff.post(f"/condition-reports/records/{record.id}/effective-date", {"effective_from": "2026-03-02"},
                      token_from=subject_url).status_code == 403
    first = db.session.execute(select(CompletionRecord).where(CompletionRecord.id != record.id)).scalar_one()
    too_early = supervisor.post(f"/condition-reports/records/{first.id}/effective-date",
                                {"effective_from": "2025-12-01"}, token_from=subject_url)
    assert "不能早于评估当月1日" in supervisor.get(too_early.headers["Location"]).get_data(as_text=True)
