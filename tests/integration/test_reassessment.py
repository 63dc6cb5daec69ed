"""Re-assessment on a change of condition, on stored records: the report issues a re-assessment due
on the 10th working day by the county's calendar (across the Spring Festival), the contractor is
told, a changed tier takes effect from its stated date, and the KPI 按时复评率 counts the records."""
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from oversight.domain import self_care
from oversight.domain.periods import Quarter
from oversight.domain.reassessment import EffectiveDateRefused
from oversight.domain.scoring import DEFAULT_SCHEME, OPTIONAL_INDICATORS, Band, Indicator
from oversight.extensions import db
from oversight.models import Assignment, CompletionRecord, LocalStandard, Notification
from oversight.services import reassessment as service
from oversight.services.areas import home_county
from oversight.services.freshness import review_staleness
from oversight.services.kpi_evidence import gather_evidence
from oversight.services.reviews import score_contract_quarter
from oversight.services.schemes import create_version, use_scheme

NONE, FULL = self_care.CONCLUSION_NONE, self_care.CONCLUSION_FULL
REPORTED = date(2026, 2, 12)  # a Thursday; 15–23 Feb the Spring Festival holiday
NO_ITEMS = dict(eating=False, dressing=False, transfer=False, toileting=False, walking=False, bathing=True)


@pytest.fixture
def person(factory):
    db.session.add(LocalStandard(county_id=home_county().id, year=2026, county="测试县", poverty_line_fen=82_000, care_allowance_tier1_fen=150_000,
                                 care_allowance_tier2_fen=100_000, care_allowance_tier3_fen=50_000,
                                 holidays=[f"2026-02-{day}" for day in range(15, 24)]))
    db.session.commit()
    contractor = factory.contractor()
    contract = factory.contract(contractor, service_types=("self_care_assessment", "care_visit"),
                                term_start=date(2025, 1, 1), term_end=date(2026, 12, 31))
    subject = factory.subject("person")
    first = factory.assignment(contract, subject, "self_care_assessment", due_date=date(2025, 5, 31), status="completed")
    factory.record(first, service_date=date(2025, 5, 10), eating=True, dressing=True, transfer=True, toileting=True,
                   walking=True, bathing=True, conclusion=FULL, fails=0)
    return {"contract": contract, "subject": subject, "staff": factory.user("contractor", contractor),
            "other": factory.user("contractor", factory.contractor()), "supervisor": factory.user("supervisor"),
            "admin": factory.user("admin")}


def _report(person, reported_on=REPORTED, **kw):
    report = service.report_change(person["subject"], person["contract"], reported_on=reported_on,
                                   reporter_kind=kw.get("reporter_kind", "village_committee"), reporter_name="梅林村委会",
                                   description=kw.get("description", "卧床不起，不能自主如厕"),
                                   user=person["supervisor"], today=kw.get("today", date(2026, 2, 12)))
    db.session.commit()
    return report


def test_a_report_before_the_spring_festival_issues_a_re_assessment_due_on_the_tenth_working_day(person):
    report = _report(person)
    assignment = report.assignment
    assert assignment.due_date == date(2026, 3, 6)  # 13 Feb, then 24 Feb … 6 Mar
    assert (assignment.service_type, assignment.reason, assignment.status, assignment.contract_id) == (
        "self_care_assessment", "reassessment", "assigned", person["contract"].id)
    assert report.county_id == assignment.county_id == person["contract"].county_id
    assert assignment.reason_label == "情况变化复评"
    told = db.session.execute(select(Notification.user_id, Notification.kind, Notification.link)).all()
    assert told == [(person["staff"].id, "reassessment_assigned", f"/assignments/{assignment.id}")]


def test_a_second_report_joins_the_open_re_assessment_and_tells_no_one_again(person):
    first = _report(person)
    second = _report(person, reported_on=date(2026, 2, 25), reporter_kind="family", description="又摔倒一次",
                     today=date(2026, 2, 25))
    assert second.assignment_id == first.assignment_id
    assert db.session.execute(select(Assignment).where(Assignment.reason == "reassessment")).scalars().all() == [
        first.assignment]
    assert len(db.session.execute(select(Notification)).all()) == 1
    assert [r.id for r in service.reports_of_assignment(first.assignment_id)] == [second.id, first.id]


def test_a_report_is_refused_for_a_contract_not_serving_the_person_or_a_future_day(person, factory):
    stranger = factory.contract(service_types=("self_care_assessment",))
    with pytest.raises(service.ReportRefused, match="不为该服务对象提供自理能力评估服务"):
        service.report_change(person["subject"], stranger, reported_on=REPORTED, reporter_kind="bureau",
                              reporter_name=None, description="变化", user=None, today=REPORTED)
    with pytest.raises(service.ReportRefused, match="不能晚于今天"):
        service.report_change(person["subject"], person["contract"], reported_on=date(2026, 2, 13),
                              reporter_kind="bureau", reporter_name=None, description="变化", user=None, today=REPORTED)
    household = factory.subject("household")
    with pytest.raises(service.ReportRefused, match="只针对个人"):
        service.report_change(household, person["contract"], reported_on=REPORTED, reporter_kind="bureau",
                              reporter_name=None, description="变化", user=None, today=REPORTED)


def _complete(factory, assignment, day, at, **items):
    factory.record(assignment, service_date=day, **{**NO_ITEMS, "conclusion": NONE, "fails": 5, **items})
    assignment.status, assignment.completed_at = "completed", at
    db.session.commit()


