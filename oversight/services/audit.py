"""Writes the audit log: every ORM change is recorded in the same transaction, in a keyed chain
per county.

A session listener turns each flushed insert, update and delete into an event, so that no
service can forget to audit. Bulk inserts through SQLAlchemy Core bypass it and call
`record_event` themselves with a summary.

Each event's MAC is HMAC-SHA256 under the current audit key (`services.audit_keys`, held
outside the database) over the event and the previous MAC; the key's id is stored on the event.
A database written before keying ends in legacy (unkeyed) events: the first append after them
writes a `seal_legacy` event first, whose MAC covers the last legacy hash (`seal_legacy` does
the same on demand). Verifying and anchoring the chain is `services.audit_anchors`.

Each county has its own chain, and rows of no county (users above county level, areas,
city-wide settings, the log's own events) the city chain: `county_of` (the one resolver) finds
the county of the row written — its `county_id`, or that of the row it belongs to (its
contract's, subject's, record's…), a user's from the area they are placed in — and the event's
MAC covers the previous MAC of that chain only. Appends to one chain are serialised by an
advisory lock of that chain (PostgreSQL; SQLite has one writer), so counties do not wait on
each other. The legacy events of a database from before the counties start the city chain.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Table, event, func, inspect, select, text
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..domain.audit_chain import GENESIS_HASH, ChainBreak, chain_order, event_mac, to_json_value
from ..domain.vocabulary import AreaLevel
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
# Advisory-lock keys (the two-int form) that serialise appends to one chain on PostgreSQL:
# (_CHAIN_LOCK_CLASS, the county's id), (_CHAIN_LOCK_CLASS, 0) for the city chain.
_CHAIN_LOCK_CLASS = 7_307_001
# How far `county_of` follows foreign keys to a row that has a county.
_COUNTY_HOPS = 3
# Foreign keys followed first, in this order: what a row belongs to, rather than who touched it
# (the order of web.access's county scope, so that a row's chain is the county it is shown in).
_OWNER_KEYS = ("contract_id", "contractor_id", "draw_id", "project_id", "spot_check_id", "review_id", "record_id",
               "assignment_id", "acceptance_id", "subject_id")
_UNRESOLVED = object()


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


# --- the chain an event belongs to -----------------------------------------------------------


def _tables() -> dict[str, Table]:
    return {table.name: table for table in db.Model.metadata.tables.values()}


@cache
def _county_route(table_name: str, hops: int = _COUNTY_HOPS) -> tuple[str, ...] | None:
    """The foreign-key columns that lead from a table to one with a county: () when it has
    `county_id` itself (or is `users`, placed by `area_id`), None when nothing leads there."""
    table = _tables()[table_name]
    if "county_id" in table.c or (table_name == "users" and "area_id" in table.c):
        return ()
    if hops == 0 or table_name in ("areas", "audit_events"):
        return None
    keys = sorted(((key.parent.name, key.column.table.name) for key in table.foreign_keys
                   if key.column.table.name != table_name),
                  key=lambda item: (item[0] not in _OWNER_KEYS,
                                    _OWNER_KEYS.index(item[0]) if item[0] in _OWNER_KEYS else 0,
                                    item[1] == "users", item[0]))
    for column, target in keys:
        rest = _county_route(target, hops - 1)
        if rest is not None:
            return (column, *rest)
    return None


def county_of_area(connection, area_id: int | None) -> int | None:
    """The county an area is in (itself, for a county); None above county level or for no area."""
    areas = _tables().get("areas")
    for _ in range(5):  # province → city → county → township → village
        if area_id is None or areas is None:
            return None
        row = connection.execute(select(areas.c.parent_id, areas.c.level).where(areas.c.id == area_id)).first()
        if row is None or row.level in (AreaLevel.PROVINCE, AreaLevel.CITY):
            return None
        if row.level == AreaLevel.COUNTY:
            return area_id
        area_id = row.parent_id
    return None


def _row_county(connection, table_name: str, values: Mapping, cache_: dict | None = None) -> int | None:
    route = _county_route(table_name)
    if route is None:
        return None
    tables = _tables()
    table = tables[table_name]
    for column in route:
        reference = values.get(column)
        if reference is None:
            return None
        key = next(key for key in table.foreign_keys if key.parent.name == column)
        target = key.column.table
        memo = (target.name, key.column.name, reference)
        if cache_ is not None and memo in cache_:
            values = cache_[memo]
        else:
            row = connection.execute(select(target).where(key.column == reference)).mappings().first()
            values = dict(row) if row is not None else {}
            if cache_ is not None:
                cache_[memo] = values
        table = target
    if "county_id" in table.c:
        return values.get("county_id")
    return county_of_area(connection, values.get("area_id"))


def county_of(obj, connection=None, cache_: dict | None = None) -> int | None:
    """The county whose chain an ORM object's events go to (None: the city chain): its own
    `county_id`, else that of the row it belongs to (through its contract, subject, assignment,
    record… foreign keys), a user's from their area; None for rows of no county."""
    state = inspect(obj)
    table = state.mapper.local_table
    route = _county_route(table.name)
    if route is None:
        return None
    values = {attr.columns[0].name: state.dict.get(attr.key) for attr in state.mapper.column_attrs
              if attr.key in state.dict}
    needed = {"county_id"} if "county_id" in table.c else {"area_id"} if not route else {route[0]}
    connection = connection if connection is not None else object_session_connection(obj)
    if not needed <= set(values) and state.identity is not None:
        # Expired since it was loaded (a commit expires everything): read the key from its row.
        primary = table.primary_key.columns[0]
        row = connection.execute(select(table).where(primary == state.identity[0])).mappings().first()
        values = {**(dict(row) if row is not None else {}), **values}
    if "county_id" in table.c:
        return values.get("county_id")
    return _row_county(connection, table.name, values, cache_)


