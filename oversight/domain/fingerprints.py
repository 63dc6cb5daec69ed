"""Fingerprints of the evidence a review or an evaluation was computed from, and what changed since.

Evidence comes in sources (a review: one per KPI; an evaluation: its quarters, payments and
contract), each a set of rows whose first value is the row's id (a record id, a quarter) and
whose other values are the fields the figures read. The fingerprint is a SHA-256 over the
canonical JSON of every source's rows in id order, so it changes exactly when a row is added,
removed or has a field changed. Beside each source's own SHA-256 it keeps a short digest per
row, enough to say later which rows were added, removed or changed (not what they were).

Formats (`to_json` writes the newest, `from_json` reads both): the SHA-256 digests, and so what
every stored fingerprint says about its evidence, are the same in both; they differ in the row
digests, which are compared only between fingerprints of one format (`changes`), so that the
current fingerprint of a stored one is computed in its format (`fingerprint(…, row_format=)`).
- 1: an object of row id → the first 12 hex digits of the SHA-256 of the row's canonical JSON;
- 2: per source its row ids in id order and their CRC-32s (8 hex digits) packed into one string:
  a quarter's review has tens of thousands of rows, and a JSON object and a SHA-256 per row made
  scoring and writing the review and its audit event slow. A row digest only tells which rows
  changed, never whether one did (the SHA-256s do): a 1-in-4-billion miss in that list is fine.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from zlib import crc32

FORMAT = 2  # the newest format (module docstring), written by `to_json` and computed by default
FORMAT_1 = 1
HASHED_FORMAT = 1  # the format named in the overall digest: the hashed bytes have not changed since
ROW_DIGEST_WIDTHS = {FORMAT_1: 12, FORMAT: 8}  # hex digits of a row digest per format
MAX_IDS_SHOWN = 5


def _plain(value: object) -> object:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    raise TypeError(f"evidence values must be None, bool, int, str, Decimal, date or datetime, not {type(value).__name__}")


def canonical_json(value: object) -> str:
    """The one serialisation every fingerprint hashes: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_json_str = json.encoder.encode_basestring  # what canonical_json writes for a str (ensure_ascii off)


