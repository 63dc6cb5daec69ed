"""Integers from URLs and query strings, kept within what the database can compare.

SQLite and PostgreSQL keep integers in 64 signed bits; a larger one in a query raises
OverflowError in the driver (a 500), so such values are refused before any query: a path id
answers 404, like any id that does not exist.
"""
from __future__ import annotations

from flask import abort, current_app, request
from werkzeug.routing import IntegerConverter

from ..extensions import db

DATABASE_INT_MAX = 2**63 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in every route: non-negative, at most the database's largest integer."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(map, *args, **kwargs)


def database_int(text: str) -> int:
    """For `request.args.get(name, type=database_int)`: a value out of range reads as absent."""
    value = int(text)
    if not 0 <= value <= DATABASE_INT_MAX:
        raise ValueError(f"{text!r} is beyond the database's integers")
    return value


def page_number(per_page: int) -> int:
    """`?page=`: 1 when absent or unreadable; 404 when so large that its offset would overflow."""
    number = request.args.get("page", 1, type=int)
    if number > DATABASE_INT_MAX // per_page:
        abort(404)
    return max(number, 1)


def paginate(stmt):
    """One page of a list query, PAGE_SIZE rows a page."""
    per_page = current_app.config["PAGE_SIZE"]
    return db.paginate(stmt, page=page_number(per_page), per_page=per_page, error_out=False)
