"""Anchors: signed heads of the audit chains kept outside their table.

An anchor states, at a moment, every chain's head — for the city chain and each county's: its
last event id, that event's MAC and how many events the chain holds — and one root hash over
the heads, signed (HMAC-SHA256) with an audit key. Kept where a database writer cannot reach
(the instance folder, the audit bundle, the auditor's mail), it makes a truncated, emptied or
rewritten chain show: each anchored event must still be there, in its chain, with the same MAC,
after the same number of events of that chain.

The root hash (`root_hash`) is SHA-256 of the UTF-8 text of one line per head, joined by "\n"
(no newline at the end), city chain first, then counties by ascending id:
    <chain>:<last_id>:<last_hash>:<events>
where <chain> is `city` for the city chain and the county's id (areas.id, decimal) otherwise;
e.g. "city:812:9f…:640\n3:811:07…:172". Anchors of format /1 (from before the counties) hold
one head, the city chain's (the single chain of that time), and no root.

A restore or a reset legitimately replaces the chain; its anchor (reason `restore`/`reset`)
starts a new epoch, and only the anchors of the epoch in force are compared with the chain.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, UTC

from ..clock import to_county
from .audit_chain import GENESIS_HASH, ChainBreak, ChainHead, chain_order, default_chain_name
from .vocabulary import AnchorReason

ANCHOR_FORMAT = "oversight-audit-anchor/2"
SINGLE_CHAIN_FORMAT = "oversight-audit-anchor/1"  # read and verified, no longer written
# Reasons whose anchor starts a new epoch: the chain before them is no longer the live one.
REBASING = frozenset({AnchorReason.RESTORE, AnchorReason.RESET})
_SINGLE_FIELDS = ("format", "last_id", "last_hash", "events", "anchored_at", "key_id", "reason", "bundle_sha256")
_FIELDS = ("format", "heads", "root_hash", "anchored_at", "key_id", "reason", "bundle_sha256")
CITY_KEY = "city"


class InvalidAnchor(ValueError):
    """An anchor record that is not well-formed; the message is Chinese."""


def chain_key(county_id: int | None) -> str:
    return CITY_KEY if county_id is None else str(county_id)


def sorted_heads(heads: Iterable[ChainHead]) -> tuple[ChainHead, ...]:
    return tuple(sorted(heads, key=lambda head: chain_order(head.county_id)))


def root_hash(heads: Iterable[ChainHead]) -> str:
    """The root over every chain's head (the formula is in this module's docstring)."""
    lines = [f"{chain_key(head.county_id)}:{head.last_id}:{head.last_hash}:{head.events}"
             for head in sorted_heads(heads)]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _head_json(head: ChainHead) -> dict:
    return {"county_id": head.county_id, "last_id": head.last_id, "last_hash": head.last_hash, "events": head.events}


@dataclass(frozen=True)
class Anchor:
    heads: tuple[ChainHead, ...]  # city chain first, then counties by id
    root_hash: str | None  # None in a single-chain (/1) anchor
    anchored_at: str  # ISO 8601 UTC with a Z, microseconds
    key_id: str
    reason: str
    signature: str
    bundle_sha256: str | None = None  # an export's anchor also signs the bundle's other files
    format: str = ANCHOR_FORMAT

    @property
    def moment(self) -> datetime:
        return parse_moment(self.anchored_at)

    @property
    def last_id(self) -> int:
        """The last event anchored, whatever its chain."""
        return max((head.last_id for head in self.heads), default=0)

    @property
    def events(self) -> int:
        """The events anchored, in all chains."""
        return sum(head.events for head in self.heads)

    def head_of(self, county_id: int | None) -> ChainHead | None:
        return next((head for head in self.heads if head.county_id == county_id), None)

    @property
    def head(self) -> ChainHead:
        """The city chain's head (the only one of a single-chain anchor)."""
        return self.head_of(None) or ChainHead(0, GENESIS_HASH, 0)

    def as_json(self) -> dict:
        values = {"format": self.format, "anchored_at": self.anchored_at, "key_id": self.key_id,
                  "reason": self.reason, "signature": self.signature, "bundle_sha256": self.bundle_sha256}
        if self.format == SINGLE_CHAIN_FORMAT:
            head = self.head
            return {**values, "last_id": head.last_id, "last_hash": head.last_hash, "events": head.events}
        return {**values, "heads": [_head_json(head) for head in self.heads], "root_hash": self.root_hash}

    def describe(self) -> str:
        when = to_county(self.moment).strftime("%Y-%m-%d %H:%M:%S")
        chains = f"{len(self.heads)} 条审计链，" if len(self.heads) > 1 else ""
        return f"{when}（北京时间）的锚点（{chains}至事件 #{self.last_id}，共 {self.events} 条）"


