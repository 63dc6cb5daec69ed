"""The demo's reports of a change of condition (情况变化报告): two persons of the care contract,
one reported last week, one two days ago: both re-assessments still open (due in 10 working days)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from oversight.models import Assignment, Contract, Subject, User
from oversight.services import reassessment
from oversight.extensions import db

REPORTS = ((8, "village_committee", "梅林村委会", "近期摔倒后行动不便，上下床需人搀扶"),
           (2, "field_worker", "服务人员", "因病住院出院后卧床，不能自主如厕和洗澡"))


def add_condition_reports(contract: Contract, supervisor: User, today: date) -> None:
    """Reports on persons the contract assesses, each issuing (or joining) a re-assessment."""
    persons = db.session.execute(
        select(Subject).join(Assignment, Assignment.subject_id == Subject.id)
        .where(Assignment.contract_id == contract.id, Assignment.service_type == reassessment.SELF_CARE,
               Subject.kind == "person")
        .group_by(Subject.id).order_by(Subject.id).limit(len(REPORTS))).scalars().all()
    for subject, (days_ago, kind, name, text) in zip(persons, REPORTS):
        reported_on = today - timedelta(days=days_ago)
        if not reassessment.serving_contracts(subject, reported_on):
            continue
        try:
            reassessment.report_change(subject, contract, reported_on=reported_on, reporter_kind=kind,
                                       reporter_name=name, description=text, user=supervisor, today=today)
        except reassessment.ReportRefused:
            continue
