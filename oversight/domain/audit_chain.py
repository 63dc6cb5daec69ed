"""The audit log's chain: each event carries a MAC over itself and its predecessor's MAC.

A keyed event's MAC is HMAC-SHA256, under a key kept outside the database, of the canonical
JSON of its fields, its key id and the previous MAC; someone who can write to the database but
does not hold the key can neither forge an event nor recompute the chain after a change.

Events written before keying ("legacy" events, key id None) carry a plain SHA-256 of the same
JSON without a key id. They may only form the start of the chain: the first keyed event after
them (the seal) covers the last legacy hash, so rewriting them breaks the seal, and an unkeyed
event after a keyed one is a forgery.

There is one chain per county and one for rows of no county (the city chain, `county_id` None):
each event's MAC covers the previous MAC of its own chain and, for a county's event, the county's
id, so an event moved into another chain no longer verifies there. Legacy events can only start
the city chain (the single chain of a database from before the counties continues as it).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

GENESIS_HASH = "0" * 64
# Exactly these types are written as they are; a list or mapping of them (a review's thousands of record
# ids, its fingerprint's row digests) is copied without a call per item.
_PLAIN_TYPES = frozenset({type(None), bool, int, str})

CHANGED = "事件内容与其哈希不符（事件被改动，或被移到了别的审计链）"
RELINKED = "前一条事件的哈希不符（有事件被删除、插入或改动）"
UNKEYED_AFTER_KEYED = "启用密钥后出现了未加密钥的事件（事件被伪造或改写）"
UNKEYED_IN_COUNTY = "区县的审计链中出现了未加密钥的事件（区县的审计链自始加密钥：事件被伪造或改写）"
CITY_CHAIN = "市级审计链"


def to_json_value(value: object) -> object:
    """A value as it is written into an event's `changes` (JSON-safe, stable)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        if _PLAIN_TYPES.issuperset(map(type, value)):  # a review's thousands of record ids: copied by one C call
            return list(value)
        return [item if type(item) in _PLAIN_TYPES else to_json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): item if type(item) in _PLAIN_TYPES else to_json_value(item) for key, item in value.items()}
    if callable(getattr(value, "to_json", None)):  # typed stored values (review and evaluation figures)
        return to_json_value(value.to_json())
    return str(value)


def _canonical(fields: Mapping[str, object], prev_hash: str, key_id: str | None, county_id: int | None) -> bytes:
    body = {key: to_json_value(value) for key, value in fields.items()}
    if key_id is not None:
        body["key_id"] = key_id
    if county_id is not None:  # the city chain's events (and every legacy one) are written as before
        body["county_id"] = county_id
    body["prev_hash"] = prev_hash
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def event_hash(fields: Mapping[str, object], prev_hash: str, county_id: int | None = None) -> str:
    """A legacy (unkeyed) event's SHA-256 over the canonical JSON of its fields and the previous hash."""
    return hashlib.sha256(_canonical(fields, prev_hash, None, county_id)).hexdigest()


def event_mac(fields: Mapping[str, object], prev_hash: str, key_id: str, secret: bytes,
              county_id: int | None = None) -> str:
    """A keyed event's HMAC-SHA256 under `secret` over its fields, its key id, its county (none for
    the city chain) and the previous MAC of its chain."""
    return hmac.new(secret, _canonical(fields, prev_hash, key_id, county_id), hashlib.sha256).hexdigest()


class ChainEvent(NamedTuple):
    """One stored event as the verifier reads it; `key_id` None for a legacy event, `county_id`
    the chain it is in (None: the city chain)."""

    id: int
    fields: Mapping[str, object]
    prev_hash: str
    hash: str
    key_id: str | None = None
    county_id: int | None = None


@dataclass(frozen=True)
class ChainBreak:
    """The first event (or anchored event) whose stored values do not match; `event_id` None
    when the problem is not about one event (an unreadable anchor)."""

    event_id: int | None
    reason: str
    chain: str | None = None  # the chain it is in, by name ("赣县区审计链"), when there are several

    def describe(self) -> str:
        told = f"事件 #{self.event_id}：{self.reason}" if self.event_id is not None else self.reason
        return f"{self.chain}，{told}" if self.chain else told


@dataclass(frozen=True)
class ChainHead:
    """Where a chain ends: its last event's id (0 when empty) and MAC, and how many events it
    holds; `county_id` names the chain (None: the city chain)."""

    last_id: int
    last_hash: str
    events: int
    county_id: int | None = None