def format_moment(moment: datetime) -> str:
    """A naive-UTC or aware datetime as the anchors write it: 2026-12-01T09:00:00.000000Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def parse_moment(text: str) -> datetime:
    """An anchor's or bundle's time stamp as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _payload(values: Mapping[str, object]) -> bytes:
    names = _SINGLE_FIELDS if values.get("format") == SINGLE_CHAIN_FORMAT else _FIELDS
    body = {name: values.get(name) for name in names}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign_anchor(heads: Iterable[ChainHead] | ChainHead, moment: datetime, reason: str, key_id: str, secret: bytes,
                bundle_sha256: str | None = None) -> Anchor:
    """The signed anchor of every chain's head (a single head: the city chain's) at `moment`."""
    heads = sorted_heads([heads] if isinstance(heads, ChainHead) else heads)
    if all(head.county_id is not None for head in heads):
        heads = sorted_heads([ChainHead(0, GENESIS_HASH, 0), *heads])
    values = {"format": ANCHOR_FORMAT, "heads": [_head_json(head) for head in heads], "root_hash": root_hash(heads),
              "anchored_at": format_moment(moment), "key_id": key_id, "reason": str(reason),
              "bundle_sha256": bundle_sha256}
    signature = hmac.new(secret, _payload(values), hashlib.sha256).hexdigest()
    return Anchor(heads, values["root_hash"], values["anchored_at"], key_id, str(reason), signature, bundle_sha256)


