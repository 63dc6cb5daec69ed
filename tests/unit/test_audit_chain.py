from datetime import datetime

from oversight.domain.audit_chain import (
    CHANGED,
    GENESIS_HASH,
    UNKEYED_AFTER_KEYED,
    ChainBreak,
    ChainEvent,
    ChainVerifier,
    event_hash,
    event_mac,
    verify_chain,
)


def _chain(n: int):
    events, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        fields = {"occurred_at": datetime(2025, 1, i), "actor": "admin", "action": "update",
                  "object_type": "Contract", "object_id": str(i), "changes": {"amount": {"before": i, "after": i + 1}}}
        digest = event_hash(fields, prev)
        events.append((i, fields, prev, digest))
        prev = digest
    return events


def test_an_intact_chain_verifies():
    assert verify_chain(_chain(5)) is None


def test_a_changed_field_breaks_the_chain_at_that_event():
    events = _chain(5)
    event_id, fields, prev, digest = events[2]
    events[2] = (event_id, {**fields, "actor": "someone-else"}, prev, digest)
    broken = verify_chain(events)
    assert broken.event_id == 3 and "改动" in broken.reason


def test_a_deleted_event_breaks_the_chain_at_its_successor():
    events = _chain(5)
    del events[1]
    assert verify_chain(events).event_id == 3


def test_hash_does_not_depend_on_key_order():
    a = event_hash({"x": 1, "y": {"b": 2, "a": 1}}, GENESIS_HASH)
    b = event_hash({"y": {"a": 1, "b": 2}, "x": 1}, GENESIS_HASH)
    assert a == b


# --- the keyed chain ----------------------------------------------------------------------------

KEYS = {"k1": b"a" * 32, "k2": b"b" * 32}


def _keyed(n: int, key_id: str = "k1", start=None):
    """n keyed events, following `start` (a legacy chain) when given."""
    events = list(start or [])
    prev = events[-1][3] if events else GENESIS_HASH
    for i in range(len(events) + 1, len(events) + n + 1):
        fields = {"occurred_at": datetime(2025, 2, 1), "actor": "admin", "action": "update",
                  "object_type": "Contract", "object_id": str(i), "changes": {"n": i}}
        mac = event_mac(fields, prev, key_id, KEYS[key_id])
        events.append((i, fields, prev, mac, key_id))
        prev = mac
    return events


def test_a_keyed_chain_verifies_only_with_its_key():
    events = _keyed(4)
    assert verify_chain(events, KEYS) is None
    broken = verify_chain(events, {"k1": b"c" * 32})
    assert broken.event_id == 1 and "改动" in broken.reason
    assert "没有的密钥" in verify_chain(events, {}).reason


def test_an_event_forged_with_a_plain_hash_is_caught():
    events = _keyed(3)
    fields = {"actor": "mallory", "action": "delete", "object_type": "Contract", "object_id": "9", "changes": {}}
    forged_legacy = (4, fields, events[-1][3], event_hash(fields, events[-1][3]), None)
    assert verify_chain(events + [forged_legacy], KEYS).reason == UNKEYED_AFTER_KEYED
    forged_keyed = (4, fields, events[-1][3], event_hash(fields, events[-1][3]), "k1")
    assert verify_chain(events + [forged_keyed], KEYS) == ChainBreak(4, CHANGED)


def test_the_key_id_is_covered_by_the_mac():
    events = _keyed(3)
    event_id, fields, prev, mac, _ = events[1]
    events[1] = (event_id, fields, prev, mac, "k2")
    assert verify_chain(events, KEYS) == ChainBreak(2, CHANGED)


def test_legacy_events_may_only_start_the_chain_and_the_seal_covers_them():
    sealed = _keyed(2, start=_chain(3))
    assert verify_chain(sealed, KEYS) is None
    verifier = ChainVerifier(KEYS)
    for event in sealed:
        assert verifier.add(ChainEvent(*event)) is None
    assert (verifier.count, verifier.legacy, verifier.head.last_id) == (5, 3, 5)
    # A legacy event rewritten and its legacy chain recomputed no longer meets the seal.
    rewritten = _chain(3)
    event_id, fields, _prev, _digest = rewritten[1]
    prev = rewritten[0][3]
    rewritten[1] = (event_id, {**fields, "actor": "mallory"}, prev, event_hash({**fields, "actor": "mallory"}, prev))
    rewritten[2] = (3, rewritten[2][1], rewritten[1][3], event_hash(rewritten[2][1], rewritten[1][3]))
    assert verify_chain(rewritten + sealed[3:], KEYS).event_id == 4


def test_a_rotated_key_continues_the_chain():
    first = _keyed(2, "k1")
    events = _keyed(2, "k2", start=first)
    assert [event[4] for event in events] == ["k1", "k1", "k2", "k2"]
    assert verify_chain(events, KEYS) is None


def test_the_verifier_remembers_where_watched_events_stood():
    verifier = ChainVerifier(KEYS, watch={2, 7})
    for event in _keyed(4):
        verifier.add(ChainEvent(*event))
    assert set(verifier.seen) == {2} and verifier.seen[2][0] == 2
