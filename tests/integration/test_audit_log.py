import pytest
from sqlalchemy import select, text

from oversight.extensions import db
from oversight.models import AuditEvent
from oversight.services.audit import Actor, append_only_lifted, reset_actor, set_actor, verify_audit_log


def _events(object_type: str):
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.object_type == object_type).order_by(AuditEvent.id)
    ).scalars().all()


def test_create_update_delete_are_logged_with_before_and_after(factory):
    token = set_actor(Actor(None, "alice", "10.0.0.9"))
    try:
        contractor = factory.contractor(name="甲机构", workers=0)
        contractor.name = "乙机构"
        db.session.commit()
        db.session.delete(contractor)
        db.session.commit()
    finally:
        reset_actor(token)
    events = _events("Contractor")
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[1].changes == {"name": {"before": "甲机构", "after": "乙机构"}}
    assert events[0].actor == "alice" and events[0].ip_address == "10.0.0.9"
    # Personal data is masked in the log as everywhere else.
    assert events[0].changes["contact_phone"] == "139****0001"


def test_passwords_never_reach_the_log(factory):
    factory.user("admin")
    event = _events("User")[0]
    assert "password_hash" not in event.changes


def test_intact_log_verifies_and_cli_exits_zero(app, factory):
    factory.contract()
    checked, broken = verify_audit_log()
    assert broken is None and checked > 3
    result = app.test_cli_runner().invoke(args=["verify-audit-log"])
    assert result.exit_code == 0, result.output


def test_tampering_with_a_stored_event_is_detected(app, factory):
    factory.contract()
    victim = _events("Contract")[0]
    # Tamper below the ORM, as someone with the owner's database access (who can drop the
    # append-only triggers) would.
    with append_only_lifted(db.session.connection()):
        db.session.execute(
            text("UPDATE audit_events SET actor = 'nobody' WHERE id = :id"), {"id": victim.id}
        )
    db.session.commit()
    db.session.expire_all()
    checked, broken = verify_audit_log()
    assert broken is not None and broken.event_id == victim.id
    result = app.test_cli_runner().invoke(args=["verify-audit-log"])
    assert result.exit_code == 1
    assert f"#{victim.id}" in result.output


def test_deleting_an_event_is_detected(factory):
    factory.contract()  # in the home county's chain (its areas in the city chain)
    events = db.session.execute(select(AuditEvent.id).where(AuditEvent.county_id.is_not(None))
                                .order_by(AuditEvent.id)).scalars().all()
    with append_only_lifted(db.session.connection()):
        db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[2]})
    db.session.commit()
    assert verify_audit_log()[1].event_id == events[3]


def test_events_cannot_be_changed_through_the_orm(factory):
    factory.contractor()
    event = _events("Contractor")[0]
    event.actor = "mallory"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
