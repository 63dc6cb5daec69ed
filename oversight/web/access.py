"""The visibility policy (`oversight.policy`) applied to requests, shared by every blueprint.

A role that may not take an action answers 403; a record the user may not see answers 404, not
403, so that a contractor cannot even learn that an id exists. Templates ask `may(action,
record)` instead of testing role names.
"""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from .. import policy
from ..extensions import db
from ..models import AnnualEvaluation, Assignment, Contract, QuarterlyReview, RectificationNotice
from ..policy import Action
from ..services.audit import record_event


def permission_required(action: Action):
    """Log-in required, and the user's role allowed to take `action` (else 403)."""
    policy.roles_for(action)  # an unknown action fails when the route is defined

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not policy.may(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def may(action: Action | str, record=None) -> bool:
    """`policy.may` for the signed-in user (a Jinja global)."""
    return policy.may(current_user, action, record)


def is_contractor_user() -> bool:
    return current_user.is_authenticated and policy.is_contractor(current_user)


def own_contract_ids() -> Select:
    """The ids of the contracts the current contractor user may see."""
    return select(Contract.id).where(Contract.contractor_id == current_user.contractor_id)


def contract_scope() -> Select | None:
    """What the services' `scope` arguments take: the user's own contract ids, or None for all."""
    return own_contract_ids() if is_contractor_user() else None


def scope_to_own_contracts(stmt: Select, contract_id_column) -> Select:
    """Restrict a query to the current user's contracts when the user is a contractor."""
    if is_contractor_user():
        return stmt.where(contract_id_column.in_(own_contract_ids()))
    return stmt


def sees_draft_reviews() -> bool:
    return policy.sees_draft_reviews(current_user)


def sees_unapproved_evaluations() -> bool:
    return policy.sees_unapproved_evaluations(current_user)


def sees_anomaly_flags() -> bool:
    """Contractors do not see the flags: a flag raises the record's chance of a spot check."""
    return policy.may(current_user, Action.READ_OVERSIGHT)


def get_contract_or_404(contract_id: int) -> Contract:
    contract = db.session.get(Contract, contract_id)
    if contract is None or not policy.owns(current_user, contract.contractor_id):
        abort(404)
    return contract


def get_assignment_or_404(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    get_contract_or_404(assignment.contract_id)
    return assignment


def _result_or_404(model, record_id: int, sees):
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    contract = get_contract_or_404(record.contract_id)
    if not sees(current_user, contract.contractor_id, record.status):
        abort(404)
    return record


def get_review_or_404(review_id: int) -> QuarterlyReview:
    """The review, if the user may see it: a contractor sees its own contracts' published reviews."""
    return _result_or_404(QuarterlyReview, review_id, policy.sees_review)


def get_evaluation_or_404(evaluation_id: int) -> AnnualEvaluation:
    """The evaluation, if the user may see it: a contractor sees its own approved ones."""
    return _result_or_404(AnnualEvaluation, evaluation_id, policy.sees_evaluation)


def get_notice_or_404(notice_id: int) -> RectificationNotice:
    """A notice the current user may see: a contractor only its own contracts' (else 404)."""
    notice = db.get_or_404(RectificationNotice, notice_id)
    if not policy.sees_notice(current_user, notice.contract.contractor_id):
        abort(404)
    return notice


def visible_reviews(reviews) -> list:
    """Those of `reviews` (e.g. a revision history) the user may see."""
    return [r for r in reviews if policy.sees_review(current_user, r.contract.contractor_id, r.status)]


def visible_evaluations(evaluations) -> list:
    """Those of `evaluations` the user may see."""
    return [e for e in evaluations if policy.sees_evaluation(current_user, e.contract.contractor_id, e.status)]


def require_contractor_visible(contractor_id: int) -> None:
    if not policy.owns(current_user, contractor_id):
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


def reveal_personal_data(object_name: str, object_id: int, fields: list[str], **context) -> None:
    """Allow a page to show full ID numbers or phones of one record: 403 unless the policy lets
    the user, and the view is written to the audit log (committed by the caller)."""
    if not policy.may_reveal_personal_data(current_user):
        abort(403)
    record_event("view_personal_data", object_name, object_id, {"fields": fields, **context})


def install_policy(app: Flask) -> None:
    """Templates ask the policy, never a role name: `may('settle_reviews', review)`."""
    app.jinja_env.globals.update(
        may=may,
        sees_anomaly_flags=sees_anomaly_flags,
        acts_for_contractor=is_contractor_user,
        reads_only=lambda: policy.read_only(current_user),
    )