def _is(value: object, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _heads_from_json(data: dict) -> tuple[ChainHead, ...]:
    if data["format"] == SINGLE_CHAIN_FORMAT:
        listed = [{"county_id": None, "last_id": data["last_id"], "last_hash": data["last_hash"],
                   "events": data["events"]}]
    else:
        listed = data["heads"]
        if not isinstance(listed, list) or not listed:
            raise InvalidAnchor("锚点的链头列表 heads 为空或不是列表")
    heads = []
    for item in listed:
        if not isinstance(item, dict):
            raise InvalidAnchor("锚点的链头不是对象")
        head = ChainHead(item.get("last_id"), item.get("last_hash"), item.get("events"), item.get("county_id"))
        if not (_is(head.last_id, int) and _is(head.events, int) and _is(head.last_hash, str)
                and (head.county_id is None or _is(head.county_id, int))):
            raise InvalidAnchor("锚点链头字段的类型不对")
        heads.append(head)
    if len({head.county_id for head in heads}) != len(heads):
        raise InvalidAnchor("锚点中同一审计链出现了两次")
    return sorted_heads(heads)


def anchor_from_json(data: object) -> Anchor:
    """An anchor read back from JSON (either format); InvalidAnchor when a field is missing or of the wrong kind."""
    if not isinstance(data, dict) or data.get("format") not in (ANCHOR_FORMAT, SINGLE_CHAIN_FORMAT):
        raise InvalidAnchor(f"不是 {ANCHOR_FORMAT} 格式的锚点")
    try:
        anchor = Anchor(heads=_heads_from_json(data), root_hash=data.get("root_hash"),
                        anchored_at=data["anchored_at"], key_id=data["key_id"], reason=data["reason"],
                        signature=data["signature"], bundle_sha256=data.get("bundle_sha256"), format=data["format"])
    except KeyError as missing:
        raise InvalidAnchor(f"锚点缺少字段 {missing}") from None
    kinds = ((anchor.anchored_at, str), (anchor.key_id, str), (anchor.reason, str), (anchor.signature, str))
    if any(not _is(value, kind) for value, kind in kinds):
        raise InvalidAnchor("锚点字段的类型不对")
    if anchor.format == ANCHOR_FORMAT and not _is(anchor.root_hash, str):
        raise InvalidAnchor("锚点缺少根哈希 root_hash")
    try:
        anchor.moment  # noqa: B018  (parses the time stamp)
    except ValueError:
        raise InvalidAnchor(f"锚点时间“{anchor.anchored_at}”无法识别") from None
    return anchor


def signature_problem(anchor: Anchor, keys: Mapping[str, bytes]) -> str | None:
    """Why the anchor's signature does not hold (unknown key, wrong signature); None when it does."""
    secret = keys.get(anchor.key_id)
    if secret is None:
        return f"{anchor.describe()}使用了本系统没有的密钥“{anchor.key_id}”"
    expected = hmac.new(secret, _payload(anchor.as_json()), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, anchor.signature):
        return f"{anchor.describe()}的签名无效（锚点被改动）"
    return None


def epoch_in_force(anchors: Iterable[Anchor], until: datetime | None = None) -> list[Anchor]:
    """The anchors of the epoch in force at `until` (default: the latest): those made at or before
    it, from the last restore or reset among them on."""
    made = [anchor for anchor in anchors if until is None or anchor.moment <= until]
    made.sort(key=lambda anchor: anchor.moment)
    starts = [index for index, anchor in enumerate(made) if anchor.reason in REBASING]
    return made[starts[-1]:] if starts else made


def anchor_breaks(heads: Mapping[int | None, ChainHead] | ChainHead,
                  seen: Mapping[int | None, Mapping[int, tuple[int, str]]] | Mapping[int, tuple[int, str]],
                  anchors: Iterable[Anchor], subject: str = "审计日志",
                  name_of: Callable[[int | None], str] | None = None,
                  chains: Collection[int | None] | None = None) -> list[ChainBreak]:
    """How intact chains (each chain's head, and for each anchored id the (events of its chain
    so far, MAC) seen there) differ from the anchors: a chain emptied, truncated, or rewritten up
    to an anchored event, or an anchor whose root does not match its heads. One chain's head and
    seen ids (not keyed by county) are the city chain's. With `chains` (a county's audit bundle
    holds only its counties' chains) only those chains' anchored heads are compared; each
    anchor's root is still recomputed from all of its heads."""
    if isinstance(heads, ChainHead):
        heads, seen = {None: heads}, {None: seen}
    name_of = name_of or default_chain_name
    several = any(county is not None for county in heads) or any(
        len(anchor.heads) > 1 for anchor in anchors)
    breaks = []
    for anchor in anchors:
        if anchor.root_hash is not None and not hmac.compare_digest(anchor.root_hash, root_hash(anchor.heads)):
            breaks.append(ChainBreak(None, f"{anchor.describe()}的根哈希与其链头不符（锚点被改动）"))
            continue
        for anchored in anchor.heads:
            if chains is not None and anchored.county_id not in chains:
                continue
            chain = name_of(anchored.county_id) if several else None
            breaks += _head_breaks(anchored, anchor, heads.get(anchored.county_id), seen.get(anchored.county_id, {}),
                                   subject if chain is None else f"{subject}的{chain}", chain)
    return breaks


def _head_breaks(anchored: ChainHead, anchor: Anchor, head: ChainHead | None, seen: Mapping[int, tuple[int, str]],
                 subject: str, chain: str | None) -> list[ChainBreak]:
    if anchored.events == 0 and anchored.last_id == 0 and anchored.last_hash == GENESIS_HASH:
        return []  # an anchor of an empty chain holds for every chain
    if head is None or head.events == 0:
        return [ChainBreak(anchored.last_id, f"{subject}为空，但{anchor.describe()}记录了该链 "
                                             f"{anchored.events} 条事件（事件表被清空，或该链的事件被移走）", chain)]
    found = seen.get(anchored.last_id)
    if found is None:
        if anchored.last_id > head.last_id:
            reason = (f"{anchor.describe()}锚定的最后一条事件已不存在，{subject}只到事件 #{head.last_id}、"
                      f"共 {head.events} 条（末尾的事件被删除）")
        else:
            reason = f"{anchor.describe()}锚定的事件已不在该链中（事件被删除或移到了别的审计链）"
        return [ChainBreak(anchored.last_id, reason, chain)]
    count, mac = found
    if not hmac.compare_digest(mac, anchored.last_hash):
        return [ChainBreak(anchored.last_id, f"哈希与{anchor.describe()}不符（事件链被改写）", chain)]
    if count != anchored.events:
        return [ChainBreak(anchored.last_id, f"该链至此应有 {anchored.events} 条事件（{anchor.describe()}），"
                                             f"现有 {count} 条（有事件被删除、插入或移动）", chain)]
    return []
