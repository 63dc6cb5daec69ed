import hashlib
import hmac
import json
from datetime import datetime, timedelta, UTC

import pytest

from oversight.domain.audit_anchors import (
    SINGLE_CHAIN_FORMAT,
    InvalidAnchor,
    anchor_breaks,
    anchor_from_json,
    epoch_in_force,
    root_hash,
    sign_anchor,
    signature_problem,
)
from oversight.domain.audit_chain import (
    GENESIS_HASH,
    UNKEYED_IN_COUNTY,
    ChainEvent,
    ChainHead,
    ChainSet,
    ChainVerifier,
    event_hash,
    event_mac,
)

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


@pytest.mark.parametrize("field, value", [("anchored_at", "2026-12-02T01:00:00.000000Z"), ("reason", "restore"),
                                          ("root_hash", "f" * 64)])
def test_any_changed_field_invalidates_the_signature(field, value):
    forged = anchor_from_json({**_anchor_of(_chain(3)).as_json(), field: value})
    assert "签名无效" in signature_problem(forged, KEYS)


@pytest.mark.parametrize("field, value", [("events", 2), ("last_id", 2), ("last_hash", "f" * 64), ("county_id", 7)])
def test_any_changed_head_invalidates_the_signature(field, value):
    data = _anchor_of(_chain(3)).as_json()
    data["heads"] = [{**data["heads"][0], field: value}]
    assert "签名无效" in signature_problem(anchor_from_json(data), KEYS)


def test_an_unknown_key_and_a_malformed_anchor_are_named():
    anchor = _anchor_of(_chain(1))
    assert "没有的密钥" in signature_problem(anchor, {})
    data = anchor.as_json()
    with pytest.raises(InvalidAnchor):
        anchor_from_json({**data, "heads": [{**data["heads"][0], "events": "3"}]})
    with pytest.raises(InvalidAnchor):
        anchor_from_json({**data, "heads": data["heads"] * 2})
    with pytest.raises(InvalidAnchor):
        anchor_from_json({**data, "heads": []})
    with pytest.raises(InvalidAnchor):
        anchor_from_json({"format": "something else"})


def _single_chain_anchor(head: ChainHead, moment: datetime, reason: str = "daily") -> dict:
    """An anchor as written before the counties (format /1), signed as it was then."""
    values = {"format": SINGLE_CHAIN_FORMAT, "last_id": head.last_id, "last_hash": head.last_hash,
              "events": head.events, "anchored_at": moment.isoformat(timespec="microseconds") + "Z",
              "key_id": "k1", "reason": reason, "bundle_sha256": None}
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return {**values, "signature": hmac.new(KEYS["k1"], payload, hashlib.sha256).hexdigest()}


def test_an_anchor_from_before_the_counties_still_verifies_as_the_city_chain_s():
    events = _chain(5)
    old = anchor_from_json(_single_chain_anchor(ChainHead(4, events[3].hash, 4), T0))
    assert signature_problem(old, KEYS) is None and old.root_hash is None
    assert old.heads == (ChainHead(4, events[3].hash, 4),) and old.as_json()["format"] == SINGLE_CHAIN_FORMAT
    verifier = _verified(events, [old])
    assert anchor_breaks(verifier.head, verifier.seen, [old]) == []
    (broken,) = anchor_breaks(_verified(events[:3], [old]).head, {}, [old])
    assert broken.event_id == 4 and "末尾的事件被删除" in broken.reason
    forged = anchor_from_json({**_single_chain_anchor(ChainHead(4, events[3].hash, 4), T0), "events": 3})
    assert "签名无效" in signature_problem(forged, KEYS)


def test_the_root_hash_is_sha256_of_the_sorted_head_lines():
    heads = [ChainHead(9, "b" * 64, 4, 12), ChainHead(8, "a" * 64, 5), ChainHead(7, "c" * 64, 2, 3)]
    anchor = sign_anchor(heads, T0, "daily", "k1", KEYS["k1"])
    text = f"city:8:{'a' * 64}:5\n3:7:{'c' * 64}:2\n12:9:{'b' * 64}:4"
    assert anchor.root_hash == root_hash(heads) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert [head.county_id for head in anchor.heads] == [None, 3, 12]
    assert anchor.last_id == 9 and anchor.events == 11
    only_counties = sign_anchor(heads[::2], T0, "daily", "k1", KEYS["k1"])
    assert only_counties.heads[0] == ChainHead(0, GENESIS_HASH, 0)  # the city chain always listed


def _county_chain(county: int, ids, keys=KEYS):
    events, prev = [], GENESIS_HASH
    for i in ids:
        fields = {"action": "update", "object_id": str(i)}
        mac = event_mac(fields, prev, "k1", keys["k1"], county)
        events.append(ChainEvent(i, fields, prev, mac, "k1", county))
        prev = mac
    return events


def test_a_chain_set_checks_each_county_s_chain_on_its_own_and_names_the_county():
    city, north, south = _county_chain(None, [1, 4, 6]), _county_chain(3, [2, 5]), _county_chain(8, [3, 7])
    interleaved = sorted(city + north + south, key=lambda event: event.id)
    chains = ChainSet(KEYS, watch={6, 5, 7}, name_of=lambda county: f"县{county}")
    assert all(chains.add(event) is None for event in interleaved)
    heads = chains.heads()
    assert list(heads) == [None, 3, 8] and heads[3] == ChainHead(5, north[-1].hash, 2, 3)
    anchor = sign_anchor(heads.values(), T0, "daily", "k1", KEYS["k1"])
    assert anchor_breaks(heads, chains.seen(), [anchor]) == []

    moved = ChainSet(KEYS, name_of=lambda county: f"县{county}")
    for event in interleaved:  # south's first event put into north's chain, MAC and link as they were
        broken = moved.add(event._replace(county_id=3) if event.id == 3 else event)
        if broken:
            break
    assert broken.event_id == 3 and broken.chain == "县3" and "县3，事件 #3" in broken.describe()

    cut = ChainSet(KEYS, watch={head.last_id for head in anchor.heads}, name_of=lambda county: f"县{county}")
    for event in interleaved:
        if event.id != 7:  # south's last event deleted
            cut.add(event)
    (broken,) = anchor_breaks(cut.heads(), cut.seen(), [anchor], name_of=lambda county: f"县{county}")
    assert broken.chain == "县8" and broken.event_id == 7 and "末尾的事件被删除" in broken.reason


def test_a_legacy_event_cannot_start_a_county_s_chain():
    fields = {"action": "update"}
    legacy = ChainEvent(1, fields, GENESIS_HASH, event_hash(fields, GENESIS_HASH, 3), None, 3)
    assert ChainSet(KEYS).add(legacy).reason == UNKEYED_IN_COUNTY
    assert ChainSet(KEYS).add(legacy._replace(county_id=None, hash=event_hash(fields, GENESIS_HASH))) is None


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


def test_an_anchor_is_described_on_the_county_s_clock():
    anchor = _anchor_of(_chain(3), moment=datetime(2026, 12, 6, 23, 1, 30))  # stored UTC
    assert anchor.describe().startswith("2026-12-07 07:01:30（北京时间）的锚点")
    assert "UTC" not in anchor.describe()
