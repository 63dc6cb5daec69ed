"""Fingerprints of the evidence a review or an evaluation was computed from, and what changed since.

Evidence comes in sources (a review: one per KPI; an evaluation: its quarters, payments and
contract), each a set of rows whose first value is the row's id (a record id, a quarter) and
whose other values are the fields the figures read. The fingerprint is a SHA-256 over the
canonical JSON of every source's rows in id order, so it changes exactly when a row is added,
removed or has a field changed. Beside each source's own SHA-256 it keeps a short digest per
row, enough to say later which rows were added, removed or changed (not what they were).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

FORMAT = 1
ROW_DIGEST_LENGTH = 12  # hex digits (48 bits): only to tell which row changed, never whether one did
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


def _id_order(row_id: str | int) -> tuple:
    return (0, row_id, "") if isinstance(row_id, int) else (1, 0, str(row_id))


def _in_id_order(ids: Iterable[str]) -> tuple[str, ...]:
    """Row ids as stored (text): numbers in numeric order first, then the rest."""
    return tuple(sorted(ids, key=lambda text: _id_order(int(text)) if text.lstrip("-").isdigit() else _id_order(text)))


@dataclass(frozen=True)
class SourceFingerprint:
    """One source's SHA-256 and each of its rows' short digest (by the row id written as text)."""

    digest: str
    rows: Mapping[str, str]

    def to_json(self) -> dict:
        return {"digest": self.digest, "rows": dict(self.rows)}

    @classmethod
    def from_json(cls, data: Mapping) -> SourceFingerprint:
        return cls(digest=str(data["digest"]), rows={str(key): str(value) for key, value in data["rows"].items()})


@dataclass(frozen=True)
class Fingerprint:
    """The evidence fingerprint: one SHA-256 over every source's, and the sources themselves."""

    digest: str
    sources: Mapping[str, SourceFingerprint]

    def to_json(self) -> dict:
        return {"format": FORMAT, "digest": self.digest,
                "sources": {key: source.to_json() for key, source in self.sources.items()}}

    @classmethod
    def from_json(cls, data: Mapping) -> Fingerprint:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown fingerprint format {data.get('format')!r}")
        return cls(digest=str(data["digest"]),
                   sources={str(key): SourceFingerprint.from_json(value) for key, value in data["sources"].items()})


def source_fingerprint(rows: Iterable[Sequence]) -> SourceFingerprint:
    """The fingerprint of one source's rows (each `(id, *fields)`; ids unique, any order)."""
    by_id: dict[str | int, str] = {}
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
        by_id[row_id] = _row_json(row)
    ordered = sorted(by_id, key=_id_order)
    texts = [by_id[row_id] for row_id in ordered]
    return SourceFingerprint(
        digest=_sha256("[" + ",".join(texts) + "]"),  # canonical_json of the rows in id order
        rows={str(row_id): _sha256(text)[:ROW_DIGEST_LENGTH] for row_id, text in zip(ordered, texts)},
    )


def fingerprint(sources: Mapping[str, Iterable[Sequence]]) -> Fingerprint:
    """The fingerprint of every source's rows; the overall digest covers the source keys too."""
    found = {key: source_fingerprint(rows) for key, rows in sources.items()}
    digest = _sha256(canonical_json({"format": FORMAT, "sources": {key: item.digest for key, item in found.items()}}))
    return Fingerprint(digest=digest, sources=dict(sorted(found.items())))


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
