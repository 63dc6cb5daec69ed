"""The audit chain's keys: a private key file made on first use, the key id on each event,
rotation that keeps old events verifying, keys from the setting, and the seal of a legacy chain."""
from __future__ import annotations

import json
import stat
from datetime import datetime

import pytest
from sqlalchemy import select

from oversight import create_app
from oversight.domain.audit_chain import GENESIS_HASH, event_hash
from oversight.extensions import db
from oversight.models import AuditEvent
from oversight.services.audit import verify_audit_log
from oversight.services.audit_keys import AuditKeyError, forget_cached_rings, keyring


@pytest.fixture
def own_keys(app, tmp_path):
    """This test's own key file (the run's shared one stays as it is)."""
    app.config["AUDIT_KEY_FILE"] = str(tmp_path / "keys" / "audit_keys.json")
    forget_cached_rings()
    yield tmp_path / "keys" / "audit_keys.json"
    forget_cached_rings()


def _events():
    return db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def test_the_key_file_is_created_private_on_first_use_and_names_each_event(app, factory, own_keys):
    assert not own_keys.exists()
    factory.contractor()
    assert stat.S_IMODE(own_keys.stat().st_mode) == 0o600
    ring = json.loads(own_keys.read_text())
    events = _events()
    assert events and {event.key_id for event in events} == {ring["current"]}
    assert all(event.hash != event_hash({}, GENESIS_HASH) for event in events)
    assert verify_audit_log() == (len(events), None)


def test_rotation_keys_later_events_with_the_new_key_and_old_events_still_verify(app, factory, own_keys):
    factory.contractor()
    old = keyring().current_id
    result = app.test_cli_runner().invoke(args=["rotate-audit-key"])
    assert result.exit_code == 0, result.output
    new = keyring().current_id
    assert new != old and set(keyring().keys) == {old, new}
    factory.contractor()
    events = _events()
    rotation = next(event for event in events if event.action == "rotate_key")
    assert rotation.changes == {"old_key_id": old, "new_key_id": new} and rotation.key_id == new
    assert {event.key_id for event in events if event.id < rotation.id} == {old}
    assert {event.key_id for event in events if event.id > rotation.id} == {new}
    assert verify_audit_log()[1] is None
    assert app.test_cli_runner().invoke(args=["verify-audit-log"]).exit_code == 0


def test_another_process_picks_up_a_rotation_at_its_next_append(app, factory, own_keys, _schema):
    factory.contractor()
    other = create_app({**_schema, "TESTING": True, "AUDIT_KEY_FILE": str(own_keys),
                        "AUDIT_ANCHOR_FILE": app.config["AUDIT_ANCHOR_FILE"]})
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["rotate-audit-key"])
        assert result.exit_code == 0, result.output
        rotated = json.loads(own_keys.read_text())["current"]
        db.session.remove()
    factory.contractor()  # this app read the ring before the rotation
    assert _events()[-1].key_id == rotated


def test_without_its_old_key_the_chain_does_not_verify(app, factory, own_keys):
    factory.contractor()
    old = keyring().current_id
    data = json.loads(own_keys.read_text())
    data["keys"] = [{"id": "20990101-00000000", "secret": "ab" * 32, "created_at": "2099-01-01T00:00:00Z"}]
    data["current"] = "20990101-00000000"
    own_keys.write_text(json.dumps(data))
    forget_cached_rings()
    checked, broken = verify_audit_log()
    assert broken is not None and old in broken.reason and "没有的密钥" in broken.reason


def test_keys_from_the_setting_sign_and_refuse_rotation_from_the_command_line(app, factory):
    app.config.update(AUDIT_KEYS={"vault-1": "11" * 32, "vault-2": "22" * 32}, AUDIT_KEY_ID="vault-2")
    try:
        factory.contractor()
        assert {event.key_id for event in _events()} == {"vault-2"}
        assert verify_audit_log()[1] is None
        result = app.test_cli_runner().invoke(args=["rotate-audit-key"])
        assert result.exit_code != 0 and "AUDIT_KEYS" in result.output
        app.config["AUDIT_KEY_ID"] = None
        with pytest.raises(AuditKeyError, match="AUDIT_KEY_ID"):
            keyring()
    finally:
        app.config.update(AUDIT_KEYS=None, AUDIT_KEY_ID=None)


def _legacy_events(n: int) -> list[str]:
    """Events as the code before keying wrote them (plain SHA-256, no key id), below the ORM."""
    table, prev, hashes = AuditEvent.__table__, GENESIS_HASH, []
    for i in range(n):
        fields = {"occurred_at": datetime(2025, 6, 1, 8, i), "user_id": None, "actor": "legacy",
                  "action": "update", "object_type": "Contract", "object_id": str(i), "changes": {"n": i},
                  "ip_address": None}
        digest = event_hash(fields, prev)
        db.session.execute(table.insert().values(**fields, prev_hash=prev, hash=digest, key_id=None))
        hashes.append(digest)
        prev = digest
    db.session.commit()
    return hashes


def test_the_first_write_after_the_upgrade_seals_the_legacy_events(app, factory):
    hashes = _legacy_events(5)
    assert verify_audit_log() == (5, None)
    factory.contractor()
    events = _events()
    seal = events[5]
    assert (seal.action, seal.object_type, seal.prev_hash) == ("seal_legacy", "AuditLog", hashes[-1])
    assert seal.changes["legacy_events"] == 5 and seal.changes["legacy_head"] == hashes[-1]
    assert {event.key_id for event in events[5:]} == {keyring().current_id}
    assert sum(event.action == "seal_legacy" for event in events) == 1
    checked, broken = verify_audit_log()
    assert broken is None and checked == len(events)


def test_seal_audit_log_seals_and_anchors_at_once(app):
    _legacy_events(3)
    result = app.test_cli_runner().invoke(args=["seal-audit-log"])
    assert result.exit_code == 0, result.output
    assert "已封存 3 条" in result.output
    actions = [event.action for event in _events()]
    assert actions == ["update"] * 3 + ["seal_legacy", "anchor"]
    again = app.test_cli_runner().invoke(args=["seal-audit-log"])
    assert again.exit_code == 0 and "没有待封存" in again.output
    verified = app.test_cli_runner().invoke(args=["verify-audit-log"])
    assert verified.exit_code == 0 and "3 条为启用密钥前的旧式事件" in verified.output