def _value_json(value: object) -> str:
    """`canonical_json(_plain(value))`, the common kinds written directly: a quarter's review
    fingerprints tens of thousands of rows, and json.dumps sets up an encoder on every call."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return _json_str(value)
    if kind is date or kind is datetime:  # ISO text needs no escaping
        return f'"{value.isoformat()}"'
    return canonical_json(_plain(value))


def _row_json(row: Sequence) -> str:
    """`canonical_json([id, *fields])` of an evidence row (a list is its items' JSON joined by commas)."""
    return "[" + ",".join(map(_value_json, row)) + "]"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_BOOL_JSON = {True: "true", False: "false"}


def _column_json(values: tuple) -> Iterable[str]:
    """`_value_json` of each of a column's values; a column of one common kind by C calls alone
    (no Python call per value: the completion column of a large contract's quarter is 14,000 rows)."""
    kinds = set(map(type, values))
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind is int:
        return map(int.__repr__, values)
    if kind is bool:
        return map(_BOOL_JSON.__getitem__, values)
    if kind is str:
        return map(_json_str, values)
    if kind is date:  # each distinct day once: a quarter has some 90 due dates (ISO text needs no escaping)
        written = {value: f'"{value.isoformat()}"' for value in set(values)}
        return map(written.__getitem__, values)
    if kind is datetime:
        return map('"%s"'.__mod__, map(datetime.isoformat, values))
    return map(_value_json, values)


def _rows_json(rows: list[Sequence]) -> list[str]:
    """`_row_json` of each row; rows of one length column by column (`_column_json`)."""
    widths = set(map(len, rows))
    if len(widths) != 1:
        return list(map(_row_json, rows))
    template = "[" + ",".join(["%s"] * widths.pop()) + "]"  # %-formatting a tuple: much faster than str.format
    return list(map(template.__mod__, zip(*map(_column_json, zip(*rows)))))


def _id_order(row_id: str | int) -> tuple:
    return (0, row_id, "") if isinstance(row_id, int) else (1, 0, str(row_id))


def _in_id_order(ids: Iterable[str]) -> tuple[str, ...]:
    """Row ids as stored (text): numbers in numeric order first, then the rest."""
    return tuple(sorted(ids, key=lambda text: _id_order(int(text)) if text.lstrip("-").isdigit() else _id_order(text)))


@dataclass(frozen=True)
class SourceFingerprint:
    """One source's SHA-256, its row ids (written as text) in id order, and the rows' short
    digests (of `row_format`) in the same order, packed into one string of fixed width."""

    digest: str
    ids: tuple[str, ...]
    packed: str
    row_format: int = FORMAT

    def __post_init__(self):
        if len(self.packed) != len(self.ids) * ROW_DIGEST_WIDTHS[self.row_format]:
            raise ValueError(f"{len(self.ids)} row ids but {len(self.packed)} digits of row digests")

    @cached_property
    def rows(self) -> Mapping[str, str]:
        """Each row's short digest by its id."""
        width = ROW_DIGEST_WIDTHS[self.row_format]
        return {row_id: self.packed[at:at + width] for row_id, at in zip(self.ids, range(0, len(self.packed), width))}

    def to_json(self) -> dict:
        if self.row_format == FORMAT_1:
            return {"digest": self.digest, "rows": dict(self.rows)}
        return {"digest": self.digest, "ids": list(self.ids), "rows": self.packed}

    @classmethod
    def from_json(cls, data: Mapping, stored_format: int = FORMAT) -> SourceFingerprint:
        rows = data["rows"]
        if stored_format == FORMAT_1:  # an object of row id → digest, in id order
            return cls(digest=str(data["digest"]), ids=tuple(str(key) for key in rows),
                       packed="".join(str(value) for value in rows.values()), row_format=FORMAT_1)
        return cls(digest=str(data["digest"]), ids=tuple(str(row_id) for row_id in data["ids"]), packed=str(rows))


@dataclass(frozen=True)
class Fingerprint:
    """The evidence fingerprint: one SHA-256 over every source's, and the sources themselves."""

    digest: str
    sources: Mapping[str, SourceFingerprint]
    format: int = FORMAT

    def to_json(self) -> dict:
        return {"format": self.format, "digest": self.digest,
                "sources": {key: source.to_json() for key, source in self.sources.items()}}

    @classmethod
    def from_json(cls, data: Mapping) -> Fingerprint:
        stored_format = data.get("format")
        if stored_format not in ROW_DIGEST_WIDTHS:
            raise ValueError(f"unknown fingerprint format {stored_format!r}")
        return cls(digest=str(data["digest"]),
                   sources={str(key): SourceFingerprint.from_json(value, stored_format)
                            for key, value in data["sources"].items()},
                   format=stored_format)


def _refuse_bad_ids(rows: list[Sequence]) -> None:
    """Raise for the first row without an id, with an id neither int nor str, or with an id seen before."""
    seen: set[str] = set()
    for row in rows:
        if not row:
            raise ValueError("an evidence row needs at least its id")
        row_id = row[0]
        if isinstance(row_id, bool) or not isinstance(row_id, (int, str)):
            raise TypeError(f"an evidence row's id must be an int or str, not {type(row_id).__name__}")
        if str(row_id) in seen:
            raise ValueError(f"evidence row id {row_id!r} appears twice")
        seen.add(str(row_id))


def _row_digests(texts: list[str], row_format: int) -> str:
    """The packed row digests of the rows' canonical JSON texts, in the format asked for."""
    if row_format == FORMAT_1:
        return "".join([hashlib.sha256(text.encode("utf-8")).hexdigest()[:12] for text in texts])
    return "".join(map("%08x".__mod__, map(crc32, map(str.encode, texts))))


@dataclass(frozen=True)
class WrittenRows:
    """A source's rows given as their canonical JSON texts (`canonical_json([id, *fields])` of each,
    written elsewhere: `services.kpi_evidence` has the database's text of days and times turned
    into it) beside their ids, in the same order: fingerprinted exactly as the rows would be."""

    ids: Sequence[int | str]
    texts: Sequence[str]


def source_fingerprint(rows: Iterable[Sequence] | WrittenRows, row_format: int = FORMAT) -> SourceFingerprint:
    """The fingerprint of one source's rows (each `(id, *fields)`; ids unique, any order), its row
    digests in `row_format`; or of rows already written as canonical JSON (`WrittenRows`)."""
    if isinstance(rows, WrittenRows):
        ids, texts = list(rows.ids), list(rows.texts)
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} row ids but {len(texts)} rows")
        rows = [(row_id,) for row_id in ids]  # for `_refuse_bad_ids` only
    else:
        rows = list(rows)
        if not all(rows):
            _refuse_bad_ids(rows)
        ids, texts = [row[0] for row in rows], None
    id_texts = list(map(str, ids))
    id_kinds = set(map(type, ids))
    if not id_kinds <= {int, str} or len(set(id_texts)) != len(ids):
        _refuse_bad_ids(rows)
    if texts is None:
        texts = _rows_json(rows)
    if id_kinds <= {int} and sorted(ids) == ids:  # read in id order already (the usual case): nothing to reorder
        ordered_ids = tuple(id_texts)
    else:
        order = sorted(range(len(ids)), key=ids.__getitem__ if id_kinds <= {int} else lambda at: _id_order(ids[at]))
        texts = [texts[at] for at in order]
        ordered_ids = tuple(id_texts[at] for at in order)
    return SourceFingerprint(
        digest=_sha256("[" + ",".join(texts) + "]"),  # canonical_json of the rows in id order
        ids=ordered_ids,
        packed=_row_digests(texts, row_format),
        row_format=row_format,
    )


