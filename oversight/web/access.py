"""Role and ownership checks shared by every blueprint.

Ownership answers 404, not 403, so that a contractor cannot even learn that an id exists.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from ..extensions import db
from ..models import Assignment, Contract

STAFF = ("admin", "supervisor")
READERS = ("admin", "supervisor", "auditor")


def roles_required(*roles: str):
    """Log-in required, and the user's role among `roles` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_contractor_user() -> bool:
    return current_user.is_authenticated and current_user.role == "contractor"


def own_contract_ids() -> Select:
    """The ids of the contracts the current contractor user may see."""
    return select(Contract.id).where(Contract.contractor_id == current_user.contractor_id)


def scope_to_own_contracts(stmt: Select, contract_id_column) -> Select:
    """Restrict a query to the current user's contracts when the user is a contractor."""
    if is_contractor_user():
        return stmt.where(contract_id_column.in_(own_contract_ids()))
    return stmt


def get_contract_or_404(contract_id: int) -> Contract:
    contract = db.session.get(Contract, contract_id)
    if contract is None or (is_contractor_user() and contract.contractor_id != current_user.contractor_id):
        abort(404)
    return contract


def get_assignment_or_404(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    get_contract_or_404(assignment.contract_id)
    return assignment


def require_contractor_visible(contractor_id: int) -> None:
    if is_contractor_user() and contractor_id != current_user.contractor_id:
        abort(404)


def subject_visible(subject_id: int) -> bool:
    """A contractor sees a subject only through an assignment on one of its contracts."""
    if not is_contractor_user():
        return True
    found = db.session.execute(
        select(Assignment.id)
        .where(Assignment.subject_id == subject_id, Assignment.contract_id.in_(own_contract_ids()))
        .limit(1)
    ).first()
    return found is not None
