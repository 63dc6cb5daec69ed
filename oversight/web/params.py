"""Integers from URLs and query strings, kept within what the database can compare.

Ids are INTEGER columns: 32 signed bits on PostgreSQL (SQLite keeps 64). A larger value in a
query raises in the driver (OverflowError on SQLite, "integer out of range" on PostgreSQL: a
500), so such values are refused before any query: a path id answers 404, like any id that
does not exist. Offsets (LIMIT/OFFSET) are 64-bit on both.
"""
from __future__ import annotations

from flask import abort, current_app, request
from werkzeug.routing import IntegerConverter

from ..extensions import db

ID_MAX = 2**31 - 1
OFFSET_MAX = 2**63 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in every route: non-negative, at most the largest id an INTEGER column holds."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def database_int(text: str) -> int:
    """For `request.args.get(name, type=database_int)`: an id out of range reads as absent."""
    value = int(text)
    if not 0 <= value <= ID_MAX:
        raise ValueError(f"{text!r} is beyond the database's ids")
    return value


def page_number(per_page: int) -> int:
    """`?page=`: 1 when absent or unreadable; 404 when so large that its offset would overflow."""
    number = request.args.get("page", 1, type=int)
    if number > OFFSET_MAX // per_page:
        abort(404)
    return max(number, 1)


def paginate(stmt):
    """One page of a list query, PAGE_SIZE rows a page."""
    per_page = current_app.config["PAGE_SIZE"]
    return db.paginate(stmt, page=page_number(per_page), per_page=per_page, error_out=False)