def test_a_changed_tier_takes_effect_from_the_next_month_or_the_stated_date(person, factory):
    subject_id = person["subject"].id
    assert service.tier_in_force(subject_id, date(2025, 5, 31)) is None
    assert service.tier_in_force(subject_id, date(2025, 6, 1)).tier == "三档 全自理"
    assignment = _report(person).assignment
    _complete(factory, assignment, date(2026, 3, 5), datetime(2026, 3, 5, 2))
    history = service.tier_history(subject_id)
    assert [(c.previous, c.tier, c.effective_from, c.stated) for c in history] == [
        (None, "三档 全自理", date(2025, 6, 1), False), ("三档 全自理", "一档 全护理", date(2026, 4, 1), False)]
    assert service.tier_in_force(subject_id, date(2026, 3, 31)).number == 3
    assert service.tier_in_force(subject_id, date(2026, 4, 1)).number == 1
    stored = db.session.get(CompletionRecord, history[-1].record_id)
    with pytest.raises(EffectiveDateRefused, match="不能早于评估当月1日"):
        service.state_effective_date(stored, date(2026, 2, 12), "报告日起", person["supervisor"])
    service.state_effective_date(stored, date(2026, 3, 1), "自复评当月起", person["supervisor"])
    db.session.commit()
    in_force = service.tier_in_force(subject_id, date(2026, 3, 1))
    assert (in_force.tier, in_force.effective_from, in_force.record_id) == ("一档 全护理", date(2026, 3, 1), stored.id)
    assert service.tier_history(subject_id)[-1].stated
    first = db.session.execute(select(Assignment).where(Assignment.reason.is_(None))).scalar_one()
    same = factory.record(first, service_date=date(2025, 11, 2), start_time="10:00", end_time="10:40", eating=True,
                          dressing=True, transfer=True, toileting=True, walking=True, bathing=True, conclusion=FULL,
                          fails=0)
    with pytest.raises(EffectiveDateRefused, match="未改变护理档次"):
        service.state_effective_date(same, date(2025, 12, 1), None, person["supervisor"])


def _weighting_scheme(admin):
    reassessed = OPTIONAL_INDICATORS[0]
    indicators = [Indicator(i.key, i.name, i.weight - (5 if i.key == "completion" else 0), i.full_at, i.zero_at,
                            i.full_when_empty) for i in DEFAULT_SCHEME.indicators] + [reassessed]
    return create_version("reassess", "含按时复评率的方案", indicators, [Band("合格", D(60)), Band("不合格", D(0))],
                          {"合格": D(1), "不合格": D(0)}, admin)


def test_the_kpi_counts_re_assessments_due_in_the_quarter_done_by_their_due_date(person, factory):
    on_time = _report(person).assignment  # due 6 Mar
    _complete(factory, on_time, date(2026, 3, 6), datetime(2026, 3, 6, 15, 59))  # 23:59 county time on the due day
    late = _report(person, reported_on=date(2026, 3, 20), today=date(2026, 3, 20)).assignment  # due 3 Apr: Q2
    _complete(factory, late, date(2026, 4, 7), datetime(2026, 4, 7, 2), start_time="14:00", end_time="14:40")
    third = _report(person, reported_on=date(2026, 4, 10), today=date(2026, 4, 10)).assignment  # open, due in Q2
    evidence = gather_evidence(person["contract"].id, Quarter(2026, 1))
    item = evidence.evidence["reassessment_on_time"]
    assert (item.numerator, item.denominator, item.record_ids) == (1, 1, (on_time.id,))
    q2 = gather_evidence(person["contract"].id, Quarter(2026, 2)).evidence["reassessment_on_time"]
    assert (q2.numerator, q2.denominator, q2.record_ids) == (0, 2, (late.id, third.id))
    # Completion counts every assignment due, re-assessments among them.
    assert on_time.id in gather_evidence(person["contract"].id, Quarter(2026, 1)).evidence["completion"].record_ids


def test_a_scheme_without_the_kpi_scores_and_fingerprints_as_before_and_one_with_it_goes_stale(person, factory):
    contract = person["contract"]
    assignment = _report(person).assignment
    _complete(factory, assignment, date(2026, 3, 6), datetime(2026, 3, 6, 2))
    plain = score_contract_quarter(contract, Quarter(2026, 1), today=date(2026, 4, 10)).review
    assert plain.figures.keys == DEFAULT_SCHEME.keys
    assert set(plain.evidence_fingerprint["sources"]) == set(DEFAULT_SCHEME.keys)
    use_scheme(contract, _weighting_scheme(person["admin"]).code)
    weighted = score_contract_quarter(contract, Quarter(2026, 2), today=date(2026, 7, 10)).review
    assert weighted is None  # nothing due in Q2: no score at all
    db.session.delete(plain)
    db.session.commit()
    review = score_contract_quarter(contract, Quarter(2026, 1), today=date(2026, 4, 10)).review
    db.session.commit()
    item = review.figures.indicator("reassessment_on_time")
    # No checks in the quarter: the weight 5 is re-spread over completion 20, timeliness 10, rectification 5.
    assert (item.numerator, item.denominator, item.effective_weight, str(item.score)) == (1, 1, D("12.50"), "12.50")
    assert not review_staleness(review).stale
    assignment.completed_at = datetime(2026, 3, 6, 16, 0)  # 7 Mar in the county: late
    db.session.commit()
    found = review_staleness(review)
    assert found.stale and any("按时复评率" in text for text in found.descriptions)
