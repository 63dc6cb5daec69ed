"""Stale figures cannot be published, settled or locked: a callback recorded after the draft was
computed makes each step refuse, naming what changed, until the review is recomputed; the same
for an annual evaluation against its quarterly reviews."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import literal_column, select, update

from oversight.domain.fingerprints import FORMAT, FORMAT_1, source_fingerprint
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import AnnualEvaluation, Assignment, AuditEvent, QuarterlyReview
from oversight.services import callbacks, evaluations, reviews
from oversight.services.audit import verify_audit_log
from oversight.services.evaluations import EvaluationStale
from oversight.services.freshness import review_evidence, review_fingerprint
from oversight.services.kpi_evidence import gather_evidence, quarter_rows
from oversight.services.reviews import ReviewError, ReviewLocked, ReviewStale
from oversight.services.schemes import ensure_default_scheme

from tests.performance_support import build_quarter, figures_with_total

Q3 = Quarter(2025, 3)
AFTER_Q3 = date(2025, 10, 8)


@pytest.fixture
def setting(factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    return {
        "contract": contract,
        "supervisor": factory.user("supervisor"),
        "admin": factory.user("admin"),
        "contractor_user": factory.user("contractor", contractor),
    }


def quarter_with_a_call_to_make(setting):
    """The hand-computed quarter, its eleventh drawn subject not yet reached, and the draft scored."""
    data = build_quarter(setting["contract"], setting["supervisor"])
    pending = data.callbacks[10]
    pending.status = "pending"
    db.session.commit()
    review = reviews.score_contract_quarter(setting["contract"], Q3).review
    db.session.commit()
    return review, pending, data


def the_person_denies_the_service(callback, operator):
    """The call gets through and the subject says the visit never happened."""
    callbacks.record_attempt(callback, callbacks.CONNECTED, operator)
    callbacks.record_answers(callback, confirmed=False, satisfaction=2, attitude=None, complaint=None,
                             operator=operator)
    db.session.commit()


def counts(review, key):
    item = review.figures.indicator(key)
    return item.numerator, item.denominator


def test_a_callback_recorded_after_the_draft_makes_publish_refuse_until_recomputed(setting):
    review, pending, _ = quarter_with_a_call_to_make(setting)
    assert review.evidence_sha256 is not None and len(review.evidence_sha256) == 64
    assert counts(review, "authenticity") == (9, 10) and str(review.figures.total) == "58.35"
    assert not reviews.staleness(review).stale
    the_person_denies_the_service(pending, setting["supervisor"])

    with pytest.raises(ReviewStale, match="记录已变化，请重新计算") as refused:
        reviews.publish(review, AFTER_Q3)
    db.session.rollback()
    record = f"完成记录#{pending.record_id}"
    assert refused.value.staleness.descriptions == (f"回访满意率：新增1条（{record}）",
                                                    f"服务真实率：新增1条（{record}）")
    assert record in str(refused.value)
    assert db.session.get(QuarterlyReview, review.id).status == "draft"

    reviews.recompute(review)
    db.session.commit()
    # authenticity 9/11 stays at zero; satisfaction 8/11 = 0.7272…: 15 × 0.0272…/0.25 = 1.636… → 1.64
    assert counts(review, "authenticity") == (9, 11) and counts(review, "satisfaction") == (8, 11)
    assert str(review.figures.total) == "53.99" and review.total_centi == 5399
    assert not reviews.staleness(review).stale
    reviews.publish(review, AFTER_Q3)
    db.session.commit()
    assert review.status == "published"


def test_the_quarters_rows_read_below_the_orm_include_changes_not_yet_flushed(setting):
    """The quarter's rows are read below the ORM (`bulk_sql.core_rows`) after the session's autoflush,
    as `session.execute` reads them: an answer set on the callback but not yet flushed is counted."""
    review, pending, _ = quarter_with_a_call_to_make(setting)
    pending.status, pending.satisfaction, pending.service_confirmed = "answered", 5, True  # no flush
    rows = quarter_rows(setting["contract"].id, Q3)
    assert sum(call.answered for call in rows.checks.calls) == 11
    found = gather_evidence(setting["contract"].id, Q3, rows=rows)
    assert (found.evidence["authenticity"].numerator, found.evidence["authenticity"].denominator) == (10, 11)
    reviews.recompute(review)
    assert counts(review, "satisfaction") == (9, 11) and not reviews.staleness(review).stale


def test_settle_and_lock_refuse_stale_figures_and_recompute_returns_the_review_to_draft(setting):
    review, pending, _ = quarter_with_a_call_to_make(setting)
    reviews.publish(review, AFTER_Q3)
    reviews.comment(review, setting["contractor_user"], "disagree", "外出对象已提供证明", AFTER_Q3)
    db.session.commit()
    the_person_denies_the_service(pending, setting["supervisor"])

    with pytest.raises(ReviewStale, match="服务真实率：新增1条"):
        reviews.settle(review, setting["admin"], "维持原分", None)
    db.session.rollback()
    assert db.session.get(QuarterlyReview, review.id).status == "disputed"

    outcome = reviews.recompute(review)
    db.session.commit()
    assert outcome.action == "refreshed"
    assert review.status == "draft" and review.published_at is None and review.comment_deadline is None
    assert review.contractor_position is None and review.contractor_comment is None
    assert str(review.figures.total) == "53.99"

    reviews.publish(review, AFTER_Q3)
    reviews.comment(review, setting["contractor_user"], "agree", "", AFTER_Q3)
    db.session.commit()
    with pytest.raises(ReviewError, match="记录未变化，无需重新计算"):
        reviews.recompute(review)
    db.session.rollback()
    # A late change in the records: the agreed review cannot be locked with the old figures either.
    pending.satisfaction = 5
    db.session.commit()
    with pytest.raises(ReviewStale, match=f"回访满意率：内容变化1条（完成记录#{pending.record_id}）"):
        reviews.approve(review, setting["admin"], AFTER_Q3)
    db.session.rollback()
    assert not db.session.get(QuarterlyReview, review.id).locked
    reviews.recompute(review)
    reviews.publish(review, AFTER_Q3)
    reviews.comment(review, setting["contractor_user"], "agree", "", AFTER_Q3)
    reviews.approve(review, setting["admin"], AFTER_Q3)
    db.session.commit()
    assert review.locked and counts(review, "satisfaction") == (9, 11)


def test_a_locked_review_never_changes_whatever_the_records_do(setting):
    review, pending, _ = quarter_with_a_call_to_make(setting)
    reviews.publish(review, AFTER_Q3)
    reviews.comment(review, setting["contractor_user"], "agree", "", AFTER_Q3)
    reviews.approve(review, setting["admin"], AFTER_Q3)
    db.session.commit()
    locked = (review.figures, review.total_centi, review.evidence_sha256)
    the_person_denies_the_service(pending, setting["supervisor"])
    with pytest.raises(ReviewLocked):
        reviews.recompute(review)
    db.session.rollback()
    stored = db.session.get(QuarterlyReview, review.id)
    assert (stored.figures, stored.total_centi, stored.evidence_sha256) == locked
    # The correction is a new revision, scored from the records as they are now.
    new = reviews.correct(review, setting["supervisor"], "回访发现一户未接受服务")
    db.session.commit()
    assert counts(new, "authenticity") == (9, 11) and new.evidence_sha256 != review.evidence_sha256


def test_a_change_no_figure_reads_does_not_make_the_review_stale(setting):
    review, _, data = quarter_with_a_call_to_make(setting)
    answered = data.callbacks[0]
    assert answered.satisfaction == 5
    answered.satisfaction, answered.attitude = 4, "较好"  # still satisfied; the attitude is no indicator's input
    data.assignments[45].note = "已电话催办"
    db.session.commit()
    assert not reviews.staleness(review).stale
    answered.service_confirmed = False
    db.session.commit()
    assert reviews.staleness(review).descriptions == (f"服务真实率：内容变化1条（完成记录#{answered.record_id}）",)


def test_a_review_scored_before_fingerprints_is_checked_by_its_figures(setting):
    review, pending, _ = quarter_with_a_call_to_make(setting)
    review.evidence_sha256 = review.evidence_fingerprint = None  # as the migration leaves older rows
    db.session.commit()
    reviews.publish(review, AFTER_Q3)  # the records still give its figures: it gets its fingerprint now
    db.session.commit()
    assert review.evidence_sha256 == reviews.staleness(review).current.digest

    review.evidence_sha256 = review.evidence_fingerprint = None
    db.session.commit()
    the_person_denies_the_service(pending, setting["supervisor"])
    with pytest.raises(ReviewStale, match=f"服务真实率：新增1条（完成记录#{pending.record_id}）"):
        reviews.approve(review, setting["admin"], date(2025, 12, 1))
    db.session.rollback()


# --- annual evaluations ------------------------------------------------------------------------

YEAR = [("2025Q1", 9200, 100), ("2025Q2", 8500, 300), ("2025Q3", 7800, 200), ("2025Q4", 8800, 400)]


def stored_quarters(contract, rows, status="approved"):
    scheme = ensure_default_scheme()
    found = []
    for quarter, total_centi, volume in rows:
        review = QuarterlyReview(contract_id=contract.id, quarter=quarter, scheme_id=scheme.id, status=status,
                                 locked=status == "approved", figures=figures_with_total(quarter, total_centi, volume),
                                 total_centi=total_centi, rating="-", completed_volume=volume)
        db.session.add(review)
        found.append(review)
    db.session.commit()
    return found


AFTER_YEAR = date(2026, 1, 10)


def publish_and_approve(evaluation, admin):
    """The evaluation's steps before approval: published, its comment window passing in silence."""
    evaluations.publish_evaluation(evaluation, AFTER_YEAR, window_days=7)
    evaluations.approve_evaluation(evaluation, admin, AFTER_YEAR + timedelta(days=8))


