"""Builders for test records with valid identifiers and sensible defaults."""
from __future__ import annotations

import itertools
from datetime import date

from stdnum.cn import ric, uscc

from oversight.extensions import db
from oversight.models import Area, Assignment, Contract, Contractor, FieldWorker, Subject
from oversight.services.accounts import create_user
from oversight.services.areas import ensure_area, home_county
from oversight.services.registry import save_contract

_counter = itertools.count(1)


def valid_id_number(serial: int, birth: str = "19500101", area: str = "360704") -> str:
    body = f"{area}{birth}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def valid_credit_code(serial: int) -> str:
    body = f"5236070405{serial:07d}"
    return body + uscc.calc_check_digit(body + "0")


class Factory:
    PASSWORD = "correct-horse-1"

    def county(self, code: str | None = None, name: str | None = None) -> Area:
        """A county (with its city and province): the install's (360704 赣县区) unless `code` is given."""
        area = ensure_area(code, name) if code else home_county()
        db.session.commit()
        return area

    def user(self, role: str = "supervisor", contractor: Contractor | None = None, username: str | None = None,
             area: Area | None = None):
        n = next(_counter)
        user = create_user(username or f"{role}{n}", self.PASSWORD, role, f"用户{n}",
                           contractor.id if contractor else None, area_id=area.id if area else None)
        db.session.commit()
        return user

    def contractor(self, name: str | None = None, workers: int = 2, county: Area | None = None) -> Contractor:
        n = next(_counter)
        contractor = Contractor(name=name or f"测试社工服务中心{n}", credit_code=valid_credit_code(n),
                                contact_person="张敏", contact_phone="13907970001",
                                county_id=(county or self.county()).id)
        db.session.add(contractor)
        db.session.flush()
        for i in range(1, workers + 1):
            db.session.add(FieldWorker(contractor_id=contractor.id, worker_no=f"W{n:03d}{i:02d}", name=f"社工{n}-{i}"))
        db.session.commit()
        return contractor

    def contract(self, contractor: Contractor | None = None, service_types=("household_survey",),
                 term_start: date = date(2025, 1, 1), term_end: date = date(2026, 12, 31), code: str | None = None):
        contractor = contractor or self.contractor()
        n = next(_counter)
        contract = save_contract(
            None, lines={st: (100, 2 if st == "care_visit" else 1) for st in service_types},
            code=code or f"GX-2025-{n:03d}", title=f"测试合同{n}", contractor_id=contractor.id,
            procurement_method="公开招标", amount_fen=120_000_000, term_start=term_start, term_end=term_end,
            performance_share_bp=3000, sampling_rule={"kind": "share", "share": "0.05", "floor": 5},
        )
        db.session.commit()
        return contract

    def subject(self, kind: str = "household", name: str | None = None, township: str = "梅林镇",
                county: Area | None = None) -> Subject:
        n = next(_counter)
        subject = Subject(county_id=(county or self.county()).id,
                          kind=kind, name=name or f"对象{n}", id_number=valid_id_number(n), township=township,
                          village="梅林村", category="低保" if kind == "household" else "特困",
                          phone="13812340000", household_size=3 if kind == "household" else None)
        db.session.add(subject)
        db.session.commit()
        return subject

    def assignment(self, contract: Contract, subject: Subject | None = None, service_type: str | None = None,
                   due_date: date = date(2025, 6, 30), status: str = "assigned") -> Assignment:
        service_type = service_type or contract.service_types[0]
        subject = subject or self.subject("household" if service_type == "household_survey" else "person",
                                          county=db.session.get(Area, contract.county_id))
        n = next(_counter)
        assignment = Assignment(number=f"RW20250101-{n:06d}", contract_id=contract.id, subject_id=subject.id,
                                service_type=service_type, due_date=due_date, status=status,
                                required_visits=2 if service_type == "care_visit" else 1)
        db.session.add(assignment)
        db.session.commit()
        return assignment

    def record(self, assignment: Assignment, worker: FieldWorker | None = None, service_date: date = date(2025, 5, 10),
               start_time: str = "09:00", end_time: str = "09:45", **fields):
        """A completion record with plausible values for the assignment's service type."""
        from oversight.models import CompletionRecord

        if worker is None:
            contract = db.session.get(Contract, assignment.contract_id)
            worker = db.session.execute(
                db.select(FieldWorker).where(FieldWorker.contractor_id == contract.contractor_id)
                .order_by(FieldWorker.id)).scalars().first()
        defaults = {
            "household_survey": dict(household_size=3, annual_income_fen=2_400_000, financial_assets_fen=500_000,
                                     survey_conclusion="符合", per_capita_monthly_income_fen=66_667),
            "self_care_assessment": dict(eating=True, dressing=True, transfer=True, toileting=False, walking=True,
                                         bathing=False, conclusion="部分丧失生活自理能力", fails=2),
            "care_visit": dict(care_items="日常看护、生活照料", signed=True),
        }[assignment.service_type]
        h1, m1 = map(int, start_time.split(":"))
        h2, m2 = map(int, end_time.split(":"))
        record = CompletionRecord(
            assignment_id=assignment.id, contract_id=assignment.contract_id, service_type=assignment.service_type,
            service_date=service_date, start_time=start_time, end_time=end_time,
            duration_minutes=(h2 * 60 + m2) - (h1 * 60 + m1), worker_id=worker.id, **{**defaults, **fields},
        )
        db.session.add(record)
        db.session.commit()
        return record
