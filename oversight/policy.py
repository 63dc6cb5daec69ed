"""Who may see what and do what: the one place that decides it.

Pure functions of a user's role and contractor and of a record's state: no Flask, no database.
`web/access.py` applies them to requests (403 for a role that may not act, 404 for a record the
user may not see) and gives templates `may(...)`; services ask them too (who may upload, comment,
export personal data in full).

A *user* is anything with `role` and `contractor_id` (an anonymous visitor has no role and may
do nothing). A *record* given to `may` is the record the action is taken on, read by attribute.

- Contractors see only their own contracts and what hangs off them; everyone else sees all.
- A contractor sees no draft quarterly review (a review is shown once published) and only
  approved annual evaluations; rectification notices of its own contracts only.
- ID numbers and phones are masked everywhere. Only bureau staff may reveal them on a page and
  only an administrator may export them in full; every full view is audited by the caller
  (`web.access.reveal_personal_data`, `services.callbacks.reveal_phone`, the pre-filled log
  template, the full audit bundle).
- Auditors read everything the bureau reads and change nothing.
- A field worker (`field_worker`) is one registered worker of one contractor: it owns no
  contract and sees only the assignments its contractor gave to that worker (`sees_assignment`),
  in the field pages and the API; every other page answers 404 (`web.access`).
"""
from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from .domain.duties import drafter_conflict
from .domain.vocabulary import (
    TENDER_STATUSES_OPEN_TO_BIDS,
    TENDER_STATUSES_OPEN_TO_SETUP,
    AppealStatus,
    AssignmentStatus,
    CallbackStatus,
    ComplaintStatus,
    CorrectionStatus,
    EvaluationStatus,
    NoticeStatus,
    ReviewStatus,
    Role,
    TenderStatus,
)

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})
READERS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR})
DATA_ENTRY = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CONTRACTOR})
CONTRACTOR = frozenset({Role.CONTRACTOR})
FIELD_WORKER = frozenset({Role.FIELD_WORKER})
EVERYONE = frozenset(Role)

# What a contractor may not see of its own reviews, and all it may see of its evaluations.
REVIEW_STATUSES_HIDDEN_FROM_CONTRACTORS = frozenset({ReviewStatus.DRAFT})
# An evaluation is shown once published, as a review is; its payment figures are final only once
# approved (services.evaluations.payment_final).
EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS = frozenset(EvaluationStatus) - {EvaluationStatus.DRAFT}


