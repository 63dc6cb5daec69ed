"""Verifying the audit chains, and anchoring their heads outside the database.

`check_audit_log` recomputes every MAC of every chain (the city chain and one per county) with
the audit keys and compares each chain with the anchors of the epoch in force (the instance
anchors file): each anchored event must still be there, in its chain, with its MAC, after as
many events of that chain as when it was anchored; an emptied chain with an anchor of a
non-empty one is an error, and each anchor's root hash is recomputed from its heads. Each
`anchor` event (in the city chain) names its anchor's signature, which must be in the anchors
file (a deleted or swapped file shows).

`anchor_audit_log` verifies the chains, then signs their heads and root and appends the anchor
to the anchors file (the daily job, `flask anchor-audit-log`, an export, a key rotation, a
restore or reset).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..adapters.audit_keys import AuditKeyError, append_anchor, read_anchor_lines
from ..domain.audit_anchors import (
    REBASING,
    Anchor,
    InvalidAnchor,
    anchor_breaks,
    anchor_from_json,
    epoch_in_force,
    sign_anchor,
    signature_problem,
)
from ..domain.audit_chain import CITY_CHAIN, GENESIS_HASH, ChainBreak, ChainEvent, ChainHead, ChainSet, chain_order
from ..domain.vocabulary import AnchorReason, AreaLevel
from ..extensions import db
from ..models import Area, AuditEvent
from ..clock import utcnow
from .audit import lock_chains, record_event, seal_legacy
from .audit_keys import keyring, rotate_file_key

CHUNK_ROWS = 2000
_FIELDS = ("occurred_at", "user_id", "actor", "action", "object_type", "object_id", "changes", "ip_address")


class AuditLogBroken(RuntimeError):
    """The chain does not verify, so its head is not anchored; `report` says why."""

    def __init__(self, report: AuditLogReport):
        super().__init__(f"审计日志校验失败，未锚定：{report.broken.describe()}")
        self.report = report


@dataclass
class AuditLogReport:
    """What a verification found: events checked, the chain's head, problems (first one first)."""

    checked: int = 0
    legacy: int = 0
    heads: dict[int | None, ChainHead] = field(default_factory=lambda: {None: ChainHead(0, GENESIS_HASH, 0)})
    problems: list[ChainBreak] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)  # the epoch in force, compared with the chain
    names: dict[int | None, str] = field(default_factory=dict)  # each chain's name

    @property
    def head(self) -> ChainHead:
        """The city chain's head."""
        return self.heads.get(None) or ChainHead(0, GENESIS_HASH, 0)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken(self) -> ChainBreak | None:
        return self.problems[0] if self.problems else None

    @property
    def last_anchor(self) -> Anchor | None:
        return max(self.anchors, key=lambda anchor: anchor.moment) if self.anchors else None


def anchor_file(config: Mapping | None = None) -> Path:
    return Path((current_app.config if config is None else config)["AUDIT_ANCHOR_FILE"])


def read_anchors(keys: Mapping[str, bytes], path: Path | None = None) -> tuple[list[Anchor], list[ChainBreak]]:
    """The well-signed anchors of the file, and a problem for each line that is not one."""
    path = path or anchor_file()
    anchors, problems = [], []
    for number, data in read_anchor_lines(path):
        where = f"锚点文件 {path.name} 第 {number} 行"
        if isinstance(data, ValueError):
            problems.append(ChainBreak(None, f"{where}无法读取（{data}）"))
            continue
        try:
            anchor = anchor_from_json(data)
        except InvalidAnchor as error:
            problems.append(ChainBreak(None, f"{where}：{error}"))
            continue
        problem = signature_problem(anchor, keys)
        if problem:
            problems.append(ChainBreak(anchor.last_id, f"{where}：{problem}"))
        else:
            anchors.append(anchor)
    return anchors, problems


