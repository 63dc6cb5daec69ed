"""The visibility policy (`oversight.policy`) applied to requests, shared by every blueprint.

A role that may not take an action answers 403; a record the user may not see answers 404, not
403, so that a contractor cannot even learn that an id exists. Templates ask `may(action,
record)` instead of testing role names.
"""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, g, has_request_context, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from .. import policy
from ..extensions import db
from ..models import AnnualEvaluation, Area, Assignment, Contract, QuarterlyReview, RectificationNotice
from ..policy import Action
from ..services.areas import county_ids_under, every_county_id, scope_area_ids_under
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


# --- the county scope (issue 14): a user sees their area's counties, nothing of another -------


def visible_county_ids() -> list[int]:
    """The counties the current user's area covers (its own, or those below a city or province);
    none for an anonymous visitor. Read once per request."""
    if not current_user.is_authenticated:
        return []
    if "county_ids" not in g:
        g.county_ids = county_ids_under(current_user.area_id)
        g.chosen_county_id = chosen_county_id(g.county_ids)
        if g.chosen_county_id is not None:
            g.county_ids = [g.chosen_county_id]
    return g.county_ids


def chosen_county_id(county_ids: list[int] | None = None) -> int | None:
    """The county a user above several counties narrowed this request to (`?county=<id>`, the
    city dashboard's links to a county's own view), when it is one of theirs; else None."""
    ids = county_ids if county_ids is not None else county_ids_under(current_user.area_id)
    chosen = request.args.get("county", type=int)
    return chosen if chosen is not None and len(ids) > 1 and chosen in ids else None


# The way back to every county (and files that are no county's) do not keep a chosen county.
_EVERY_COUNTY_ENDPOINTS = frozenset({"static", "dashboard.city", "dashboard.city_chart", "auth.logout"})


def carry_chosen_county(endpoint: str, values: dict) -> None:
    """Links made on a page narrowed to one county keep `?county=`, so that a city user who chose
    a county on the city dashboard stays in it from page to page (a `url_defaults` hook; a page
    makes hundreds of links, so the county is looked up once per request)."""
    if not has_request_context():
        return
    carried = g.get("carried_county_id", False)
    if carried is False:
        carried = g.carried_county_id = _chosen_for_links()
    # The public notice's addresses carry only years and county codes, never a row id.
    if (carried is not None and "county" not in values and endpoint not in _EVERY_COUNTY_ENDPOINTS
            and not endpoint.startswith("public.")):
        values["county"] = carried


def _chosen_for_links() -> int | None:
    if not current_user.is_authenticated:
        return None
    visible_county_ids()
    return g.chosen_county_id


def chosen_county_name() -> str | None:
    """The name of the county this request is narrowed to, for the page's banner."""
    if not current_user.is_authenticated:
        return None
    visible_county_ids()
    return db.session.get(Area, g.chosen_county_id).name if g.chosen_county_id is not None else None


def every_county_url() -> str:
    """This page again with every county of the user's area (the chosen county dropped)."""
    args = {key: value for key, value in request.args.items() if key != "county"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, county=None)


def county_clause(county_id_column):
    """The condition keeping a query to the user's counties."""
    return county_id_column.in_(visible_county_ids())


def scope_to_counties(stmt: Select, county_id_column) -> Select:
    return stmt.where(county_clause(county_id_column))


def require_county_visible(county_id: int | None) -> None:
    """404 for a row of a county the user's area does not cover."""
    if not policy.sees_county(visible_county_ids(), county_id):
        abort(404)


# A row without a county of its own reaches it through the first of these it has.
_COUNTY_PARENTS = (("contract_id", "Contract"), ("contractor_id", "Contractor"), ("draw_id", "SamplingDraw"),
                   ("project_id", "ProcurementProject"), ("spot_check_id", "SpotCheck"),
                   ("review_id", "QuarterlyReview"), ("record_id", "CompletionRecord"),
                   ("assignment_id", "Assignment"), ("acceptance_id", "ContractAcceptance"))


