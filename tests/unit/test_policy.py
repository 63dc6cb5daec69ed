"""The visibility policy as tables: who sees which record in which state, who may take which step."""
from types import SimpleNamespace

import pytest

from oversight import policy
from oversight.domain.vocabulary import EvaluationStatus, ReviewStatus, Role
from oversight.policy import Action, may

OURS, THEIRS = 1, 2

ADMIN = SimpleNamespace(id=1, role="admin", contractor_id=None)
SUPERVISOR = SimpleNamespace(id=2, role="supervisor", contractor_id=None)
AUDITOR = SimpleNamespace(id=3, role="auditor", contractor_id=None)
CONTRACTOR = SimpleNamespace(id=4, role="contractor", contractor_id=OURS)
SECOND_SUPERVISOR = SimpleNamespace(id=5, role="supervisor", contractor_id=None)
ANONYMOUS = SimpleNamespace()  # Flask-Login's anonymous user has no role
USERS = {"admin": ADMIN, "supervisor": SUPERVISOR, "auditor": AUDITOR, "contractor": CONTRACTOR,
         "anonymous": ANONYMOUS, "second supervisor": SECOND_SUPERVISOR}


def _record(status=None, locked=False, contractor_id=OURS, computed_by_id=None):
    return SimpleNamespace(status=status, locked=locked, computed_by_id=computed_by_id,
                           contract=SimpleNamespace(contractor_id=contractor_id))


def _check(passed, contractor_id=OURS, checker_id=SUPERVISOR.id):
    return SimpleNamespace(status="passed" if passed else "failed", passed=passed, checker_id=checker_id, contract=SimpleNamespace(contractor_id=contractor_id))


def _appeal(status, checker_id=SUPERVISOR.id, recheck_assigned_to_id=None):
    return SimpleNamespace(status=status, spot_check=_check(False, checker_id=checker_id),
                           recheck_assigned_to_id=recheck_assigned_to_id)


# Review status → (admin, supervisor, auditor, contractor) sees its own contract's review.
REVIEW_VISIBILITY = {
    "draft": (True, True, True, False),
    "published": (True, True, True, True),
    "agreed": (True, True, True, True),
    "disputed": (True, True, True, True),
    "settled": (True, True, True, True),
    "approved": (True, True, True, True),
}


@pytest.mark.parametrize("status", list(REVIEW_VISIBILITY))
def test_contractors_see_their_reviews_once_published_and_the_bureau_sees_every_review(status):
    seen = tuple(policy.sees_review(USERS[role], OURS, status) for role in ("admin", "supervisor", "auditor", "contractor"))
    assert seen == REVIEW_VISIBILITY[status]


def test_every_review_status_has_a_visibility_row():
    assert set(REVIEW_VISIBILITY) == set(ReviewStatus.codes())


@pytest.mark.parametrize("status", ReviewStatus.codes())
def test_no_contractor_sees_another_contractors_review_in_any_state(status):
    assert not policy.sees_review(CONTRACTOR, THEIRS, status)
    assert policy.sees_review(AUDITOR, THEIRS, status)


@pytest.mark.parametrize(("status", "contractor_sees"), [("draft", False), ("published", True), ("approved", True)])
def test_contractors_see_their_evaluations_once_published(status, contractor_sees):
    assert policy.sees_evaluation(CONTRACTOR, OURS, status) is contractor_sees
    assert not policy.sees_evaluation(CONTRACTOR, THEIRS, status)
    for bureau in (ADMIN, SUPERVISOR, AUDITOR):
        assert policy.sees_evaluation(bureau, THEIRS, status)


def test_every_evaluation_status_is_decided():
    assert {s for s in EvaluationStatus.codes() if policy.sees_evaluation(CONTRACTOR, OURS, s)} == (
        set(EvaluationStatus.codes()) - {"draft"})


@pytest.mark.parametrize(("user", "contractor_id", "sees"), [
    (CONTRACTOR, OURS, True), (CONTRACTOR, THEIRS, False), (CONTRACTOR, None, False),
    (ADMIN, THEIRS, True), (SUPERVISOR, THEIRS, True), (AUDITOR, THEIRS, True), (ANONYMOUS, OURS, False),
])
def test_notices_and_contracts_are_seen_by_their_contractor_and_the_bureau(user, contractor_id, sees):
    assert policy.sees_notice(user, contractor_id) is sees
    assert policy.owns(user, contractor_id) is sees


