"""Callbacks: at most three attempts, answers after a call got through, complaints that target draws."""
import pytest
from sqlalchemy import select

from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import AuditEvent, Callback, Complaint
from oversight.services.callbacks import (
    NOT_CONFIRMED_TEXT,
    CallbackError,
    close_complaint,
    file_complaint,
    record_answers,
    record_attempt,
    reveal_phone,
)
from oversight.services.draws import CALLBACK, SPOT_CHECK, make_draws

from tests.checks_support import AFTER_Q3, add_records, workers_of


@pytest.fixture
def calls(factory):
    contract = factory.contract(factory.contractor(workers=2), service_types=("care_visit",))
    add_records(contract, {0: 30, 1: 20}, service_type="care_visit")
    outcome = make_draws(CALLBACK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id)
    db.session.commit()
    callbacks = db.session.execute(select(Callback).order_by(Callback.id)).scalars().all()
    return {"contract": contract, "draw": outcome.draws[0], "callbacks": callbacks,
            "operator": factory.user("supervisor")}


def test_three_unanswered_calls_make_a_callback_unreachable(calls):
    callback, operator = calls["callbacks"][0], calls["operator"]
    for _ in range(2):
        record_attempt(callback, "无人接听", operator)
        assert callback.status == "pending"
    record_attempt(callback, "无人接听", operator)
    assert callback.status == "unreachable" and callback.completed_at is not None
    with pytest.raises(CallbackError, match="回访已结束"):
        record_attempt(callback, "接通", operator)


@pytest.mark.parametrize(("outcome", "status"), [("拒访", "refused"), ("空号", "unreachable")])
def test_a_refusal_or_a_dead_number_ends_the_callback_at_once(calls, outcome, status):
    callback = calls["callbacks"][0]
    record_attempt(callback, outcome, calls["operator"])
    assert callback.status == status and len(callback.attempts) == 1


def test_answers_need_a_call_that_got_through(calls):
    callback, operator = calls["callbacks"][0], calls["operator"]
    with pytest.raises(CallbackError, match="接通后"):
        record_answers(callback, confirmed=True, satisfaction=5, attitude=None, complaint=None, operator=operator)
    record_attempt(callback, "无人接听", operator)
    record_attempt(callback, "接通", operator)
    with pytest.raises(CallbackError, match="先录入回访结果"):
        record_attempt(callback, "接通", operator)
    assert record_answers(callback, confirmed=True, satisfaction=4, attitude="较好", complaint=" ",
                          operator=operator) is None
    db.session.commit()
    assert (callback.status, callback.service_confirmed, callback.satisfaction) == ("answered", True, 4)
    assert callback.complaint is None and callback.operator_id == operator.id


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"satisfaction": 6}, "1 到 5"), ({"satisfaction": 0}, "1 到 5"), ({"attitude": "凶"}, "服务态度"),
])
def test_answers_are_checked(calls, kwargs, message):
    callback = calls["callbacks"][0]
    record_attempt(callback, "接通", calls["operator"])
    arguments = {"confirmed": True, "satisfaction": 5, "attitude": None, "complaint": None, **kwargs}
    with pytest.raises(CallbackError, match=message):
        record_answers(callback, operator=calls["operator"], **arguments)


def test_a_complaint_in_a_callback_targets_the_workers_records_in_the_next_spot_check_draw(calls, factory):
    callback, operator, contract = calls["callbacks"][0], calls["operator"], calls["contract"]
    record_attempt(callback, "接通", operator)
    complaint = record_answers(callback, confirmed=True, satisfaction=2, attitude="较差",
                               complaint="服务人员只待了五分钟", operator=operator)
    db.session.commit()
    assert (complaint.source, complaint.callback_id, complaint.record_id) == ("callback", callback.id,
                                                                             callback.record_id)
    assert complaint.worker_id == callback.record.worker_id and complaint.status == "open"

    outcome = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id)
    db.session.commit()
    targeted = {item.record_id for item in outcome.draws[0].items if item.stratum == "targeted"}
    assert callback.record_id in targeted
    assert {db.session.get(type(callback.record), rid).worker_id for rid in targeted} == {complaint.worker_id}
    assert complaint.status == "targeted" and complaint.targeted_draw_id == outcome.draws[0].id