class ChainVerifier:
    """Checks events fed in id order; remembers, for the ids in `watch`, how many events led up
    to them and their MAC (what an anchor is compared with)."""

    def __init__(self, keys: Mapping[str, bytes] | None = None, watch: Iterable[int] = (),
                 county_id: int | None = None):
        self.county_id = county_id
        self.keys = dict(keys or {})
        self.watch = frozenset(watch)
        self.seen: dict[int, tuple[int, str]] = {}
        self.count = 0
        self.legacy = 0
        self.last_id = 0
        self.last_hash = GENESIS_HASH
        self.keyed = False

    def add(self, event: ChainEvent) -> ChainBreak | None:
        """Check one event; a ChainBreak when it does not follow or does not match."""
        if event.prev_hash != self.last_hash:
            return ChainBreak(event.id, RELINKED)
        if event.key_id is None:
            if self.county_id is not None:
                return ChainBreak(event.id, UNKEYED_IN_COUNTY)
            if self.keyed:
                return ChainBreak(event.id, UNKEYED_AFTER_KEYED)
            expected = event_hash(event.fields, event.prev_hash)
            self.legacy += 1
        else:
            secret = self.keys.get(event.key_id)
            if secret is None:
                return ChainBreak(event.id, f"使用了本系统没有的密钥“{event.key_id}”（事件被伪造，或缺少该密钥）")
            expected = event_mac(event.fields, event.prev_hash, event.key_id, secret, self.county_id)
            self.keyed = True
        if not hmac.compare_digest(expected, str(event.hash)):
            return ChainBreak(event.id, CHANGED)
        self.count += 1
        self.last_id, self.last_hash = event.id, event.hash
        if event.id in self.watch:
            self.seen[event.id] = (self.count, event.hash)
        return None

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.last_id, self.last_hash, self.count, self.county_id)


def chain_order(county_id: int | None) -> tuple[bool, int]:
    """The order of chains wherever they are listed: the city chain first, then counties by id."""
    return (county_id is not None, county_id or 0)


class ChainSet:
    """Every chain of the log, checked from events fed in id order (interleaved across chains):
    each event goes to its own chain's verifier. `name_of` names a chain in its problems."""

    def __init__(self, keys: Mapping[str, bytes] | None = None, watch: Iterable[int] = (),
                 name_of: Callable[[int | None], str] | None = None):
        self.keys = dict(keys or {})
        self.watch = frozenset(watch)
        self.name_of = name_of or default_chain_name
        self.chains: dict[int | None, ChainVerifier] = {}

    def chain(self, county_id: int | None) -> ChainVerifier:
        verifier = self.chains.get(county_id)
        if verifier is None:
            verifier = self.chains[county_id] = ChainVerifier(self.keys, self.watch, county_id)
        return verifier

    def add(self, event: ChainEvent) -> ChainBreak | None:
        verifier = self.chain(event.county_id)
        broken = verifier.add(event)
        if broken is not None:
            return replace(broken, chain=self.name_of(event.county_id))
        return None

    @property
    def count(self) -> int:
        return sum(verifier.count for verifier in self.chains.values())

    @property
    def legacy(self) -> int:
        return sum(verifier.legacy for verifier in self.chains.values())

    @property
    def keyed(self) -> bool:
        return any(verifier.keyed for verifier in self.chains.values())

    @property
    def last_id(self) -> int:
        return max((verifier.last_id for verifier in self.chains.values()), default=0)

    def heads(self) -> dict[int | None, ChainHead]:
        """Each chain's head, the city chain's always (empty: id 0, the genesis hash)."""
        found = {county: verifier.head for county, verifier in self.chains.items()}
        found.setdefault(None, ChainHead(0, GENESIS_HASH, 0))
        return dict(sorted(found.items(), key=lambda item: chain_order(item[0])))

    def seen(self) -> dict[int | None, dict[int, tuple[int, str]]]:
        return {county: verifier.seen for county, verifier in self.chains.items()}


def default_chain_name(county_id: int | None) -> str:
    return CITY_CHAIN if county_id is None else f"区县 #{county_id} 的审计链"


def verify_chain(events: Iterable[tuple], keys: Mapping[str, bytes] | None = None) -> ChainBreak | None:
    """Check events given in id order as (id, fields, prev_hash, hash[, key_id]); None when intact."""
    verifier = ChainVerifier(keys)
    for event in events:
        broken = verifier.add(ChainEvent(*event))
        if broken is not None:
            return broken
    return None