def test_a_contractor_user_without_a_contractor_owns_nothing():
    stray = SimpleNamespace(role="contractor", contractor_id=None)
    assert not policy.owns(stray, None)
    assert not policy.sees_review(stray, None, "approved")


# Action → the roles that may take it (admin, supervisor, auditor, contractor).
ROLE_TABLE = {
    Action.MANAGE_USERS: "A...",
    Action.RUN_JOBS: "A...",
    Action.MANAGE_CONTRACTORS: "A...",
    Action.MANAGE_CONTRACTS: "A...",
    Action.MANAGE_SCHEMES: "A...",
    Action.READ_AUDIT_LOG: "A.U.",
    Action.EXPORT_AUDIT_DATA: "A.U.",
    Action.EXPORT_FULL_PERSONAL_DATA: "A...",
    Action.REVEAL_PERSONAL_DATA: "AS..",
    Action.READ_OVERSIGHT: "ASU.",
    Action.MANAGE_SUBJECTS: "AS..",
    Action.IMPORT_REGISTERS: "AS..",
    Action.IMPORT_VERIFICATION_DATA: "AS..",
    Action.ISSUE_ASSIGNMENTS: "AS..",
    Action.CANCEL_ASSIGNMENTS: "AS..",
    Action.ENTER_RECORDS: "AS.C",
    Action.DRAW_SAMPLES: "AS..",
    Action.RECORD_SPOT_CHECKS: "AS..",
    Action.RECHECK_ITEMS_OF_OTHERS: "A...",
    Action.ISSUE_NOTICES: "AS..",
    Action.CLOSE_NOTICES: "AS..",
    Action.RESPOND_TO_NOTICES: "...C",
    Action.MAKE_CALLBACKS: "AS..",
    Action.HANDLE_COMPLAINTS: "AS..",
    Action.SCORE_REVIEWS: "AS..",
    Action.COMMENT_ON_REVIEWS: "...C",
    Action.SETTLE_REVIEWS: "A...",
    Action.APPROVE_REVIEWS: "A...",
    Action.CORRECT_REVIEWS: "AS..",
    Action.SCORE_EVALUATIONS: "AS..",
    Action.RECORD_PAYMENTS: "A...",
    Action.MANAGE_INSTALLMENTS: "AS..",
    Action.RECORD_ACCEPTANCES: "AS..",
    Action.APPROVE_EVALUATIONS: "A...",
    Action.CORRECT_EVALUATIONS: "AS..",
    Action.REQUEST_CORRECTIONS: "...C",
    Action.DECIDE_CORRECTIONS: "AS..",
    Action.COMMENT_ON_EVALUATIONS: "...C",
    Action.SETTLE_EVALUATIONS: "A...",
    Action.APPEAL_SPOT_CHECKS: "...C",
    Action.DECIDE_APPEALS: "AS..",
    Action.RECHECK_APPEALS: "AS..",
    Action.HANDLE_ESCALATIONS: "A...",
    Action.READ_NOTIFICATIONS: "ASUC",
    Action.CHOOSE_NOTIFICATION_EMAILS: "ASUC",
    Action.READ_PROCUREMENT: "ASU.",
    Action.MANAGE_PROCUREMENT: "AS..",
    Action.RECORD_BIDS: "AS..",
    Action.ENTER_TENDER_SCORES: "AS..",
    Action.EVALUATE_TENDERS: "AS..",
    Action.AWARD_TENDERS: "A...",
    Action.ASSIGN_WORKERS: "...C",
    Action.RECORD_APP_VISITS: "...C",
    Action.USE_FIELD_PAGES: "....",
    Action.MANAGE_API_TOKENS: "AS.C",
    Action.REVIEW_MEDIA: "AS..",
    Action.READ_CONTRACTOR_PROFILES: "ASUC",
    Action.MANAGE_AREAS: "A...",
    Action.READ_STANDARDS: "ASU.",
    Action.MANAGE_STANDARDS: "A...",
    Action.EXPORT_CARE_ALLOWANCES: "ASU.",
    Action.REPORT_CONDITION_CHANGES: "AS.C",
    Action.STATE_TIER_DATES: "AS..",
    Action.READ_CITY_DASHBOARD: "ASU.",
}


def test_the_role_table_covers_every_action():
    assert set(ROLE_TABLE) == set(Action)


@pytest.mark.parametrize("action", list(ROLE_TABLE))
def test_each_action_is_open_to_exactly_its_roles(action):
    allowed = "".join(letter if may(USERS[role], action) else "."
                      for role, letter in (("admin", "A"), ("supervisor", "S"), ("auditor", "U"), ("contractor", "C")))
    assert allowed == ROLE_TABLE[action]
    assert not may(ANONYMOUS, action)