def fingerprint(sources: Mapping[str, Iterable[Sequence] | WrittenRows], row_format: int = FORMAT) -> Fingerprint:
    """The fingerprint of every source's rows; the overall digest covers the source keys too.
    `row_format`: that of a stored fingerprint this one is to be compared with (`changes`)."""
    found = {key: source_fingerprint(rows, row_format) for key, rows in sources.items()}
    digest = _sha256(canonical_json({"format": HASHED_FORMAT,
                                     "sources": {key: item.digest for key, item in found.items()}}))
    return Fingerprint(digest=digest, sources=dict(sorted(found.items())), format=row_format)


def logged_summary(stored: Mapping) -> dict:
    """A stored fingerprint as the audit log records it: its digest and each source's digest and
    row count. The row digests (tens of thousands for a quarter) stay on the record itself; the
    digests alone show whether the evidence changed between two events."""
    if not isinstance(stored, Mapping) or not isinstance(stored.get("sources"), Mapping):
        return stored
    return {"format": stored.get("format"), "digest": stored.get("digest"),
            "sources": {key: {"digest": source.get("digest"), "rows": len(source.get("ids", source.get("rows", ())))}
                        for key, source in stored["sources"].items()}}


@dataclass(frozen=True)
class SourceChange:
    """What differs in one source between two fingerprints: row ids added, removed, changed."""

    key: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)


def changes(stored: Fingerprint, current: Fingerprint) -> tuple[SourceChange, ...]:
    """Each source whose rows differ, in source order (empty when the fingerprints match)."""
    if stored.digest == current.digest:
        return ()
    if stored.format != current.format:
        raise ValueError(f"row digests of format {stored.format} and {current.format} cannot be compared: "
                         "compute the current fingerprint in the stored one's format")
    found = []
    for key in sorted(set(stored.sources) | set(current.sources)):
        before = stored.sources.get(key)
        after = current.sources.get(key)
        if before is not None and after is not None and before.digest == after.digest:
            continue
        old = before.rows if before is not None else {}
        new = after.rows if after is not None else {}
        found.append(SourceChange(
            key=key,
            added=_in_id_order(set(new) - set(old)),
            removed=_in_id_order(set(old) - set(new)),
            changed=_in_id_order(row_id for row_id in set(old) & set(new) if old[row_id] != new[row_id]),
        ))
    return tuple(found)


def _ids(ids: Sequence[str], prefix: str) -> str:
    shown = "、".join(f"{prefix}{row_id}" for row_id in ids[:MAX_IDS_SHOWN])
    return shown + (f" 等{len(ids)}条" if len(ids) > MAX_IDS_SHOWN else "")


def describe(change: SourceChange, label: str, id_prefix: str = "#") -> str:
    """One source's change in Chinese, e.g. “服务真实率：新增1条（#123）；内容变化1条（#45）”."""
    parts = [f"{what}{len(ids)}条（{_ids(ids, id_prefix)}）"
             for what, ids in (("新增", change.added), ("减少", change.removed), ("内容变化", change.changed)) if ids]
    return f"{label}：{'；'.join(parts) if parts else '依据记录有变化'}"
