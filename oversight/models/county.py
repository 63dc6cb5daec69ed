"""Rows that belong to a county (issue 14): the column, and the one rule that fills it for a
contract's rows.

Contractors, contracts, subjects and local standards are given their county by whoever makes
them; a contract's rows (assignments, records, draws, reviews, evaluations) take their contract's
county, and a contract made without one takes its contractor's. Other child tables (draw items,
spot checks, callbacks, notices, upload batches, …) reach their county through their contract and
carry no column of their own.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column


class CountyScoped:
    """A row of one county (an `areas` row of level county)."""

    county_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)


class ContractCounty(CountyScoped):
    """A row of a contract: its county is the contract's (filled on flush when not given)."""


def _county_of(session_or_connection, model, row_id: int) -> int:
    county_id = session_or_connection.execute(
        select(model.county_id).where(model.id == row_id)).scalar_one_or_none()
    if county_id is None:
        raise LookupError(f"{model.__tablename__} {row_id} has no county")
    return county_id


def contract_county_id(session_or_connection, contract_id: int) -> int:
    """The county of a contract: what every row made for it carries (the bulk paths call it too)."""
    from .contract import Contract

    return _county_of(session_or_connection, Contract, contract_id)


def contractor_county_id(session_or_connection, contractor_id: int) -> int:
    from .contractor import Contractor

    return _county_of(session_or_connection, Contractor, contractor_id)


def _loaded(obj, relation: str):
    """A related object set on `obj` (possibly not flushed yet), without loading anything."""
    return obj.__dict__.get(relation)


def fill_counties(session: Session, objects) -> None:
    """Give new contracts their contractor's county and new contract rows their contract's."""
    from .contract import Contract

    with session.no_autoflush:
        for obj in objects:
            if isinstance(obj, Contract) and obj.county_id is None:
                contractor = _loaded(obj, "contractor")
                if contractor is not None and contractor.county_id is not None:
                    obj.county_id = contractor.county_id
                elif obj.contractor_id is not None:
                    obj.county_id = contractor_county_id(session, obj.contractor_id)
        for obj in objects:
            if isinstance(obj, ContractCounty) and obj.county_id is None:
                contract = _loaded(obj, "contract")
                if contract is not None and contract.county_id is not None:
                    obj.county_id = contract.county_id
                elif obj.contract_id is not None:
                    obj.county_id = contract_county_id(session, obj.contract_id)


@event.listens_for(Session, "before_flush")
def _fill_new_rows(session: Session, _flush_context, _instances) -> None:
    fill_counties(session, list(session.new))