FIELD_WORKER = SimpleNamespace(id=6, role="field_worker", contractor_id=OURS, field_worker_id=61)


def test_a_field_worker_takes_only_the_field_steps_and_owns_no_contract():
    assert {action for action in Action if may(FIELD_WORKER, action)} == {
        Action.RECORD_APP_VISITS, Action.USE_FIELD_PAGES, Action.MANAGE_API_TOKENS,
        Action.READ_NOTIFICATIONS, Action.CHOOSE_NOTIFICATION_EMAILS}
    assert not policy.owns(FIELD_WORKER, OURS) and not policy.owns(FIELD_WORKER, None)
    assert not policy.read_only(FIELD_WORKER)


def _assignment(worker_id, contractor_id=OURS, status="assigned"):
    return SimpleNamespace(worker_id=worker_id, status=status, contract=SimpleNamespace(contractor_id=contractor_id))


@pytest.mark.parametrize(("user", "assignment", "sees"), [
    (FIELD_WORKER, _assignment(61), True),
    (FIELD_WORKER, _assignment(62), False),  # a colleague's
    (FIELD_WORKER, _assignment(None), False),  # given to no one yet
    (FIELD_WORKER, _assignment(61, contractor_id=THEIRS), False),  # another contractor's, whatever its worker
    (SimpleNamespace(role="field_worker", contractor_id=OURS, field_worker_id=None), _assignment(None), False),
    (CONTRACTOR, _assignment(None), True), (CONTRACTOR, _assignment(61, contractor_id=THEIRS), False),
    (SUPERVISOR, _assignment(None, contractor_id=THEIRS), True),
])
def test_a_field_worker_sees_only_the_assignments_given_to_it(user, assignment, sees):
    assert policy.sees_assignment(user, assignment) is sees
    assert may(user, Action.RECORD_APP_VISITS, assignment) is (sees and user.role in ("contractor", "field_worker"))


def test_app_visits_are_refused_on_cancelled_assignments_and_workers_assigned_on_open_ones():
    assert not may(FIELD_WORKER, Action.RECORD_APP_VISITS, _assignment(61, status="cancelled"))
    assert may(CONTRACTOR, Action.ASSIGN_WORKERS, _assignment(None))
    assert not may(CONTRACTOR, Action.ASSIGN_WORKERS, _assignment(None, status="completed"))
    assert not may(CONTRACTOR, Action.ASSIGN_WORKERS, _assignment(None, contractor_id=THEIRS))


def test_auditors_only_read_and_export():
    assert {action for action in Action if may(AUDITOR, action)} == {
        Action.READ_AUDIT_LOG, Action.EXPORT_AUDIT_DATA, Action.READ_OVERSIGHT, Action.READ_PROCUREMENT,
        # their own inbox and e-mail choices, which change nothing of the oversight record
        Action.READ_NOTIFICATIONS, Action.CHOOSE_NOTIFICATION_EMAILS,
        Action.READ_CONTRACTOR_PROFILES, Action.READ_STANDARDS, Action.EXPORT_CARE_ALLOWANCES,
        Action.READ_CITY_DASHBOARD}
    assert [policy.read_only(u) for u in (ADMIN, SUPERVISOR, AUDITOR, CONTRACTOR)] == [False, False, True, False]


def test_an_unknown_action_is_an_error_not_a_refusal():
    with pytest.raises(ValueError):
        may(ADMIN, "delete_everything")


