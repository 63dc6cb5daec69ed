"""The audit log's hash chain: each event carries the SHA-256 of itself and its predecessor."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from collections.abc import Iterable, Mapping

GENESIS_HASH = "0" * 64
# Exactly these types are written as they are; a list of them (a review's thousands of record
# ids) is copied without a call per item.
_PLAIN_TYPES = frozenset({type(None), bool, int, str})


def to_json_value(value: object) -> object:
    """A value as it is written into an event's `changes` (JSON-safe, stable)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [item if type(item) in _PLAIN_TYPES else to_json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if callable(getattr(value, "to_json", None)):  # typed stored values (review and evaluation figures)
        return to_json_value(value.to_json())
    return str(value)


def event_hash(fields: Mapping[str, object], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of an event's fields and the previous hash."""
    canonical = json.dumps(
        {**{key: to_json_value(value) for key, value in fields.items()}, "prev_hash": prev_hash},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose stored hashes do not match the recomputed chain."""

    event_id: int
    reason: str


def verify_chain(events: Iterable[tuple[int, Mapping[str, object], str, str]]) -> ChainBreak | None:
    """Check events given in id order as (id, fields, prev_hash, hash); None when intact."""
    expected_prev = GENESIS_HASH
    for event_id, fields, prev_hash, stored_hash in events:
        if prev_hash != expected_prev:
            return ChainBreak(event_id, "前一条事件的哈希不符（有事件被删除、插入或改动）")
        if event_hash(fields, prev_hash) != stored_hash:
            return ChainBreak(event_id, "事件内容与其哈希不符（事件被改动）")
        expected_prev = stored_hash
    return None