class Action(StrEnum):
    """A workflow step or a kind of access; `ROLES[action]` says which roles may take it."""

    MANAGE_USERS = "manage_users"
    RUN_JOBS = "run_jobs"
    MANAGE_CONTRACTORS = "manage_contractors"
    MANAGE_CONTRACTS = "manage_contracts"
    MANAGE_SCHEMES = "manage_schemes"
    READ_AUDIT_LOG = "read_audit_log"
    EXPORT_AUDIT_DATA = "export_audit_data"  # the audit bundle and the OCDS package
    EXPORT_FULL_PERSONAL_DATA = "export_full_personal_data"
    REVEAL_PERSONAL_DATA = "reveal_personal_data"
    # The bureau's oversight work: draws, spot checks, callbacks, check results, schemes,
    # comparisons, the subject register, anomaly flags and sampling rules (contractors are not
    # told how their records are chosen for checks).
    READ_OVERSIGHT = "read_oversight"
    MANAGE_SUBJECTS = "manage_subjects"
    IMPORT_REGISTERS = "import_registers"
    IMPORT_VERIFICATION_DATA = "import_verification_data"
    ISSUE_ASSIGNMENTS = "issue_assignments"
    CANCEL_ASSIGNMENTS = "cancel_assignments"
    ENTER_RECORDS = "enter_records"  # one visit on a page, a log upload, the log template
    DRAW_SAMPLES = "draw_samples"  # drawing, and giving drawn items to checkers
    RECORD_SPOT_CHECKS = "record_spot_checks"
    RECHECK_ITEMS_OF_OTHERS = "recheck_items_of_others"
    ISSUE_NOTICES = "issue_notices"
    CLOSE_NOTICES = "close_notices"
    RESPOND_TO_NOTICES = "respond_to_notices"
    MAKE_CALLBACKS = "make_callbacks"
    HANDLE_COMPLAINTS = "handle_complaints"
    SCORE_REVIEWS = "score_reviews"  # score, refresh, manual items, publish a draft
    COMMENT_ON_REVIEWS = "comment_on_reviews"
    SETTLE_REVIEWS = "settle_reviews"
    APPROVE_REVIEWS = "approve_reviews"
    CORRECT_REVIEWS = "correct_reviews"
    SCORE_EVALUATIONS = "score_evaluations"  # compute, refresh, annual items
    RECORD_PAYMENTS = "record_payments"
    APPROVE_EVALUATIONS = "approve_evaluations"
    CORRECT_EVALUATIONS = "correct_evaluations"
    REQUEST_CORRECTIONS = "request_corrections"  # 更正申请 of a stored completion record
    DECIDE_CORRECTIONS = "decide_corrections"
    COMMENT_ON_EVALUATIONS = "comment_on_evaluations"
    SETTLE_EVALUATIONS = "settle_evaluations"
    APPEAL_SPOT_CHECKS = "appeal_spot_checks"  # 申诉 of a failed spot check
    DECIDE_APPEALS = "decide_appeals"  # order a second re-check, decide
    RECHECK_APPEALS = "recheck_appeals"  # enter the ordered second re-check
    HANDLE_ESCALATIONS = "handle_escalations"  # a notice escalated after its last round
    # The user's own inbox and e-mail choices: personal, so auditors use them too.
    READ_NOTIFICATIONS = "read_notifications"
    CHOOSE_NOTIFICATION_EMAILS = "choose_notification_emails"
    # Procurement projects (issue 15): bids are the bureau's, never shown to any contractor.
    READ_PROCUREMENT = "read_procurement"
    MANAGE_PROCUREMENT = "manage_procurement"  # projects, lines, dates, items, committee, documents
    RECORD_BIDS = "record_bids"  # bidders (new contractors from them) and their prices, at bid opening
    ENTER_TENDER_SCORES = "enter_tender_scores"  # the committee's score sheets, the tie decision
    EVALUATE_TENDERS = "evaluate_tenders"  # record the computed ranking
    AWARD_TENDERS = "award_tenders"  # award: creates the contract
    # Payment schedule and 履约验收 (issue 15); paying an installment is RECORD_PAYMENTS.
    MANAGE_INSTALLMENTS = "manage_installments"  # plan, delete, hold and release installments
    RECORD_ACCEPTANCES = "record_acceptances"  # open a year's acceptance, its team, its conclusion
    # The field app and the API (issue 12).
    ASSIGN_WORKERS = "assign_workers"  # give an assignment to one of the contractor's field workers
    RECORD_APP_VISITS = "record_app_visits"  # a visit with check-in/out, place, photos, signature
    USE_FIELD_PAGES = "use_field_pages"  # a field worker's own list of the visits given to it
    MANAGE_API_TOKENS = "manage_api_tokens"  # the user's own device tokens
    REVIEW_MEDIA = "review_media"  # 影像核验: judge the drawn app visits' photos and signatures
    # A contractor's past performance (履约档案) and its exports for a tender's scoring committee:
    # the bureau and auditors read every contractor's, a contractor its own.
    READ_CONTRACTOR_PROFILES = "read_contractor_profiles"
    # Local standards (issue 14): the admin keeps them, the bureau and auditors read them and
    # download the care-allowance sheet for finance.
    READ_STANDARDS = "read_standards"
    MANAGE_STANDARDS = "manage_standards"
    EXPORT_CARE_ALLOWANCES = "export_care_allowances"
    # Re-assessment on a change of condition (issue 14): a report issues a re-assessment; the
    # bureau states from when a changed care tier takes effect.
    REPORT_CONDITION_CHANGES = "report_condition_changes"
    STATE_TIER_DATES = "state_tier_dates"
    # Areas (issue 14): the admin loads a county's townships and villages.
    MANAGE_AREAS = "manage_areas"
    # The city dashboard (issue 14): a city's (or a province's) counties side by side, for the
    # bureau's readers scoped above a county; a county's users get 404 (web.dashboard).
    READ_CITY_DASHBOARD = "read_city_dashboard"