def test_a_recipient_denying_the_visit_raises_a_complaint(calls):
    callback = calls["callbacks"][0]
    record_attempt(callback, "接通", calls["operator"])
    complaint = record_answers(callback, confirmed=False, satisfaction=3, attitude=None, complaint=None,
                               operator=calls["operator"])
    assert complaint.text == NOT_CONFIRMED_TEXT and callback.service_confirmed is False


def test_revealing_the_full_phone_number_is_audited(calls):
    callback = calls["callbacks"][0]
    assert reveal_phone(callback) == callback.subject.phone
    db.session.commit()
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "view_personal_data")).scalar_one()
    assert (event.object_type, event.object_id) == ("Subject", str(callback.subject_id))
    assert event.changes == {"fields": ["phone"], "callback_id": callback.id}


def test_a_walk_in_complaint_names_a_record_or_a_worker_of_the_contract(calls, factory):
    contract, user = calls["contract"], calls["operator"]
    record_id = calls["callbacks"][0].record_id
    by_record = file_complaint(contract, text="未按时上门", user=user, record_id=record_id)
    assert by_record.worker_id == calls["callbacks"][0].record.worker_id
    worker = workers_of(contract)[1]
    assert file_complaint(contract, text="态度差", user=user, worker_id=worker.id).record_id is None
    other = factory.contract()
    with pytest.raises(CallbackError, match="不属于合同"):
        file_complaint(other, text="x", user=user, record_id=record_id)
    with pytest.raises(CallbackError, match="不属于本合同"):
        file_complaint(other, text="x", user=user, worker_id=worker.id)
    with pytest.raises(CallbackError, match="请指明"):
        file_complaint(contract, text="x", user=user)
    with pytest.raises(CallbackError, match="投诉内容"):
        file_complaint(contract, text=" ", user=user, worker_id=worker.id)


def test_a_closed_complaint_targets_no_draw(calls):
    contract = calls["contract"]
    complaint = file_complaint(contract, text="态度差", user=calls["operator"], worker_id=workers_of(contract)[0].id)
    close_complaint(complaint)
    db.session.commit()
    outcome = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id)
    assert outcome.draws[0].strata["targeted"]["population"] == 0
    assert db.session.get(Complaint, complaint.id).targeted_draw_id is None


def test_the_answerer_is_stored_with_the_answers(calls):
    callback, operator = calls["callbacks"][0], calls["operator"]
    record_attempt(callback, "接通", operator)
    record_answers(callback, confirmed=True, satisfaction=5, attitude=None, complaint=None, operator=operator,
                   answered_by="family")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Callback, callback.id)
    assert (stored.status, stored.answered_by) == ("answered", "family")
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.object_type == "Callback", AuditEvent.object_id == str(callback.id),
        AuditEvent.action == "update").order_by(AuditEvent.id.desc())).scalars().first()
    assert event.changes["answered_by"] == {"before": None, "after": "family"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"answered_by": "neighbour"}, "接听人应为本人、家属、其他之一"),
    ({"confirmed": None}, "服务真实性"),
])
def test_an_unknown_answerer_or_a_missing_confirmation_is_refused(calls, kwargs, message):
    callback = calls["callbacks"][0]
    record_attempt(callback, "接通", calls["operator"])
    arguments = {"confirmed": True, "satisfaction": 5, "attitude": None, "complaint": None, **kwargs}
    with pytest.raises(CallbackError, match=message):
        record_answers(callback, operator=calls["operator"], **arguments)
    assert callback.status == "pending" and callback.answered_by is None


def test_the_database_refuses_an_answerer_outside_the_vocabulary(calls):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    callback = calls["callbacks"][0]
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE callbacks SET answered_by = 'neighbour' WHERE id = :id"), {"id": callback.id})
        db.session.flush()
    db.session.rollback()
