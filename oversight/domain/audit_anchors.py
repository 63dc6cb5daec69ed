"""Anchors: signed heads of the audit chain kept outside its table.

An anchor states, at a moment, the chain's last event id, that event's MAC and how many events
led up to it, signed (HMAC-SHA256) with an audit key. Kept where a database writer cannot
reach (the instance folder, the audit bundle, the auditor's mail), it makes a truncated,
emptied or rewritten chain show: the anchored event must still be there, with the same MAC,
after the same number of events.

A restore or a reset legitimately replaces the chain; its anchor (reason `restore`/`reset`)
starts a new epoch, and only the anchors of the epoch in force are compared with the chain.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, UTC

from .audit_chain import GENESIS_HASH, ChainBreak, ChainHead
from .vocabulary import AnchorReason

ANCHOR_FORMAT = "oversight-audit-anchor/1"
# Reasons whose anchor starts a new epoch: the chain before them is no longer the live one.
REBASING = frozenset({AnchorReason.RESTORE, AnchorReason.RESET})
_FIELDS = ("format", "last_id", "last_hash", "events", "anchored_at", "key_id", "reason", "bundle_sha256")


class InvalidAnchor(ValueError):
    """An anchor record that is not well-formed; the message is Chinese."""


@dataclass(frozen=True)
class Anchor:
    last_id: int
    last_hash: str
    events: int
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
    def head(self) -> ChainHead:
        return ChainHead(self.last_id, self.last_hash, self.events)

    def as_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        when = self.moment.strftime("%Y-%m-%d %H:%M:%S")
        return f"{when} UTC 的锚点（至事件 #{self.last_id}，共 {self.events} 条）"


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
    body = {name: values.get(name) for name in _FIELDS}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign_anchor(head: ChainHead, moment: datetime, reason: str, key_id: str, secret: bytes,
                bundle_sha256: str | None = None) -> Anchor:
    """The signed anchor of `head` at `moment`."""
    values = {"format": ANCHOR_FORMAT, "last_id": head.last_id, "last_hash": head.last_hash,
              "events": head.events, "anchored_at": format_moment(moment), "key_id": key_id,
              "reason": str(reason), "bundle_sha256": bundle_sha256}
    signature = hmac.new(secret, _payload(values), hashlib.sha256).hexdigest()
    return Anchor(head.last_id, head.last_hash, head.events, values["anchored_at"], key_id, str(reason),
                  signature, bundle_sha256)


def anchor_from_json(data: object) -> Anchor:
    """An anchor read back from JSON; InvalidAnchor when a field is missing or of the wrong kind."""
    if not isinstance(data, dict) or data.get("format") != ANCHOR_FORMAT:
        raise InvalidAnchor(f"不是 {ANCHOR_FORMAT} 格式的锚点")
    try:
        anchor = Anchor(last_id=data["last_id"], last_hash=data["last_hash"], events=data["events"],
                        anchored_at=data["anchored_at"], key_id=data["key_id"], reason=data["reason"],
                        signature=data["signature"], bundle_sha256=data.get("bundle_sha256"))
    except KeyError as missing:
        raise InvalidAnchor(f"锚点缺少字段 {missing}") from None
    kinds = ((anchor.last_id, int), (anchor.events, int), (anchor.last_hash, str), (anchor.anchored_at, str),
             (anchor.key_id, str), (anchor.reason, str), (anchor.signature, str))
    if any(not isinstance(value, kind) or isinstance(value, bool) for value, kind in kinds):
        raise InvalidAnchor("锚点字段的类型不对")
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


def anchor_breaks(head: ChainHead, seen: Mapping[int, tuple[int, str]], anchors: Iterable[Anchor],
                  subject: str = "审计日志") -> list[ChainBreak]:
    """How an intact chain (`head`, and for each anchored id the (events so far, MAC) seen there)
    differs from the anchors: emptied, truncated, or rewritten up to an anchored event."""
    breaks = []
    for anchor in anchors:
        if anchor.events == 0 and anchor.last_id == 0 and anchor.last_hash == GENESIS_HASH:
            continue  # an anchor of the empty chain holds for every chain
        if head.events == 0:
            breaks.append(ChainBreak(anchor.last_id, f"{subject}为空，但{anchor.describe()}记录了 "
                                                     f"{anchor.events} 条事件（事件表被清空）"))
            continue
        found = seen.get(anchor.last_id)
        if found is None:
            if anchor.last_id > head.last_id:
                reason = (f"{anchor.describe()}锚定的最后一条事件已不存在，{subject}只到事件 #{head.last_id}、"
                          f"共 {head.events} 条（末尾的事件被删除）")
            else:
                reason = f"{anchor.describe()}锚定的事件已不存在（事件被删除）"
            breaks.append(ChainBreak(anchor.last_id, reason))
            continue
        count, mac = found
        if not hmac.compare_digest(mac, anchor.last_hash):
            breaks.append(ChainBreak(anchor.last_id, f"哈希与{anchor.describe()}不符（事件链被改写）"))
        elif count != anchor.events:
            breaks.append(ChainBreak(anchor.last_id, f"至该事件应有 {anchor.events} 条事件（{anchor.describe()}），"
                                                     f"现有 {count} 条（有事件被删除或插入）"))
    return breaks