def test_an_evaluation_goes_stale_when_a_quarterly_review_changes(setting):
    contract, admin = setting["contract"], setting["admin"]
    stored_quarters(contract, YEAR[:3])
    (q4,) = stored_quarters(contract, YEAR[3:], status="settled")
    evaluation = evaluations.compute_evaluation(contract, 2025)
    db.session.commit()
    assert evaluation.evidence_sha256 is not None and str(evaluation.figures.score) == "83.83"

    q4.status, q4.locked = "approved", True  # the fourth quarter is approved meanwhile
    db.session.commit()
    with pytest.raises(EvaluationStale, match="记录已变化，请重新计算：季度考核：内容变化1条（2025Q4）"):
        evaluations.approve_evaluation(evaluation, admin, AFTER_YEAR)
    db.session.rollback()
    assert not db.session.get(AnnualEvaluation, evaluation.id).locked

    evaluations.compute_evaluation(contract, 2025)  # 重新计算
    db.session.commit()
    assert str(evaluation.figures.score) == "85.50" and not evaluations.evaluation_freshness(evaluation).stale

    # A payment of the linked share recorded elsewhere changes what remains to pay.
    payment = evaluations.record_payment(contract, date(2025, 12, 20), 1_000_000, "performance", 2025, "预付")
    db.session.commit()
    with pytest.raises(EvaluationStale, match=f"绩效挂钩部分付款：新增1条（付款#{payment.id}）"):
        evaluations.approve_evaluation(evaluation, admin, AFTER_YEAR)
    db.session.rollback()
    evaluations.compute_evaluation(contract, 2025)
    publish_and_approve(evaluation, admin)
    db.session.commit()
    assert evaluation.locked and evaluation.figures.payment.already_paid_fen == 1_000_000


