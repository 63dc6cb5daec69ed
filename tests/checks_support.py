"""Builders for the spot-check and callback tests: a quarter of completion records in one commit."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from oversight.extensions import db
from oversight.models import Assignment, CompletionRecord, Contract, FieldWorker, Subject

from tests.factories import valid_id_number

Q3_2025 = date(2025, 7, 1)
AFTER_Q3 = date(2025, 10, 15)

_VALUES = {
    "household_survey": dict(household_size=3, annual_income_fen=2_400_000, financial_assets_fen=500_000,
                             survey_conclusion="符合", per_capita_monthly_income_fen=66_667),
    "self_care_assessment": dict(eating=True, dressing=True, transfer=True, toileting=False, walking=True,
                                 bathing=False, conclusion="部分丧失生活自理能力", fails=2),
    "care_visit": dict(care_items="日常看护、生活照料", signed=True),
}


def workers_of(contract: Contract) -> list[FieldWorker]:
    """The contract's contractor's workers, by id."""
    return list(db.session.execute(select(FieldWorker).where(FieldWorker.contractor_id == contract.contractor_id)
                                   .order_by(FieldWorker.id)).scalars())


def add_records(contract: Contract, counts: dict[int, int], service_type: str = "household_survey",
                first_day: date = Q3_2025, flagged: set[int] = frozenset(), visits_per_subject: int = 1,
                **values) -> list[CompletionRecord]:
    """counts maps a worker index (of `workers_of`) to its number of subjects; each subject gets
    `visits_per_subject` records on consecutive days from first_day. flagged holds positions
    (0-based, in creation order) of records to flag. Everything is committed at once."""
    workers = workers_of(contract)
    kind = "household" if service_type == "household_survey" else "person"
    records = []
    serial = db.session.execute(select(db.func.count()).select_from(Subject)).scalar_one()
    for worker_index, subjects in counts.items():
        for _ in range(subjects):
            serial += 1
            subject = Subject(county_id=contract.county_id, kind=kind, name=f"对象{serial}", id_number=valid_id_number(serial, area="360721"),
                              township="梅林镇", village="梅林村", category="低保", phone=f"1381234{serial:04d}")
            assignment = Assignment(number=f"RW-T-{serial:06d}", contract=contract, subject=subject,
                                    service_type=service_type, due_date=first_day + timedelta(days=60),
                                    status="completed")
            db.session.add_all([subject, assignment])
            for visit in range(visits_per_subject):
                position = len(records)
                record = CompletionRecord(
                    assignment=assignment, contract_id=contract.id, service_type=service_type,
                    service_date=first_day + timedelta(days=(position + visit) % 80), start_time="09:00",
                    end_time="09:45", duration_minutes=45, worker_id=workers[worker_index].id,
                    flagged=position in flagged,
                    anomaly_flags=[{"code": "short_visit", "reason": "测试"}] if position in flagged else [],
                    **{**_VALUES[service_type], **values})
                db.session.add(record)
                records.append(record)
    db.session.commit()
    return records
