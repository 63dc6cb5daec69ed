"""When a new assignment would repeat an open one (issue 10, point 10).

One subject has at most one open assignment (已派发 or 已逾期) of one service on one contract.
Care visits recur: each month is its own piece of work (the monthly job issues it), so for them
the rule holds per calendar month of the due date — last month's overdue visit does not block
this month's, a second one for the same month is refused.
"""
from __future__ import annotations

from datetime import date

from .vocabulary import ServiceType


def duplicate_period(service_type: str, due_date: date) -> str:
    """The period within which two open assignments are the same work: "YYYY-MM" for care
    visits, "" (the whole contract) for the other services."""
    if service_type == ServiceType.CARE_VISIT:
        return f"{due_date:%Y-%m}"
    return ""


def duplicate_key(contract_id: int, subject_id: int, service_type: str, due_date: date) -> str:
    """What two assignments share when one would repeat the other."""
    return f"{contract_id}:{subject_id}:{service_type}:{duplicate_period(service_type, due_date)}"
