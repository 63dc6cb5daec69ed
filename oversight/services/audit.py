"""Writes the audit log: every ORM change is recorded in the same transaction, in a keyed chain.

A session listener turns each flushed insert, update and delete into an event, so that no
service can forget to audit. Bulk inserts through SQLAlchemy Core bypass it and call
`record_event` themselves with a summary.

Each event's MAC is HMAC-SHA256 under the current audit key (`services.audit_keys`, held
outside the database) over the event and the previous MAC; the key's id is stored on the event.
A database written before keying ends in legacy (unkeyed) events: the first append after them
writes a `seal_legacy` event first, whose MAC covers the last legacy hash (`seal_legacy` does
the same on demand). Verifying and anchoring the chain is `services.audit_anchors`.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..domain.audit_chain import GENESIS_HASH, ChainBreak, event_mac, to_json_value
from ..domain.fingerprints import logged_summary
from ..domain.identifiers import mask_id_number, mask_phone
from ..extensions import db
from ..models import AuditEvent
from ..models.audit import APPEND_ONLY_CREATE, APPEND_ONLY_DROP
from .audit_keys import KeyRing, keyring

# Never copied into the log: secrets, and bookkeeping that changes on every write.
_SKIPPED_COLUMNS = {"password_hash", "updated_at", "created_at"}
# Personal information is logged masked, like everywhere else.
_MASKERS = {"id_number": mask_id_number, "phone": mask_phone, "contact_phone": mask_phone}
# Logged in short: an evidence fingerprint's digests without its per-row digests.
_SUMMARIES = {"evidence_fingerprint": logged_summary}
# Advisory-lock key that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 7_307_001


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    ip_address: str | None = None


SYSTEM_ACTOR = Actor(None, "system")
_current_actor: ContextVar[Actor] = ContextVar("audit_actor", default=SYSTEM_ACTOR)


def set_actor(actor: Actor):
    """Make `actor` the author of the changes that follow; returns a token for `reset_actor`."""
    return _current_actor.set(actor)


def reset_actor(token) -> None:
    _current_actor.reset(token)


def current_actor() -> Actor:
    return _current_actor.get()


@contextmanager
def acting_as(user_id: int, name: str) -> Iterator[None]:
    """Attribute the changes of the block to this user, from the current actor's address: a
    log-in is the user's own act, though the request that carries it is not yet signed in."""
    token = set_actor(Actor(user_id, name, current_actor().ip_address))
    try:
        yield
    finally:
        reset_actor(token)


def _logged_value(key: str, value: object, masks: dict | None = None) -> object:
    masker = (masks or {}).get(key) or _MASKERS.get(key)
    if masker and isinstance(value, str):
        return masker(value)
    summary = _SUMMARIES.get(key)
    if summary and value is not None:
        return summary(value)
    return to_json_value(value)


def _row_masks(obj) -> dict:
    """Columns personal only in some rows (a 服务对象代表's name): the model's `audit_masks()`."""
    rule = getattr(obj, "audit_masks", None)
    return rule() if callable(rule) else {}


def _snapshot(obj) -> dict:
    # state.dict, not attribute access: a deleted row must not be re-loaded.
    state = inspect(obj)
    masks = _row_masks(obj)
    return {
        attr.key: _logged_value(attr.key, state.dict.get(attr.key), masks)
        for attr in state.mapper.column_attrs
        if attr.key not in _SKIPPED_COLUMNS
    }


def _diff(obj) -> dict:
    state = inspect(obj)
    masks = _row_masks(obj)
    changes = {}
    for column_attr in state.mapper.column_attrs:
        key = column_attr.key
        if key in _SKIPPED_COLUMNS:
            continue
        history = state.attrs[key].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before != after:
                changes[key] = {"before": _logged_value(key, before, masks), "after": _logged_value(key, after, masks)}
    return changes