def test_a_recomputed_quarter_makes_the_evaluation_stale(setting):
    review, pending, _ = quarter_with_a_call_to_make(setting)
    contract = setting["contract"]
    stored_quarters(contract, [YEAR[0], YEAR[1], YEAR[3]])
    reviews.publish(review, AFTER_Q3)
    reviews.comment(review, setting["contractor_user"], "agree", "", AFTER_Q3)
    reviews.approve(review, setting["admin"], AFTER_Q3)
    evaluation = evaluations.compute_evaluation(contract, 2025)
    db.session.commit()
    the_person_denies_the_service(pending, setting["supervisor"])
    new = reviews.correct(review, setting["supervisor"], "回访发现一户未接受服务")  # a new draft revision of Q3
    db.session.commit()
    with pytest.raises(EvaluationStale, match="季度考核：内容变化1条（2025Q3）"):
        evaluations.approve_evaluation(evaluation, setting["admin"], AFTER_YEAR)
    db.session.rollback()
    evaluations.compute_evaluation(contract, 2025)
    db.session.commit()
    assert [m.quarter for m in evaluation.figures.missing_quarters] == ["2025Q3"]
    assert new.status == "draft"


def test_an_evaluation_computed_before_fingerprints_is_checked_by_its_figures(setting):
    contract = setting["contract"]
    stored_quarters(contract, YEAR)
    evaluation = evaluations.compute_evaluation(contract, 2025)
    evaluation.evidence_sha256 = evaluation.evidence_fingerprint = None
    db.session.commit()
    assert not evaluations.evaluation_freshness(evaluation).stale
    evaluations.record_payment(contract, date(2025, 12, 20), 1_000_000, "performance", 2025, None)
    db.session.commit()
    with pytest.raises(EvaluationStale, match="绩效挂钩部分付款"):
        evaluations.approve_evaluation(evaluation, setting["admin"], AFTER_YEAR)
    db.session.rollback()
    evaluations.compute_evaluation(contract, 2025)
    publish_and_approve(evaluation, setting["admin"])
    db.session.commit()
    assert evaluation.locked and evaluation.evidence_sha256 is not None


