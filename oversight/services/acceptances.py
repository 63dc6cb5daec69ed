"""履约验收 of a contract's year: open it, name the team, conclude it with the figures frozen.

The figures are the year's delivery per service line (assignments due in the year, care visits
counted in visits, against the line's annual target) and, per line and for the contract, the pass rate of the random spot checks
(final verdicts, appeals decided) and the share of answered callbacks satisfied, each a
`domain/statistics.Rate` with its Wilson interval, read by `services/check_results` as the
check-results page reads them, quarter by quarter over the quarters of the year the term covers.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select

from ..clock import utcnow
from ..domain.acceptance import (
    AcceptanceError,
    AcceptanceFigures,
    LineDelivery,
    Member,
    check_conclusion,
    check_member,
    check_team,
    service_checks,
)
from ..domain.sampling import STRATUM_TARGETED
from ..domain.vocabulary import AcceptanceStatus
from ..extensions import db
from ..models import AcceptanceMember, Assignment, Contract, ContractAcceptance, User
from .callbacks import SATISFIED_FROM
from .check_results import call_facts, check_facts
from .evaluations import term_quarters


def acceptance_for(contract_id: int, year: int) -> ContractAcceptance | None:
    return db.session.execute(select(ContractAcceptance).where(ContractAcceptance.contract_id == contract_id,
                                                               ContractAcceptance.year == year)).scalar()


def acceptances_of(contract_id: int) -> list[ContractAcceptance]:
    return list(db.session.execute(select(ContractAcceptance).where(ContractAcceptance.contract_id == contract_id)
                                   .order_by(ContractAcceptance.year)).scalars())


def open_acceptance(contract: Contract, year: int, user: User | None) -> ContractAcceptance:
    """Start the year's acceptance (one per contract and year, within the term)."""
    if not contract.term_start.year <= year <= contract.term_end.year:
        raise AcceptanceError(f"年度：{year}年不在合同服务期内")
    if acceptance_for(contract.id, year) is not None:
        raise AcceptanceError(f"年度：{contract.code} 的 {year} 年度履约验收已存在")
    acceptance = ContractAcceptance(contract_id=contract.id, year=year, status=AcceptanceStatus.DRAFT,
                                    created_by_id=user.id if user else None)
    acceptance.contract = contract
    db.session.add(acceptance)
    db.session.flush()
    return acceptance


def _draft(acceptance: ContractAcceptance, what: str) -> None:
    if acceptance.status != AcceptanceStatus.DRAFT:
        raise AcceptanceError(f"验收结论已出具，不能{what}")


def add_member(acceptance: ContractAcceptance, name: str, role: str, organisation: str | None) -> AcceptanceMember:
    _draft(acceptance, "再调整验收小组")
    member = check_member(Member(name, role, organisation))
    row = AcceptanceMember(name=member.name, role=member.role, organisation=member.organisation)
    acceptance.members.append(row)
    db.session.flush()
    return row


def remove_member(acceptance: ContractAcceptance, member_id: int) -> None:
    _draft(acceptance, "再调整验收小组")
    member = next((m for m in acceptance.members if m.id == member_id), None)
    if member is None:
        raise AcceptanceError("该成员不在验收小组中")
    acceptance.members.remove(member)
    db.session.flush()


def _delivery(contract: Contract, year: int) -> tuple[LineDelivery, ...]:
    """Per line, the services due in the year, issued and completed, in the target's own unit: a
    care-visit assignment is its month's visits (`required_visits`), any other one service."""
    rows = dict()
    for service_type, issued, completed in db.session.execute(
            select(Assignment.service_type, func.sum(Assignment.required_visits),
                   func.coalesce(func.sum(case((Assignment.status == "completed", Assignment.required_visits),
                                               else_=0)), 0))
            .where(Assignment.contract_id == contract.id, Assignment.status != "cancelled",
                   Assignment.due_date >= date(year, 1, 1), Assignment.due_date <= date(year, 12, 31))
            .group_by(Assignment.service_type)):
        rows[service_type] = (int(issued), int(completed))
    return tuple(LineDelivery(line.service_type, line.annual_target, *rows.get(line.service_type, (0, 0)))
                 for line in contract.service_lines)


def compute_figures(contract: Contract, year: int) -> AcceptanceFigures:
    """What the team accepts against, from the records as they stand."""
    checks, calls = [], []
    for quarter in term_quarters(contract, year):
        checks += [fact for fact in check_facts(contract.id, quarter) if fact.stratum != STRATUM_TARGETED]
        calls += [fact for fact in call_facts(contract.id, quarter) if fact.answered]

    def rates(service_type: str | None):
        return service_checks(
            service_type,
            [fact.passed for fact in checks if service_type is None or fact.service_type == service_type],
            [fact.satisfaction >= SATISFIED_FROM for fact in calls
             if service_type is None or fact.service_type == service_type])

    return AcceptanceFigures(year=year, lines=_delivery(contract, year),
                             checks=(*(rates(line.service_type) for line in contract.service_lines), rates(None)))


def figures_of(acceptance: ContractAcceptance) -> AcceptanceFigures:
    """The frozen figures of a concluded acceptance, the live ones of a draft."""
    stored = acceptance.stored_figures
    if acceptance.concluded and stored is not None:
        return stored
    return compute_figures(acceptance.contract, acceptance.year)


def conclude(acceptance: ContractAcceptance, *, conclusion: str, opinion: str, accepted_on: date, user: User,
             today: date) -> None:
    """The team's conclusion; refused without a 服务对象代表 on the team. The figures are frozen."""
    _draft(acceptance, "重复出具")
    check_team([Member(m.name, m.role, m.organisation) for m in acceptance.members])
    conclusion, opinion = check_conclusion(conclusion, opinion)
    if accepted_on > today:
        raise AcceptanceError("验收日期：不能晚于今天")
    acceptance.figures = compute_figures(acceptance.contract, acceptance.year).to_json()
    acceptance.conclusion, acceptance.opinion, acceptance.accepted_on = conclusion, opinion, accepted_on
    acceptance.status = AcceptanceStatus.CONCLUDED
    acceptance.concluded_at, acceptance.concluded_by_id = utcnow(), user.id
    db.session.flush()


def concluded_acceptances(year: int | None = None) -> list[ContractAcceptance]:
    """Concluded acceptances (of one year), by contract: what the 公示 and profiles read."""
    stmt = select(ContractAcceptance).where(ContractAcceptance.status == AcceptanceStatus.CONCLUDED)
    if year is not None:
        stmt = stmt.where(ContractAcceptance.year == year)
    return list(db.session.execute(stmt.order_by(ContractAcceptance.contract_id, ContractAcceptance.year)).scalars())