def object_session_connection(obj):
    from sqlalchemy.orm import object_session

    return (object_session(obj) or db.session).connection()


def county_of_object(connection, object_type: str, object_id) -> int | None:
    """The county of the row an event names by type and id (what `record_event` is told)."""
    if object_id is None:
        return None
    mapper = next((mapper for mapper in db.Model.registry.mappers if mapper.class_.__name__ == object_type), None)
    if mapper is None or _county_route(mapper.local_table.name) is None:
        return None
    table = mapper.local_table
    primary = table.primary_key.columns[0]
    try:
        key = int(object_id) if issubclass(primary.type.python_type, int) else object_id
    except (TypeError, ValueError, NotImplementedError):
        return None
    row = connection.execute(select(table).where(primary == key)).mappings().first()
    return None if row is None else _row_county(connection, table.name, dict(row))


# --- appending ----------------------------------------------------------------------------------


def lock_chain(connection, county_id: int | None = None) -> None:
    """Serialise appends to one chain (the city chain by default) until the transaction ends
    (PostgreSQL; SQLite has one writer)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:kind, :key)"),
                           {"kind": _CHAIN_LOCK_CLASS, "key": county_id or 0})


def lock_chains(connection, counties) -> None:
    """Lock several chains, always in the same order (city chain first, then by id): two
    transactions writing to the same two counties cannot each hold one and wait for the other."""
    for county in sorted(set(counties), key=chain_order):
        lock_chain(connection, county)


def _insert(connection, ring: KeyRing, prev: str, actor: Actor, action: str, object_type: str, object_id,
            changes: dict, county_id: int | None = None) -> str:
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
    mac = event_mac(fields, prev, ring.current_id, ring.current_secret, county_id)
    # Parameters rather than .values(): one cached statement, no per-call coercion of 12 values.
    connection.execute(AuditEvent.__table__.insert(),
                       {**fields, "prev_hash": prev, "hash": mac, "key_id": ring.current_id, "county_id": county_id})
    return mac


def _seal(connection, ring: KeyRing, legacy_head: str) -> str:
    """Append the `seal_legacy` event after the legacy events; its MAC covers their last hash."""
    legacy = connection.execute(
        select(func.count(AuditEvent.id)).where(AuditEvent.key_id.is_(None), AuditEvent.county_id.is_(None))
    ).scalar_one()
    return _insert(connection, ring, legacy_head, SYSTEM_ACTOR, "seal_legacy", "AuditLog", None,
                   {"legacy_events": legacy, "legacy_head": legacy_head, "key_id": ring.current_id})


def _last_of_chain(connection, county_id: int | None):
    chain = AuditEvent.county_id.is_(None) if county_id is None else AuditEvent.county_id == county_id
    return connection.execute(
        select(AuditEvent.hash, AuditEvent.key_id).where(chain).order_by(AuditEvent.id.desc()).limit(1)
    ).first()


def _head_for_append(connection, ring: KeyRing, county_id: int | None) -> str:
    """The MAC the next event of the chain follows (its lock held), sealing a legacy city chain
    first — also when the event starts a county's chain, so that the first write after the
    upgrade seals, whatever its county."""
    last = _last_of_chain(connection, county_id)
    if county_id is not None:
        if last is None and _legacy_head(connection):  # once keyed, the city chain stays keyed
            lock_chain(connection, None)
            _seal_if_legacy(connection, ring)
        return GENESIS_HASH if last is None else last.hash
    if last is None:
        return GENESIS_HASH
    if last.key_id is None:
        return _seal(connection, ring, last.hash)
    return last.hash


def _legacy_head(connection) -> bool:
    """Whether the city chain ends in a legacy event (not yet sealed)."""
    last = _last_of_chain(connection, None)
    return last is not None and last.key_id is None


def _seal_if_legacy(connection, ring: KeyRing) -> bool:
    """Seal the city chain if it ends in legacy events (its lock held)."""
    last = _last_of_chain(connection, None)
    if last is None or last.key_id is not None:
        return False
    _seal(connection, ring, last.hash)
    return True


def _append(connection, actor: Actor, action: str, object_type: str, object_id, changes: dict,
            county_id: int | None = None, heads: dict | None = None) -> None:
    """Append one event to its chain; `heads` (the chains' MACs already written in this flush,
    their locks held) saves reading a head again."""
    ring = keyring()
    if heads is not None and county_id in heads:
        prev = heads[county_id]
    else:
        lock_chain(connection, county_id)
        prev = _head_for_append(connection, ring, county_id)
    mac = _insert(connection, ring, prev, actor, action, object_type, object_id, changes, county_id)
    if heads is not None:
        heads[county_id] = mac


def seal_legacy(session: Session | None = None) -> int:
    """Key a city chain that ends in legacy events: append the `seal_legacy` event; the legacy events sealed (0: none)."""
    connection = (session or db.session).connection()
    lock_chain(connection, None)
    if not _seal_if_legacy(connection, keyring()):
        return 0
    return connection.execute(select(func.count(AuditEvent.id)).where(AuditEvent.key_id.is_(None))).scalar_one()


def record_event(action: str, object_type: str, object_id=None, changes: dict | None = None,
                 session: Session | None = None, county_id=_UNRESOLVED) -> None:
    """Append an event that is not an ORM change (log-ins, full-value views, bulk imports) to
    the chain of `county_id` (None: the city chain); by default that of the row it names."""
    session = session or db.session
    connection = session.connection()
    if county_id is _UNRESOLVED:
        county_id = county_of_object(connection, object_type, object_id)
    _append(connection, current_actor(), action, object_type, object_id, changes or {}, county_id)


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
    pending = []  # (action, object, changes) in the order they are logged
    for obj in list(session.new):
        if _audited(obj):
            pending.append(("create", obj, _snapshot(obj)))
    for obj in _in_key_order(session.dirty):
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            changes = _diff(obj)
            if changes:
                pending.append(("update", obj, changes))
    for obj in _in_key_order(session.deleted):
        if _audited(obj):
            pending.append(("delete", obj, _snapshot(obj)))
    if not pending:
        return
    looked_up: dict = {}
    counties = [county_of(obj, connection, looked_up) for _action, obj, _changes in pending]
    lock_chains(connection, counties)  # every chain of the flush, in one order, before any append
    ring = keyring()
    heads = {county: _head_for_append(connection, ring, county) for county in sorted(set(counties), key=chain_order)}
    for (action, obj, changes), county in zip(pending, counties, strict=True):
        _append(connection, actor, action, type(obj).__name__, _object_id(obj), changes, county, heads)


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