ROLES: dict[Action, frozenset[str]] = {
    Action.MANAGE_USERS: ADMIN,
    Action.RUN_JOBS: ADMIN,
    Action.MANAGE_CONTRACTORS: ADMIN,
    Action.MANAGE_CONTRACTS: ADMIN,
    Action.MANAGE_SCHEMES: ADMIN,
    Action.READ_AUDIT_LOG: frozenset({Role.ADMIN, Role.AUDITOR}),
    Action.EXPORT_AUDIT_DATA: frozenset({Role.ADMIN, Role.AUDITOR}),
    Action.EXPORT_FULL_PERSONAL_DATA: ADMIN,
    Action.REVEAL_PERSONAL_DATA: STAFF,
    Action.READ_OVERSIGHT: READERS,
    Action.MANAGE_SUBJECTS: STAFF,
    Action.IMPORT_REGISTERS: STAFF,
    Action.IMPORT_VERIFICATION_DATA: STAFF,
    Action.ISSUE_ASSIGNMENTS: STAFF,
    Action.CANCEL_ASSIGNMENTS: STAFF,
    Action.ENTER_RECORDS: DATA_ENTRY,
    Action.DRAW_SAMPLES: STAFF,
    Action.RECORD_SPOT_CHECKS: STAFF,
    Action.RECHECK_ITEMS_OF_OTHERS: ADMIN,
    Action.ISSUE_NOTICES: STAFF,
    Action.CLOSE_NOTICES: STAFF,
    Action.RESPOND_TO_NOTICES: CONTRACTOR,
    Action.MAKE_CALLBACKS: STAFF,
    Action.HANDLE_COMPLAINTS: STAFF,
    Action.SCORE_REVIEWS: STAFF,
    Action.COMMENT_ON_REVIEWS: CONTRACTOR,
    Action.SETTLE_REVIEWS: ADMIN,
    Action.APPROVE_REVIEWS: ADMIN,
    Action.CORRECT_REVIEWS: STAFF,
    Action.SCORE_EVALUATIONS: STAFF,
    Action.RECORD_PAYMENTS: ADMIN,
    Action.APPROVE_EVALUATIONS: ADMIN,
    Action.CORRECT_EVALUATIONS: STAFF,
    Action.REQUEST_CORRECTIONS: CONTRACTOR,
    Action.DECIDE_CORRECTIONS: STAFF,
    Action.COMMENT_ON_EVALUATIONS: CONTRACTOR,
    Action.SETTLE_EVALUATIONS: ADMIN,
    Action.APPEAL_SPOT_CHECKS: CONTRACTOR,
    Action.DECIDE_APPEALS: STAFF,
    Action.RECHECK_APPEALS: STAFF,
    Action.HANDLE_ESCALATIONS: ADMIN,
    Action.READ_NOTIFICATIONS: EVERYONE,
    Action.CHOOSE_NOTIFICATION_EMAILS: EVERYONE,
    Action.READ_PROCUREMENT: READERS,
    Action.MANAGE_PROCUREMENT: STAFF,
    Action.RECORD_BIDS: STAFF,
    Action.ENTER_TENDER_SCORES: STAFF,
    Action.EVALUATE_TENDERS: STAFF,
    Action.AWARD_TENDERS: ADMIN,
    Action.MANAGE_INSTALLMENTS: STAFF,
    Action.RECORD_ACCEPTANCES: STAFF,
    Action.ASSIGN_WORKERS: CONTRACTOR,
    Action.RECORD_APP_VISITS: frozenset({Role.CONTRACTOR, Role.FIELD_WORKER}),
    Action.USE_FIELD_PAGES: FIELD_WORKER,
    Action.MANAGE_API_TOKENS: frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CONTRACTOR, Role.FIELD_WORKER}),
    Action.REVIEW_MEDIA: STAFF,
    Action.READ_CONTRACTOR_PROFILES: READERS | CONTRACTOR,
    Action.READ_STANDARDS: READERS,
    Action.MANAGE_STANDARDS: ADMIN,
    Action.EXPORT_CARE_ALLOWANCES: READERS,
    Action.REPORT_CONDITION_CHANGES: DATA_ENTRY,
    Action.STATE_TIER_DATES: STAFF,
    Action.MANAGE_AREAS: ADMIN,
    Action.READ_CITY_DASHBOARD: READERS,
}


def role_of(user: Any) -> str | None:
    """The user's role; None for an anonymous visitor."""
    return getattr(user, "role", None)


def is_contractor(user: Any) -> bool:
    """Whether the user acts for a contractor (and so sees only that contractor's records)."""
    return role_of(user) == Role.CONTRACTOR


