from datetime import datetime

from oversight.domain.audit_chain import GENESIS_HASH, event_hash, verify_chain


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
