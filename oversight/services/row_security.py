"""Row-level security by county (PostgreSQL): the second line behind the app's own filters.

Every county-scoped table (each with a `county_id` column, `models.row_security`) has a policy
that shows and accepts only the rows of the counties listed in the transaction's setting
`oversight.county_ids` ("3,7"), or every row when it is `*`. This module decides the setting and
writes it at the start of every transaction on every connection of the app (an engine `begin`
listener: the session's, and the connections of their own that the import's progress, lease and
anomaly reader use), and again when the scope changes inside a transaction:

- in a web request, the signed-in user's counties (`bind_user`: the user loader, the API's token
  check and the log-in); a request nobody signed in to sees no county row (`NOBODY`);
- in a block of `county_scope(ids)` (a queue task acting for a user: `tasks._in_app`) those ids;
- outside a request and any block — the CLI, the scheduler's jobs, the recovery, migrations,
  `seed-demo`, the audit verification, the tests' own set-up — the system (`SYSTEM`, `*`).

SQLite has no row-level security: nothing is set there, and the app's filters (web/access.py)
are the only line, as they are the first line everywhere.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_app_context, has_request_context
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ..extensions import db
from ..models.row_security import SETTING
from .areas import county_ids_under

SYSTEM = "*"
NOBODY = ""
_G_KEY = "county_scope"

_bound: ContextVar[str | None] = ContextVar("oversight_county_scope", default=None)


def setting_value(county_ids: Iterable[int] | None) -> str:
    """The setting for these counties ("3,7"); None is the system's `*`."""
    if county_ids is None:
        return SYSTEM
    return ",".join(str(int(county_id)) for county_id in sorted(set(county_ids)))


def current_value() -> str:
    """The setting a transaction begun now gets (see the module's docstring)."""
    explicit = _bound.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        return g.get(_G_KEY, NOBODY)
    return SYSTEM


def counties_of_user(user) -> list[int]:
    """The counties a user sees: those its area covers, as the app's own filters have them
    (`web/access.visible_county_ids`)."""
    return county_ids_under(user.area_id)


def bind_user(user) -> None:
    """This request acts for `user` (None: nobody signed in): its transactions see the user's
    counties from now on, the one in progress included."""
    setattr(g, _G_KEY, NOBODY if user is None else setting_value(counties_of_user(user)))
    _apply()


def bind_request(value: str) -> None:
    """This request's scope as a setting value (the public notice: SYSTEM)."""
    setattr(g, _G_KEY, value)
    _apply()


@contextmanager
def county_scope(county_ids: Iterable[int] | None) -> Iterator[None]:
    """Work as these counties (None: the system) inside the block, the transaction in progress
    included; the scope before comes back at its end."""
    token = _bound.set(setting_value(county_ids))
    _apply()
    try:
        yield
    finally:
        _bound.reset(token)
        try:
            _apply()
        except DBAPIError:  # the transaction failed in the block: nothing can run in it any more
            pass


def system_scope():
    """The block works as the system (every county's rows)."""
    return county_scope(None)


def carried(function: Callable[[], None]) -> Callable[[], None]:
    """`function` to run in another thread with this thread's scope (a new thread has no
    request and no block of its own: it would work as the system)."""
    value = current_value()

    def run() -> None:
        _bound.set(value)  # the thread's own context, gone with it
        function()

    return run


def _apply() -> None:
    """Write the setting into the session's transaction in progress, if there is one."""
    if not has_app_context():
        return
    session = db.session()
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT set_config(:name, :value, true)"),
                                     {"name": SETTING, "value": current_value()})


def _on_begin(connection) -> None:
    """Each transaction of a PostgreSQL connection starts with the scope (`SET LOCAL`: it ends
    with the transaction, so a pooled connection never carries it to the next one)."""
    if connection.dialect.name != "postgresql":
        return
    cursor = connection.connection.cursor()  # the driver's: the transaction is being begun
    try:
        cursor.execute("SELECT set_config(%s, %s, true)", (SETTING, current_value()))
    finally:
        cursor.close()


def install_listener() -> None:
    if not event.contains(Engine, "begin", _on_begin):
        event.listen(Engine, "begin", _on_begin)