# (action, record state, role) → allowed on that record now.
STEP_TABLE = [
    (Action.SCORE_REVIEWS, _record("draft"), "supervisor", True),
    (Action.SCORE_REVIEWS, _record("published"), "supervisor", False),
    (Action.SCORE_REVIEWS, _record("draft"), "auditor", False),
    (Action.COMMENT_ON_REVIEWS, _record("published"), "contractor", True),
    (Action.COMMENT_ON_REVIEWS, _record("published", contractor_id=THEIRS), "contractor", False),
    (Action.COMMENT_ON_REVIEWS, _record("agreed"), "contractor", False),
    (Action.COMMENT_ON_REVIEWS, _record("published"), "admin", False),
    (Action.SETTLE_REVIEWS, _record("disputed"), "admin", True),
    (Action.SETTLE_REVIEWS, _record("agreed"), "admin", False),
    (Action.SETTLE_REVIEWS, _record("disputed"), "supervisor", False),
    (Action.APPROVE_REVIEWS, _record("settled"), "admin", True),
    (Action.APPROVE_REVIEWS, _record("approved", locked=True), "admin", False),
    (Action.APPROVE_REVIEWS, _record("settled"), "supervisor", False),
    (Action.CORRECT_REVIEWS, _record("approved", locked=True), "supervisor", True),
    (Action.CORRECT_REVIEWS, _record("settled"), "supervisor", False),
    (Action.CORRECT_REVIEWS, _record("approved", locked=True), "contractor", False),
    (Action.SCORE_EVALUATIONS, _record("draft"), "supervisor", True),
    (Action.SCORE_EVALUATIONS, _record("approved", locked=True), "supervisor", False),
    (Action.APPROVE_EVALUATIONS, _record("draft"), "admin", True),
    (Action.APPROVE_EVALUATIONS, _record("approved", locked=True), "admin", False),
    (Action.APPROVE_EVALUATIONS, _record("draft"), "supervisor", False),
    (Action.CORRECT_EVALUATIONS, _record("approved", locked=True), "admin", True),
    (Action.CORRECT_EVALUATIONS, _record("draft"), "admin", False),
    (Action.RESPOND_TO_NOTICES, _record("open"), "contractor", True),
    (Action.RESPOND_TO_NOTICES, _record("responded"), "contractor", True),
    (Action.RESPOND_TO_NOTICES, _record("closed"), "contractor", False),
    (Action.RESPOND_TO_NOTICES, _record("open", contractor_id=THEIRS), "contractor", False),
    (Action.RESPOND_TO_NOTICES, _record("open"), "supervisor", False),
    (Action.CLOSE_NOTICES, _record("responded"), "supervisor", True),
    (Action.CLOSE_NOTICES, _record("closed"), "supervisor", False),
    (Action.CLOSE_NOTICES, _record("open"), "contractor", False),
    (Action.CANCEL_ASSIGNMENTS, _record("assigned"), "supervisor", True),
    (Action.CANCEL_ASSIGNMENTS, _record("overdue"), "admin", True),
    (Action.CANCEL_ASSIGNMENTS, _record("completed"), "admin", False),
    (Action.CANCEL_ASSIGNMENTS, _record("assigned"), "contractor", False),
    (Action.ENTER_RECORDS, _record("assigned"), "contractor", True),
    (Action.ENTER_RECORDS, _record("completed"), "contractor", True),
    (Action.ENTER_RECORDS, _record("cancelled"), "contractor", False),
    (Action.ENTER_RECORDS, _record("assigned", contractor_id=THEIRS), "contractor", False),
    (Action.ENTER_RECORDS, _record("assigned", contractor_id=THEIRS), "supervisor", True),
    (Action.ENTER_RECORDS, _record("assigned"), "auditor", False),
    (Action.MAKE_CALLBACKS, _record("pending"), "supervisor", True),
    (Action.MAKE_CALLBACKS, _record("answered"), "supervisor", False),
    (Action.HANDLE_COMPLAINTS, _record("open"), "supervisor", True),
    (Action.HANDLE_COMPLAINTS, _record("closed"), "supervisor", False),
    # Whoever computed a draft neither settles nor approves it.
    (Action.SETTLE_REVIEWS, _record("disputed", computed_by_id=ADMIN.id), "admin", False),
    (Action.APPROVE_REVIEWS, _record("settled", computed_by_id=ADMIN.id), "admin", False),
    (Action.APPROVE_REVIEWS, _record("settled", computed_by_id=SUPERVISOR.id), "admin", True),
    (Action.SETTLE_EVALUATIONS, _record("disputed"), "admin", True),
    (Action.SETTLE_EVALUATIONS, _record("disputed", computed_by_id=ADMIN.id), "admin", False),
    (Action.SETTLE_EVALUATIONS, _record("agreed"), "admin", False),
    (Action.APPROVE_EVALUATIONS, _record("settled", computed_by_id=ADMIN.id), "admin", False),
    (Action.COMMENT_ON_EVALUATIONS, _record("published"), "contractor", True),
    (Action.COMMENT_ON_EVALUATIONS, _record("published", contractor_id=THEIRS), "contractor", False),
    (Action.COMMENT_ON_EVALUATIONS, _record("agreed"), "contractor", False),
    # Appeals: the contractor of a failed check; a supervisor other than its checker decides.
    (Action.APPEAL_SPOT_CHECKS, _check(False), "contractor", True),
    (Action.APPEAL_SPOT_CHECKS, _check(True), "contractor", False),
    (Action.APPEAL_SPOT_CHECKS, _check(False, contractor_id=THEIRS), "contractor", False),
    (Action.DECIDE_APPEALS, _appeal("filed"), "supervisor", False),
    (Action.DECIDE_APPEALS, _appeal("filed"), "second supervisor", True),
    (Action.DECIDE_APPEALS, _appeal("decided"), "second supervisor", False),
    (Action.DECIDE_APPEALS, _appeal("filed"), "contractor", False),
    (Action.RECHECK_APPEALS, _appeal("recheck_ordered"), "second supervisor", True),
    (Action.RECHECK_APPEALS, _appeal("recheck_ordered"), "supervisor", False),
    (Action.RECHECK_APPEALS, _appeal("recheck_ordered", recheck_assigned_to_id=ADMIN.id), "second supervisor", False),
    (Action.RECHECK_APPEALS, _appeal("filed"), "second supervisor", False),
    # procurement projects: set up until opened, bids from the announcement, scores once opened
    (Action.MANAGE_PROCUREMENT, _record("draft"), "supervisor", True),
    (Action.MANAGE_PROCUREMENT, _record("announced"), "supervisor", True),
    (Action.MANAGE_PROCUREMENT, _record("opened"), "supervisor", False),
    (Action.RECORD_BIDS, _record("draft"), "supervisor", False),
    (Action.RECORD_BIDS, _record("announced"), "supervisor", True),
    (Action.RECORD_BIDS, _record("opened"), "supervisor", True),
    (Action.RECORD_BIDS, _record("evaluated"), "supervisor", False),
    (Action.ENTER_TENDER_SCORES, _record("opened"), "supervisor", True),
    (Action.ENTER_TENDER_SCORES, _record("evaluated"), "supervisor", False),
    (Action.ENTER_TENDER_SCORES, _record("opened"), "contractor", False),
    (Action.EVALUATE_TENDERS, _record("opened"), "supervisor", True),
    (Action.AWARD_TENDERS, _record("evaluated"), "admin", True),
    (Action.AWARD_TENDERS, _record("evaluated"), "supervisor", False),
    (Action.AWARD_TENDERS, _record("awarded"), "admin", False),
]