def read_only(user: Any) -> bool:
    """Auditors send no request that changes anything."""
    return role_of(user) == Role.AUDITOR


def is_field_worker(user: Any) -> bool:
    """Whether the user is a field-worker account (sees only the assignments given to it)."""
    return role_of(user) == Role.FIELD_WORKER


def owns(user: Any, contractor_id: int | None) -> bool:
    """Whether the user may see a record of `contractor_id`: bureau roles all, a contractor its
    own, a field worker none (it sees assignments given to it, `sees_assignment`)."""
    if is_field_worker(user):
        return False
    if not is_contractor(user):
        return role_of(user) is not None
    return user.contractor_id is not None and user.contractor_id == contractor_id


def sees_county(visible_county_ids, county_id: int | None) -> bool:
    """Whether a row of `county_id` is of the counties a user's area covers (a county's users
    never see another county's rows; a city's see its counties')."""
    return county_id is not None and county_id in visible_county_ids


def roles_for(action: Action | str) -> frozenset[str]:
    """The roles that may take `action`; an unknown action is a bug."""
    return ROLES[Action(action)]


# --- what a user sees -------------------------------------------------------------------------


def sees_draft_reviews(user: Any) -> bool:
    return role_of(user) is not None and not is_contractor(user)


def sees_review(user: Any, contractor_id: int | None, status: str) -> bool:
    """A review of `contractor_id` in `status`: a contractor sees its own once published."""
    if not owns(user, contractor_id):
        return False
    return sees_draft_reviews(user) or status not in REVIEW_STATUSES_HIDDEN_FROM_CONTRACTORS


def sees_unapproved_evaluations(user: Any) -> bool:
    return role_of(user) is not None and not is_contractor(user)


def sees_evaluation(user: Any, contractor_id: int | None, status: str) -> bool:
    """An annual evaluation: a contractor sees its own once published."""
    if not owns(user, contractor_id):
        return False
    return sees_unapproved_evaluations(user) or status in EVALUATION_STATUSES_SHOWN_TO_CONTRACTORS


def sees_notice(user: Any, contractor_id: int | None) -> bool:
    """A rectification notice: a contractor sees those of its own contracts."""
    return owns(user, contractor_id)


def sees_assignment(user: Any, assignment: Any) -> bool:
    """An assignment: the bureau sees all, a contractor its own contracts', a field worker those
    given to it (`worker_id`) on its own contractor's contracts."""
    if is_field_worker(user):
        return (user.field_worker_id is not None and assignment.worker_id == user.field_worker_id
                and user.contractor_id is not None and _contractor_of(assignment) == user.contractor_id)
    return owns(user, _contractor_of(assignment))


# --- what a user may do to a record in its present state ------------------------------------


def _contractor_of(record: Any) -> int | None:
    return record.contract.contractor_id


_OPEN_ASSIGNMENTS = frozenset({AssignmentStatus.ASSIGNED, AssignmentStatus.OVERDUE})