def test_the_audit_log_records_the_fingerprints_digests_and_the_review_its_row_digests(setting):
    """The review keeps a digest per evidence row (to name what changed); its audit events keep
    the fingerprint's and each source's digest and row count, not the tens of thousands of rows."""
    review, pending, _ = quarter_with_a_call_to_make(setting)
    the_person_denies_the_service(pending, setting["supervisor"])
    reviews.recompute(review)
    db.session.commit()
    stored = review.evidence_fingerprint
    assert stored["format"] == 2 and stored["digest"] == review.evidence_sha256
    assert str(pending.record_id) in stored["sources"]["authenticity"]["ids"]
    events = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "QuarterlyReview",
                                                         AuditEvent.object_id == str(review.id))
                                .order_by(AuditEvent.id)).scalars().all()
    created, updated = events[0].changes["evidence_fingerprint"], events[-1].changes["evidence_fingerprint"]
    expected = {"format": 2, "digest": review.evidence_sha256,
                "sources": {key: {"digest": source["digest"], "rows": len(source["ids"])}
                            for key, source in stored["sources"].items()}}
    assert updated["after"] == expected
    assert created["digest"] == updated["before"]["digest"] != expected["digest"]
    assert created["sources"]["authenticity"]["rows"] + 1 == expected["sources"]["authenticity"]["rows"]
    assert verify_audit_log() == (len(db.session.execute(select(AuditEvent.id)).all()), None)


def _typed_assignment_rows(contract_id):
    """The quarter's completion and timeliness rows from the ORM's typed values: what the
    fingerprint hashed before the database's text of days and times was used instead."""
    db.session.expire_all()
    found = db.session.execute(select(Assignment).where(
        Assignment.contract_id == contract_id, Assignment.status != "cancelled",
        Assignment.due_date >= Q3.start, Assignment.due_date <= Q3.end).order_by(Assignment.id)).scalars().all()
    return {"completion": [(a.id, a.status == "completed") for a in found],
            "timeliness": [(a.id, a.due_date, a.completed_at) for a in found if a.status == "completed"]}


def test_the_fingerprint_of_days_and_times_written_by_the_database_is_that_of_the_typed_values(setting):
    """Due dates and completion times reach the fingerprint as the database's text turned into
    their canonical JSON (`kpi_evidence.due_assignments`): the same bytes as the typed values' —
    whole seconds, microseconds, a completed assignment without a time — so that fingerprints
    stored before stay valid."""
    data = build_quarter(setting["contract"], setting["supervisor"])
    done = [a for a in data.assignments if a.status == "completed"]
    done[0].completed_at = datetime(2025, 7, 3, 9, 30, 0, 0)
    done[1].completed_at = datetime(2025, 7, 4, 23, 59, 59, 120)
    done[2].completed_at = datetime(2025, 8, 1, 0, 0, 0, 999999)
    db.session.commit()
    contract_id = setting["contract"].id

    def same_bytes():
        typed, written = _typed_assignment_rows(contract_id), review_evidence(contract_id, Q3)
        assert len(typed["timeliness"]) == len(done) >= 5
        for key in ("completion", "timeliness"):
            for row_format in (FORMAT, FORMAT_1):
                assert source_fingerprint(written[key], row_format) == source_fingerprint(typed[key], row_format), key

    same_bytes()
    done[3].completed_at = None  # completed, yet no time: `null`
    db.session.commit()
    same_bytes()
    if db.engine.dialect.name == "sqlite":  # a time stored in another shape is read as SQLAlchemy reads it
        done[3].completed_at = datetime(2025, 7, 5, 8, 0)
        db.session.commit()
        db.session.execute(update(Assignment).where(Assignment.id == done[4].id)
                           .values(completed_at=literal_column("'2025-07-05 08:00:00.5'")))
        db.session.commit()
        same_bytes()


def test_a_review_stamped_in_the_first_format_is_fresh_until_a_record_changes_and_names_it(setting):
    """Row digests of format 1 (SHA-256 prefixes) are still compared with the records in their own format."""
    review, pending, _ = quarter_with_a_call_to_make(setting)
    rows = review_evidence(review.contract_id, Q3)
    review.evidence_fingerprint = review_fingerprint(rows, review.figures.keys, FORMAT_1).to_json()
    db.session.commit()
    assert review.evidence_fingerprint["format"] == 1 and not reviews.staleness(review).stale
    the_person_denies_the_service(pending, setting["supervisor"])
    record = f"完成记录#{pending.record_id}"
    assert reviews.staleness(review).descriptions == (f"回访满意率：新增1条（{record}）",
                                                      f"服务真实率：新增1条（{record}）")