def _events(session: Session, after: Mapping[int | None, int] | None = None) -> Iterator[ChainEvent]:
    """The events in id order; with `after` (each known chain's last id), only those that follow
    in their chains, and every event of a chain not known yet.

    Ids are not committed in id order across chains (each chain has its own lock), but within a
    chain they are, so one statement's snapshot holds a prefix of every chain; resuming by each
    chain's own last id (not the last id overall) misses none committed since."""
    table = AuditEvent.__table__
    stmt = select(table)
    if after:
        known = [county for county in after if county is not None]
        follows = [(table.c.county_id.is_(None) if county is None else table.c.county_id == county)
                   & (table.c.id > last_id) for county, last_id in after.items()]
        new_chain = table.c.county_id.is_not(None)
        if known:
            new_chain &= table.c.county_id.not_in(known)
        if None not in after:
            new_chain |= table.c.county_id.is_(None)
        stmt = stmt.where(or_(new_chain, *follows))
    stmt = stmt.order_by(table.c.id).execution_options(yield_per=CHUNK_ROWS)
    for row in session.execute(stmt).mappings():
        yield ChainEvent(row["id"], {name: row[name] for name in _FIELDS}, row["prev_hash"], row["hash"],
                         row["key_id"], row["county_id"])


class ChainNames:
    """Each chain's name: 市级审计链, or the county's (赣县区审计链), looked up once."""

    def __init__(self, session: Session):
        self.session = session
        self.known: dict[int | None, str] = {None: CITY_CHAIN}

    def __call__(self, county_id: int | None) -> str:
        if county_id not in self.known:
            area = self.session.get(Area, county_id)
            self.known[county_id] = (f"{area.name}（{area.code}）审计链" if area is not None
                                     else f"区县 #{county_id} 的审计链")
        return self.known[county_id]


def chain_counties(session: Session) -> list[int | None]:
    """The chains that hold events: the city chain always, then each county's by id."""
    found = session.execute(select(AuditEvent.county_id).distinct()).scalars().all()
    return sorted({None, *found}, key=chain_order)


class _Check:
    """One verification pass that can be resumed (the heads read under the append locks)."""

    def __init__(self, keys: Mapping[str, bytes], epoch: list[Anchor], names: ChainNames):
        self.chains = ChainSet(keys, watch={head.last_id for anchor in epoch for head in anchor.heads},
                               name_of=names)
        self.names = names
        self.recorded: list[tuple[int, object]] = []  # (event id, signature) of the chain's anchor events
        self.broken: ChainBreak | None = None

    def feed(self, session: Session) -> None:
        if self.broken is not None:
            return
        after = {county: verifier.last_id for county, verifier in self.chains.chains.items()}
        for event in _events(session, after):
            self.broken = self.chains.add(event)
            if self.broken is not None:
                return
            if event.fields["action"] == "anchor":
                self.recorded.append((event.id, (event.fields["changes"] or {}).get("signature")))


def _report(check: _Check, anchors: list[Anchor], epoch: list[Anchor], file_problems: list[ChainBreak],
            compare: bool) -> AuditLogReport:
    chains = check.chains
    heads = chains.heads()
    report = AuditLogReport(checked=chains.count, legacy=chains.legacy, heads=heads, anchors=epoch,
                            names={county: check.names(county) for county in heads})
    if check.broken is not None:
        report.problems.append(check.broken)
    elif compare:
        report.problems += anchor_breaks(heads, chains.seen(), epoch, name_of=check.names)
        signed = {anchor.signature for anchor in anchors}
        report.problems += [ChainBreak(event_id, "该事件记录的锚点不在锚点文件中（锚点文件被删改或换成了别的文件）")
                            for event_id, signature in check.recorded if signature not in signed]
    if compare:
        report.problems += file_problems
    return report


def check_audit_log(session: Session | None = None, *, compare_anchors: bool = True) -> AuditLogReport:
    """Recompute every MAC of the chain and (unless told not to) compare it with the anchors."""
    session = session or db.session
    try:
        ring = keyring()
        anchors, file_problems = read_anchors(ring.keys)
    except AuditKeyError as error:
        return AuditLogReport(problems=[ChainBreak(None, str(error))])
    epoch = epoch_in_force(anchors) if compare_anchors else []
    check = _Check(ring.keys, epoch, ChainNames(session))
    check.feed(session)
    return _report(check, anchors, epoch, file_problems, compare_anchors)