def county_of(record) -> int | None:
    """The county a row belongs to: its own `county_id`, or its parent's (a spot check's
    contract's, a draw item's draw's, a worker's contractor's …); None for a row of no county."""
    county_id = getattr(record, "county_id", None)
    if county_id is not None:
        return county_id
    from .. import models

    for column, model_name in _COUNTY_PARENTS:
        parent_id = getattr(record, column, None)
        if parent_id is not None:
            parent = db.session.get(getattr(models, model_name), parent_id)
            return county_of(parent) if parent is not None else None
    return None


def get_scoped_or_404(model, record_id: int | None):
    """A row by id, 404 when missing or of a county the user's area does not cover (a county's
    users never learn that another county's ids exist)."""
    record = db.session.get(model, record_id) if record_id is not None else None
    if record is None:
        abort(404)
    require_county_visible(county_of(record))
    return record


def managed_area_ids() -> list[int]:
    """The user's area and every province, city and county below it (whose accounts an admin
    manages, whose uploads a user sees)."""
    if "managed_area_ids" not in g:
        g.managed_area_ids = scope_area_ids_under(current_user.area_id)
    return g.managed_area_ids


def county_choices() -> list[tuple[int, str]]:
    """(id, name) of the counties the user may make rows in, for a select."""
    ids = visible_county_ids()
    if not ids:
        return []
    rows = db.session.execute(select(Area.id, Area.name).where(Area.id.in_(ids)).order_by(Area.code)).all()
    return [(row.id, row.name) for row in rows]


def chooses_county() -> bool:
    """Whether making a county's row asks which county (a city or province user)."""
    return len(visible_county_ids()) > 1


def county_for_new_row() -> int:
    """The county a row the user makes belongs to: theirs, or for a user above several counties
    the one chosen in the form (`county_id`, one of theirs: else 404; missing: 400)."""
    ids = visible_county_ids()
    if len(ids) == 1:
        return ids[0]
    chosen = request.form.get("county_id", type=int)
    if chosen is None:
        abort(400, description="请选择所属县（区）")
    require_county_visible(chosen)
    return chosen


def own_contract_ids() -> Select:
    """The ids of the contracts the current user may see: of the user's counties and, for a
    contractor, its own."""
    stmt = select(Contract.id).where(county_clause(Contract.county_id))
    if is_contractor_user():
        stmt = stmt.where(Contract.contractor_id == current_user.contractor_id)
    return stmt


def contract_scope() -> Select | None:
    """What the services' `scope` arguments take: the ids of the contracts the user may see
    (their counties', a contractor's own), or None for all when the user's area covers every
    county there is."""
    if is_contractor_user() or not covers_every_county():
        return own_contract_ids()
    return None


def covers_every_county() -> bool:
    if "covers_every_county" not in g:
        g.covers_every_county = len(visible_county_ids()) == len(every_county_id())
    return g.covers_every_county


def scope_to_own_contracts(stmt: Select, contract_id_column) -> Select:
    """Restrict a query to the contracts the user may see (their counties', a contractor's own)."""
    scope = contract_scope()
    if scope is not None:
        return stmt.where(contract_id_column.in_(scope))
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
    require_county_visible(contract.county_id)
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
    notice = get_scoped_or_404(RectificationNotice, notice_id)
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
    from ..models import Contractor

    contractor = db.session.get(Contractor, contractor_id)
    require_county_visible(contractor.county_id if contractor else None)


def subject_visible(subject_id: int) -> bool:
    """A subject of the user's counties; a contractor sees one only through an assignment on one
    of its contracts."""
    from ..models import Subject

    subject = db.session.get(Subject, subject_id)
    if subject is None or not policy.sees_county(visible_county_ids(), subject.county_id):
        return False
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
        chooses_county=chooses_county,
        county_choices=county_choices,
        chosen_county_name=chosen_county_name,
        every_county_url=every_county_url,
    )
    app.url_defaults(carry_chosen_county)
