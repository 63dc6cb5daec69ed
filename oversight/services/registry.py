"""Contractors, workers, contracts, subjects: create and change them, enforcing uniqueness."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import Contract, Contractor, FieldWorker, ServiceLine, Subject
from ..models.county import contractor_county_id


class RegistryError(ValueError):
    """Refused change; the message is Chinese, for the user."""


def _taken(model, *conditions, other_than=None) -> bool:
    """Whether a row of `model` other than `other_than` already meets the conditions."""
    stmt = select(model.id).where(*conditions)
    if other_than is not None:
        stmt = stmt.where(model.id != other_than.id)
    return db.session.execute(stmt.limit(1)).first() is not None


def save_contractor(contractor: Contractor | None, *, name: str, credit_code: str,
                    contact_person: str, contact_phone: str, county_id: int | None = None) -> Contractor:
    """Create (contractor None, in county `county_id`) or update a contractor (its county stays)."""
    if contractor is None and county_id is None:
        raise RegistryError("新登记的承接机构须属于一个县（区）")
    if _taken(Contractor, Contractor.credit_code == credit_code, other_than=contractor):
        raise RegistryError("该统一社会信用代码已登记")
    if _taken(Contractor, Contractor.name == name, other_than=contractor):
        raise RegistryError("同名机构已登记")
    contractor = contractor or Contractor(county_id=county_id)
    contractor.name, contractor.credit_code = name, credit_code
    contractor.contact_person, contractor.contact_phone = contact_person, contact_phone
    db.session.add(contractor)
    db.session.flush()
    return contractor


def save_worker(contractor: Contractor, worker: FieldWorker | None, *, worker_no: str, name: str,
                phone: str | None, active: bool) -> FieldWorker:
    if _taken(FieldWorker, FieldWorker.contractor_id == contractor.id, FieldWorker.worker_no == worker_no,
              other_than=worker):
        raise RegistryError(f"工号 {worker_no} 已存在")
    worker = worker or FieldWorker(contractor_id=contractor.id)
    worker.worker_no, worker.name, worker.phone, worker.active = worker_no, name, phone or None, active
    db.session.add(worker)
    db.session.flush()
    return worker


def save_contract(contract: Contract | None, *, lines: dict[str, tuple[int, int]], **fields) -> Contract:
    """Create or update a contract; `lines` maps service type → (annual target, visits per month).

    A contract is in its contractor's county (the flush fills it); a given `county_id` must be it."""
    if fields["term_end"] < fields["term_start"]:
        raise RegistryError("合同终止日期不能早于起始日期")
    if not lines:
        raise RegistryError("合同至少覆盖一项服务")
    if _taken(Contract, Contract.code == fields["code"], other_than=contract):
        raise RegistryError("合同编号已存在")
    contract = contract or Contract()
    for key, value in fields.items():
        setattr(contract, key, value)
    county_id = contractor_county_id(db.session, contract.contractor_id)
    if contract.county_id not in (None, county_id):
        raise RegistryError("合同与承接机构须属于同一县（区）")
    contract.county_id = county_id
    sync_lines(contract.service_lines, lines, ServiceLine)
    db.session.add(contract)
    db.session.flush()
    return contract


def sync_lines(current: list, lines: Mapping[str, tuple[int, int]], make: Callable[..., Any]) -> None:
    """Make a contract's or a tender's service lines `current` those of `lines` (service type →
    annual target, visits per month): lines kept are updated in place, others removed, new ones
    made by `make(service_type=…)`."""
    existing = {line.service_type: line for line in current}
    for service_type, line in existing.items():
        if service_type not in lines:
            current.remove(line)
    for service_type, (target, visits) in lines.items():
        line = existing.get(service_type) or make(service_type=service_type)
        line.annual_target, line.visits_per_month = target, visits
        if service_type not in existing:
            current.append(line)


def save_subject(subject: Subject | None, **fields) -> Subject:
    """Create (with `county_id` among the fields) or update a subject."""
    if subject is None and fields.get("county_id") is None:
        raise RegistryError("新登记的服务对象须属于一个县（区）")
    if _taken(Subject, Subject.kind == fields["kind"], Subject.id_number == fields["id_number"], other_than=subject):
        raise RegistryError("该身份证号的服务对象已登记")
    subject = subject or Subject()
    for key, value in fields.items():
        setattr(subject, key, value)
    db.session.add(subject)
    db.session.flush()
    return subject


def worker_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(FieldWorker.contractor_id, func.count()).group_by(FieldWorker.contractor_id)
    )
    return dict(rows.all())


def townships(county_ids=None) -> list[str]:
    """Every township a registered subject lives in (of `county_ids`, None: all), for the lists' filters."""
    stmt = select(Subject.township).distinct().order_by(Subject.township)
    if county_ids is not None:
        stmt = stmt.where(Subject.county_id.in_(county_ids))
    return db.session.execute(stmt).scalars().all()
