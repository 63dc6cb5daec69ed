"""Writes the audit log: every ORM change is recorded in the same transaction, hash-chained.

A session listener turns each flushed insert, update and delete into an event, so that no
service can forget to audit. Bulk inserts through SQLAlchemy Core bypass it and call
`record_event` themselves with a summary.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from collections.abc import Iterator

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..domain.audit_chain import GENESIS_HASH, ChainBreak, event_hash, to_json_value, verify_chain
from ..domain.identifiers import mask_id_number, mask_phone
from ..extensions import db
from ..models import AuditEvent

# Never copied into the log: secrets, and bookkeeping that changes on every write.
_SKIPPED_COLUMNS = {"password_hash", "updated_at", "created_at"}
# Personal information is logged masked, like everywhere else.
_MASKERS = {"id_number": mask_id_number, "phone": mask_phone, "contact_phone": mask_phone}
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


def _logged_value(key: str, value: object) -> object:
    masker = _MASKERS.get(key)
    if masker and isinstance(value, str):
        return masker(value)
    return to_json_value(value)


def _snapshot(obj) -> dict:
    # state.dict, not attribute access: a deleted row must not be re-loaded.
    state = inspect(obj)
    return {
        attr.key: _logged_value(attr.key, state.dict.get(attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in _SKIPPED_COLUMNS
    }


def _diff(obj) -> dict:
    state = inspect(obj)
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
                changes[key] = {"before": _logged_value(key, before), "after": _logged_value(key, after)}
    return changes


def _append(connection, actor: Actor, action: str, object_type: str, object_id, changes: dict) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    prev = connection.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none() or GENESIS_HASH
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
    connection.execute(
        insert(AuditEvent).values(**fields, prev_hash=prev, hash=event_hash(fields, prev))
    )


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


def _chain_rows(session: Session) -> Iterator[tuple[int, dict, str, str]]:
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    for ev in rows:
        fields = {
            "occurred_at": ev.occurred_at,
            "user_id": ev.user_id,
            "actor": ev.actor,
            "action": ev.action,
            "object_type": ev.object_type,
            "object_id": ev.object_id,
            "changes": ev.changes,
            "ip_address": ev.ip_address,
        }
        yield ev.id, fields, ev.prev_hash, ev.hash


def verify_audit_log(session: Session | None = None) -> tuple[int, ChainBreak | None]:
    """Recompute the whole chain; returns (events checked, first break or None)."""
    session = session or db.session
    count = 0

    def counted():
        nonlocal count
        for row in _chain_rows(session):
            count += 1
            yield row

    result = verify_chain(counted())
    return count, result
