from datetime import datetime, timedelta, UTC

import pytest

from oversight.domain.audit_anchors import (
    InvalidAnchor,
    anchor_breaks,
    anchor_from_json,
    epoch_in_force,
    sign_anchor,
    signature_problem,
)
from oversight.domain.audit_chain import GENESIS_HASH, ChainEvent, ChainHead, ChainVerifier, event_mac

KEYS = {"k1": b"k" * 32}
T0 = datetime(2026, 12, 1, 1, 0)


def _chain(n: int):
    events, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        fields = {"action": "update", "object_id": str(i)}
        mac = event_mac(fields, prev, "k1", KEYS["k1"])
        events.append(ChainEvent(i, fields, prev, mac, "k1"))
        prev = mac
    return events


def _verified(events, anchors):
    verifier = ChainVerifier(KEYS, watch={anchor.last_id for anchor in anchors})
    for event in events:
        assert verifier.add(event) is None
    return verifier


def _anchor_of(events, moment=T0, reason="daily"):
    head = ChainHead(events[-1].id, events[-1].hash, len(events)) if events else ChainHead(0, GENESIS_HASH, 0)
    return sign_anchor(head, moment, reason, "k1", KEYS["k1"])


def test_a_signed_anchor_round_trips_and_verifies():
    anchor = _anchor_of(_chain(3))
    again = anchor_from_json(anchor.as_json())
    assert again == anchor and signature_problem(again, KEYS) is None
    assert again.anchored_at == "2026-12-01T01:00:00.000000Z"


@pytest.mark.parametrize("field, value", [("events", 2), ("last_id", 2), ("last_hash", "f" * 64),
                                          ("anchored_at", "2026-12-02T01:00:00.000000Z"), ("reason", "restore")])
def test_any_changed_field_invalidates_the_signature(field, value):
    forged = anchor_from_json({**_anchor_of(_chain(3)).as_json(), field: value})
    assert "签名无效" in signature_problem(forged, KEYS)


def test_an_unknown_key_and_a_malformed_anchor_are_named():
    anchor = _anchor_of(_chain(1))
    assert "没有的密钥" in signature_problem(anchor, {})
    with pytest.raises(InvalidAnchor):
        anchor_from_json({**anchor.as_json(), "events": "3"})
    with pytest.raises(InvalidAnchor):
        anchor_from_json({"format": "something else"})


def test_an_intact_chain_holds_its_anchors_and_more_events_after_them():
    events = _chain(10)
    anchors = [_anchor_of(events[:4]), _anchor_of(events[:7], T0 + timedelta(days=1))]
    verifier = _verified(events, anchors)
    assert anchor_breaks(verifier.head, verifier.seen, anchors) == []


def test_truncation_below_the_anchor_is_caught():
    events = _chain(10)
    anchor = _anchor_of(events[:8])
    verifier = _verified(events[:5], [anchor])
    (broken,) = anchor_breaks(verifier.head, verifier.seen, [anchor])
    assert broken.event_id == 8 and "末尾的事件被删除" in broken.reason


def test_an_empty_chain_with_an_anchor_is_an_error_but_an_anchor_of_the_empty_chain_is_not():
    anchor = _anchor_of(_chain(3))
    verifier = _verified([], [anchor])
    (broken,) = anchor_breaks(verifier.head, verifier.seen, [anchor])
    assert "为空" in broken.reason and "3 条事件" in broken.reason
    empty = _anchor_of([])
    assert anchor_breaks(verifier.head, verifier.seen, [empty]) == []


def test_a_rewritten_chain_differs_from_the_anchor_in_mac_or_count():
    events = _chain(6)
    anchor = _anchor_of(events[:5])
    other = [ChainEvent(event.id, {**event.fields, "actor": "x"}, event.prev_hash, event.hash, "k1")
             for event in events]
    rebuilt, prev = [], GENESIS_HASH  # the same ids, re-MACed (as by someone holding the key)
    for event in other:
        mac = event_mac(event.fields, prev, "k1", KEYS["k1"])
        rebuilt.append(ChainEvent(event.id, event.fields, prev, mac, "k1"))
        prev = mac
    verifier = _verified(rebuilt, [anchor])
    (broken,) = anchor_breaks(verifier.head, verifier.seen, [anchor])
    assert broken.event_id == 5 and "不符" in broken.reason


def test_the_epoch_in_force_starts_at_the_last_restore():
    events = _chain(3)
    daily = _anchor_of(events, T0)
    restore = _anchor_of(events[:1], T0 + timedelta(hours=1), "restore")
    later = _anchor_of(events[:2], T0 + timedelta(hours=2))
    assert epoch_in_force([later, daily, restore]) == [restore, later]
    until = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert epoch_in_force([later, daily, restore], until=until) == [daily]