def lock_chain(connection) -> None:
    """Serialise appends to the chain until the transaction ends (PostgreSQL; SQLite has one writer)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def _insert(connection, ring: KeyRing, prev: str, actor: Actor, action: str, object_type: str, object_id,
            changes: dict) -> str:
    fields = {
        "occurred_at": utcnow(),
        "user_id": actor.user_id,
        "actor": actor.name,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "changes": to_json_value(changes),
        "ip_address": actor.ip_address,
    }
    mac = event_mac(fields, prev, ring.current_id, ring.current_secret)
    # Parameters rather than .values(): one cached statement, no per-call coercion of 11 values.
    connection.execute(AuditEvent.__table__.insert(),
                       {**fields, "prev_hash": prev, "hash": mac, "key_id": ring.current_id})
    return mac


def _seal(connection, ring: KeyRing, legacy_head: str) -> str:
    """Append the `seal_legacy` event after the legacy events; its MAC covers their last hash."""
    legacy = connection.execute(
        select(func.count(AuditEvent.id)).where(AuditEvent.key_id.is_(None))
    ).scalar_one()
    return _insert(connection, ring, legacy_head, SYSTEM_ACTOR, "seal_legacy", "AuditLog", None,
                   {"legacy_events": legacy, "legacy_head": legacy_head, "key_id": ring.current_id})


def _head_for_append(connection, ring: KeyRing) -> str:
    """The MAC the next event follows, sealing a legacy chain first."""
    last = connection.execute(
        select(AuditEvent.hash, AuditEvent.key_id).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if last is None:
        return GENESIS_HASH
    if last.key_id is None:
        return _seal(connection, ring, last.hash)
    return last.hash


def _append(connection, actor: Actor, action: str, object_type: str, object_id, changes: dict) -> None:
    ring = keyring()
    lock_chain(connection)
    _insert(connection, ring, _head_for_append(connection, ring), actor, action, object_type, object_id, changes)


def seal_legacy(session: Session | None = None) -> int:
    """Key a chain that ends in legacy events: append the `seal_legacy` event; the legacy events sealed (0: none)."""
    connection = (session or db.session).connection()
    ring = keyring()
    lock_chain(connection)
    last = connection.execute(
        select(AuditEvent.hash, AuditEvent.key_id).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if last is None or last.key_id is not None:
        return 0
    _seal(connection, ring, last.hash)
    return connection.execute(select(func.count(AuditEvent.id)).where(AuditEvent.key_id.is_(None))).scalar_one()


def record_event(action: str, object_type: str, object_id=None, changes: dict | None = None,
                 session: Session | None = None) -> None:
    """Append an event that is not an ORM change (log-ins, full-value views, bulk imports)."""
    session = session or db.session
    _append(session.connection(), current_actor(), action, object_type, object_id, changes or {})


def _object_id(obj):
    state = inspect(obj)
    key = state.mapper.primary_key[0].key
    return state.dict.get(key)


def _audited(obj) -> bool:
    return not isinstance(obj, AuditEvent)


def _in_key_order(objects) -> list:
    """Changed or deleted objects by type and primary key: the session holds them in no fixed
    order, and the same flush must always log the same way."""
    return sorted(objects, key=lambda obj: (type(obj).__name__, _object_id(obj) or 0))


def _after_flush(session: Session, flush_context) -> None:
    actor = current_actor()
    connection = session.connection()
    for obj in list(session.new):
        if _audited(obj):
            _append(connection, actor, "create", type(obj).__name__, _object_id(obj), _snapshot(obj))
    for obj in _in_key_order(session.dirty):
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            changes = _diff(obj)
            if changes:
                _append(connection, actor, "update", type(obj).__name__, _object_id(obj), changes)
    for obj in _in_key_order(session.deleted):
        if _audited(obj):
            _append(connection, actor, "delete", type(obj).__name__, _object_id(obj), _snapshot(obj))


def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise PermissionError("audit events are append-only")


def install_listeners() -> None:
    """Hook the audit writer into every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_flush", _refuse_audit_changes)


def verify_audit_log(session: Session | None = None) -> tuple[int, ChainBreak | None]:
    """Recompute the whole chain and compare it with the anchors; (events checked, first problem or None)."""
    from .audit_anchors import check_audit_log

    report = check_audit_log(session)
    return report.checked, report.broken


def _open_sqlite_transaction(connection) -> None:
    """pysqlite opens its transaction only before DML: DDL sent before that would commit at once."""
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


@contextmanager
def append_only_lifted(connection) -> Iterator[None]:
    """Maintenance only: the append-only triggers dropped for the block and created again at its
    end, all inside the caller's transaction (no other connection ever sees the table unguarded).

    For test teardown and for emptying a demo database (`seed-demo --reset`, which records a
    `reset` event and anchors the new chain). When the block raises, the caller must roll back,
    which brings the triggers back with everything else.
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        _open_sqlite_transaction(connection)
    for statement in APPEND_ONLY_DROP.get(dialect, []):
        connection.exec_driver_sql(statement)
    yield
    for statement in APPEND_ONLY_CREATE.get(dialect, []):
        connection.exec_driver_sql(statement)