def anchor_audit_log(reason: str = AnchorReason.MANUAL, changes: Mapping | None = None) -> Anchor:
    """Verify the chains, sign their heads and root, append the anchor to the anchors file and
    record an `anchor` event (in the city chain); commits. Call at the start of a unit of work
    (nothing pending in the session). Every chain's lock is held while its head is read last, so
    each head is final; a county's first event written meanwhile is in the next anchor.

    A restore or reset (`REBASING`) starts a new epoch: the chain is verified on its own, not
    against the anchors of the chain it replaced. AuditLogBroken when the chain does not verify.
    """
    session = db.session
    compare = reason not in REBASING
    ring = keyring()
    anchors, file_problems = read_anchors(ring.keys)
    epoch = epoch_in_force(anchors) if compare else []
    check = _Check(ring.keys, epoch, ChainNames(session))
    check.feed(session)  # the bulk of the chains, without holding up appends
    lock_chains(session.connection(), chain_counties(session))
    check.feed(session)  # what was appended meanwhile, under the locks: the heads are final
    report = _report(check, anchors, epoch, file_problems, compare)
    if not report.ok:
        session.rollback()
        raise AuditLogBroken(report)
    anchor = sign_anchor(report.heads.values(), utcnow(), reason, ring.current_id, ring.current_secret)
    append_anchor(anchor_file(), anchor.as_json())
    record_event("anchor", "AuditLog", anchor.last_id or None,
                 {**(changes or {}), "reason": str(reason), "events": anchor.events, "last_id": anchor.last_id,
                  "chains": len(anchor.heads), "root_hash": anchor.root_hash,
                  "key_id": anchor.key_id, "signature": anchor.signature}, county_id=None)
    session.commit()
    return anchor


def record_bundle_anchor(anchor: Anchor) -> None:
    """Keep an exported bundle's anchor in the anchors file too (a later truncation then shows)."""
    append_anchor(anchor_file(), anchor.as_json())


def rotate_audit_key() -> tuple[str, str]:
    """A new current audit key (old ones kept for verifying), recorded and anchored; (old id, new id)."""
    old_id, ring = rotate_file_key()
    record_event("rotate_key", "AuditKey", ring.current_id, {"old_key_id": old_id, "new_key_id": ring.current_id})
    db.session.commit()
    anchor_audit_log(AnchorReason.ROTATE)
    return old_id, ring.current_id


def seal_audit_log() -> int:
    """Seal the legacy (unkeyed) events now and anchor the sealed chain; the legacy events sealed."""
    sealed = seal_legacy()
    db.session.commit()
    anchor_audit_log(AnchorReason.SEAL, {"legacy_events": sealed})
    return sealed


def rebase_after(reason: str, changes: Mapping) -> Anchor:
    """After a restore or reset replaced the chain: record it, and anchor the new chain as a new epoch."""
    action = "restore" if reason == AnchorReason.RESTORE else "reset"
    record_event(action, "Database", None, dict(changes))
    db.session.commit()
    return anchor_audit_log(reason)


def chain_head(session: Session | None = None) -> ChainHead:
    """The stored log's last event and event count over all chains, unverified (what a restore replaces)."""
    session = session or db.session
    table = AuditEvent.__table__
    last = session.execute(select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    if last is None:
        return ChainHead(0, "0" * 64, 0)
    return ChainHead(last.id, last.hash, session.execute(select(func.count(table.c.id))).scalar_one())


@dataclass(frozen=True)
class ChainSummary:
    """One chain as the audit log page shows it: its name, its last event now, and its head in
    the last anchor (None when that anchor does not list it)."""

    county_id: int | None
    name: str
    last_id: int | None
    anchored: ChainHead | None


def chain_summaries(counties: list[int] | None = None, session: Session | None = None, *,
                    city: bool = True) -> tuple[list[ChainSummary], Anchor | None]:
    """Each chain's last event (the city chain's unless `city` is false, and those of `counties`,
    by default every county's) and the last anchor of the epoch in force, unverified (the page reads; the
    verification is `check_audit_log`). Cheap: one indexed max per chain, the anchors file."""
    session = session or db.session
    if counties is None:
        counties = list(session.execute(select(Area.id).where(Area.level == AreaLevel.COUNTY)).scalars())
    try:
        anchors = epoch_in_force(read_anchors(keyring().keys)[0])
    except AuditKeyError:
        anchors = []
    last = max(anchors, key=lambda anchor: anchor.moment) if anchors else None
    names = ChainNames(session)
    rows = []
    for county in sorted({None, *counties} if city else set(counties), key=chain_order):
        chain = AuditEvent.county_id.is_(None) if county is None else AuditEvent.county_id == county
        last_id = session.execute(select(func.max(AuditEvent.id)).where(chain)).scalar()
        rows.append(ChainSummary(county, names(county), last_id, last.head_of(county) if last else None))
    return rows, last