@pytest.mark.parametrize(("action", "record", "role", "allowed"), STEP_TABLE,
                         ids=[f"{a}-{r.status}-{role}" for a, r, role, _ in STEP_TABLE])
def test_a_step_is_offered_only_to_its_roles_and_in_its_states(action, record, role, allowed):
    assert may(USERS[role], action, record) is allowed


def test_full_personal_data_is_revealed_to_staff_and_exported_only_by_an_admin():
    assert [policy.may_reveal_personal_data(u) for u in (ADMIN, SUPERVISOR, AUDITOR, CONTRACTOR)] == [
        True, True, False, False]
    assert [policy.may_export_full_personal_data(u) for u in (ADMIN, SUPERVISOR, AUDITOR, CONTRACTOR, None)] == [
        True, False, False, False, False]


def test_role_sets_are_made_of_known_roles():
    for roles in policy.ROLES.values():
        assert roles <= set(Role.codes())


def test_a_contractor_asks_to_correct_its_own_records_and_the_bureau_decides_pending_requests():
    ours = SimpleNamespace(assignment=SimpleNamespace(contract=SimpleNamespace(contractor_id=OURS)))
    theirs = SimpleNamespace(assignment=SimpleNamespace(contract=SimpleNamespace(contractor_id=THEIRS)))
    assert may(CONTRACTOR, Action.REQUEST_CORRECTIONS, ours)
    assert not may(CONTRACTOR, Action.REQUEST_CORRECTIONS, theirs)
    assert not may(SUPERVISOR, Action.REQUEST_CORRECTIONS, ours)
    assert may(SUPERVISOR, Action.DECIDE_CORRECTIONS, _record("pending"))
    assert not any(may(SUPERVISOR, Action.DECIDE_CORRECTIONS, _record(status)) for status in ("approved", "refused"))
    assert not may(CONTRACTOR, Action.DECIDE_CORRECTIONS, _record("pending"))


def test_a_county_is_seen_only_by_the_users_whose_area_covers_it():
    assert policy.sees_county([3, 4], 4)
    assert not policy.sees_county([3], 4)
    assert not policy.sees_county([3], None)
    assert not policy.sees_county([], 3)