# Given the record an action is taken on, whether its state allows the action now (the role
# is checked first). Services refuse the same steps with their reasons; these decide what a
# page offers.
_STATE_RULES: dict[Action, Callable[[Any, Any], bool]] = {
    Action.CANCEL_ASSIGNMENTS: lambda user, assignment: assignment.status in _OPEN_ASSIGNMENTS,
    Action.ENTER_RECORDS: lambda user, assignment: (assignment.status != AssignmentStatus.CANCELLED
                                                    and owns(user, _contractor_of(assignment))),
    Action.CLOSE_NOTICES: lambda user, notice: notice.status != NoticeStatus.CLOSED,
    Action.RESPOND_TO_NOTICES: lambda user, notice: (notice.status != NoticeStatus.CLOSED
                                                     and owns(user, _contractor_of(notice))),
    Action.MAKE_CALLBACKS: lambda user, callback: callback.status == CallbackStatus.PENDING,
    Action.HANDLE_COMPLAINTS: lambda user, complaint: complaint.status != ComplaintStatus.CLOSED,
    Action.SCORE_REVIEWS: lambda user, review: review.status == ReviewStatus.DRAFT,
    Action.COMMENT_ON_REVIEWS: lambda user, review: (review.status == ReviewStatus.PUBLISHED
                                                     and owns(user, _contractor_of(review))),
    Action.SETTLE_REVIEWS: lambda user, review: review.status == ReviewStatus.DISPUTED and not_drafter(user, review),
    Action.APPROVE_REVIEWS: lambda user, review: not review.locked and not_drafter(user, review),
    Action.CORRECT_REVIEWS: lambda user, review: review.locked,
    Action.SCORE_EVALUATIONS: lambda user, evaluation: evaluation.status == EvaluationStatus.DRAFT,
    Action.COMMENT_ON_EVALUATIONS: lambda user, evaluation: (evaluation.status == EvaluationStatus.PUBLISHED
                                                             and owns(user, _contractor_of(evaluation))),
    Action.SETTLE_EVALUATIONS: lambda user, evaluation: (evaluation.status == EvaluationStatus.DISPUTED
                                                         and not_drafter(user, evaluation)),
    Action.APPROVE_EVALUATIONS: lambda user, evaluation: not evaluation.locked and not_drafter(user, evaluation),
    Action.CORRECT_EVALUATIONS: lambda user, evaluation: evaluation.locked,
    Action.REQUEST_CORRECTIONS: lambda user, record: owns(user, record.assignment.contract.contractor_id),
    Action.DECIDE_CORRECTIONS: lambda user, request: request.status == CorrectionStatus.PENDING,
    Action.APPEAL_SPOT_CHECKS: lambda user, check: not check.passed and owns(user, _contractor_of(check)),
    # The supervisor who recorded a check neither decides its appeal nor re-checks it.
    Action.DECIDE_APPEALS: lambda user, appeal: (appeal.status != AppealStatus.DECIDED
                                                 and user.id != appeal.spot_check.checker_id),
    Action.RECHECK_APPEALS: lambda user, appeal: (
        appeal.status == AppealStatus.RECHECK_ORDERED and user.id != appeal.spot_check.checker_id
        and (role_of(user) == Role.ADMIN or appeal.recheck_assigned_to_id in (None, user.id))),
    Action.HANDLE_ESCALATIONS: lambda user, notice: (notice.escalated_at is not None
                                                     and notice.escalation_handled_at is None),
    # A procurement project: set up until bids are opened, bids taken once announced, scored and
    # evaluated once opened, awarded once evaluated with a recommended winner.
    Action.MANAGE_PROCUREMENT: lambda user, project: project.status in TENDER_STATUSES_OPEN_TO_SETUP,
    Action.RECORD_BIDS: lambda user, project: project.status in TENDER_STATUSES_OPEN_TO_BIDS,
    Action.ENTER_TENDER_SCORES: lambda user, project: project.status == TenderStatus.OPENED,
    Action.EVALUATE_TENDERS: lambda user, project: project.status == TenderStatus.OPENED,
    Action.AWARD_TENDERS: lambda user, project: project.status == TenderStatus.EVALUATED,
    Action.MANAGE_INSTALLMENTS: lambda user, installment: installment.paid_on is None,
    Action.RECORD_ACCEPTANCES: lambda user, acceptance: acceptance.status == "draft",
    Action.ASSIGN_WORKERS: lambda user, assignment: (assignment.status in _OPEN_ASSIGNMENTS
                                                     and owns(user, _contractor_of(assignment))),
    Action.RECORD_APP_VISITS: lambda user, assignment: (assignment.status != AssignmentStatus.CANCELLED
                                                        and sees_assignment(user, assignment)),
}


def not_drafter(user: Any, record: Any) -> bool:
    """Whoever computed a review's or an evaluation's draft does not settle or approve it."""
    return drafter_conflict(record.computed_by_id, user.id) is None


def may(user: Any, action: Action | str, record: Any = None) -> bool:
    """Whether the user's role may take `action`; given the record it is taken on, also whether
    the record's state allows it now (a draft can be published, a disputed review settled …)."""
    if role_of(user) not in roles_for(action):
        return False
    rule = _STATE_RULES.get(Action(action))
    return record is None or rule is None or rule(user, record)


def may_reveal_personal_data(user: Any) -> bool:
    """Whether the user may see a full ID number or phone on a page (the view is audited)."""
    return may(user, Action.REVEAL_PERSONAL_DATA)


def may_export_full_personal_data(user: Any) -> bool:
    """Whether the user may export unmasked ID numbers and phones (the audit bundle)."""
    return may(user, Action.EXPORT_FULL_PERSONAL_DATA)
