"""The nine ways of rewriting the audit chain (issue 16.4), each caught by `verify-audit-log`
and by `verify-bundle`, and the database refusing changes to the log by itself.

The attacker holds the database (as its owner: the append-only triggers dropped) but not the
audit key: they can compute SHA-256, not the HMAC. Each tampering is a function of the chain's
events, applied once to the table (then `verify-audit-log`, and a bundle exported afterwards
through `verify-bundle`) and once to the audit log inside a bundle exported before, with the
manifest re-hashed as a forger would (`verify-bundle`).
"""
from __future__ import annotations

import hashlib
import json
import secrets
import zipfile
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from oversight.domain.audit_chain import GENESIS_HASH, event_hash
from oversight.domain.vocabulary import AnchorReason
from oversight.exports import bundle
from oversight.extensions import db
from oversight.models import AuditEvent
from oversight.services.audit import append_only_lifted, record_event
from oversight.services.audit_anchors import anchor_audit_log, rotate_audit_key
from oversight.services.audit_keys import forget_cached_rings, keyring
from tests.conftest import POSTGRES_URL

FIELDS = ("occurred_at", "user_id", "actor", "action", "object_type", "object_id", "changes", "ip_address")
UNKNOWN_KEY = "20990101-deadbeef"


@dataclass
class Chain:
    """The chain as the fixture left it: which key signed what, where the daily anchor stands."""

    old_key: str
    new_key: str
    victim: int  # index of an event signed with the old key, well before the anchors
    anchored_id: int  # the daily anchor's last event


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def _views(start: int, stop: int) -> None:
    for n in range(start, stop):
        record_event("view_personal_data", "Subject", n, {"fields": ["id_number"]})
    db.session.commit()


@pytest.fixture
def chain(app, factory, tmp_path) -> Chain:
    """About 85 events: a contract, 40 views under the first key, a rotation, 30 views under the
    second key, the daily anchor, 5 views after it."""
    app.config["AUDIT_KEY_FILE"] = str(tmp_path / "keys" / "audit_keys.json")
    forget_cached_rings()
    factory.contract()
    _views(0, 40)
    old_key = keyring().current_id
    _, new_key = rotate_audit_key()
    _views(40, 70)
    anchored = anchor_audit_log(AnchorReason.DAILY)
    _views(70, 75)
    yield Chain(old_key, new_key, victim=10, anchored_id=anchored.last_id)
    forget_cached_rings()


# --- the tamperings, as functions of the chain's events (dicts with every column) -------------


def _fields(line: dict) -> dict:
    return {name: line[name] for name in FIELDS}


def _rehash(lines: list[dict], start: int, *, legacy: bool = False) -> list[dict]:
    """What someone without the key can do after a change: recompute plain SHA-256 from `start` on."""
    prev = lines[start - 1]["hash"] if start else GENESIS_HASH
    for line in lines[start:]:
        if legacy:
            line["key_id"] = None
        line["prev_hash"] = prev
        line["hash"] = event_hash(_fields(line), prev)
        prev = line["hash"]
    return lines


def _forged(lines: list[dict], *, key_id: str | None) -> dict:
    last = lines[-1]
    forged = {**deepcopy(last), "id": last["id"] + 1, "actor": "mallory", "action": "delete",
              "object_type": "Contract", "object_id": "1", "changes": {"note": "forged"}, "key_id": key_id}
    forged["prev_hash"] = last["hash"]
    forged["hash"] = event_hash(_fields(forged), last["hash"])
    return forged


def forged_unkeyed(lines, chain):
    """(1) an event appended with its hash computed as before keying"""
    return lines + [_forged(lines, key_id=None)]


def forged_with_a_key_id(lines, chain):
    """(1) the same, claiming the current key"""
    return lines + [_forged(lines, key_id=lines[-1]["key_id"])]


def field_edited(lines, chain):
    """(2) a field edited, nothing recomputed"""
    lines[chain.victim]["actor"] = "mallory"
    return lines


def field_edited_and_chain_recomputed(lines, chain):
    """(3) a field edited and every hash after it recomputed"""
    lines[chain.victim]["actor"] = "mallory"
    return _rehash(lines, chain.victim)


def field_edited_and_chain_recomputed_as_legacy(lines, chain):
    """(3) the same, passing the rest off as events from before keying"""
    lines[chain.victim]["actor"] = "mallory"
    return _rehash(lines, chain.victim, legacy=True)


def whole_chain_rewritten_as_legacy(lines, chain):
    """(3) a field edited and the whole chain recomputed from its start as if never keyed"""
    lines[chain.victim]["actor"] = "mallory"
    return _rehash(lines, 0, legacy=True)


def event_deleted_and_chain_recomputed(lines, chain):
    """(4) an event deleted and the chain recomputed after it"""
    del lines[chain.victim]
    return _rehash(lines, chain.victim)


def last_50_deleted(lines, chain):
    """(5) the last 50 events deleted"""
    return lines[:-50]


def emptied(lines, chain):
    """(6) every event deleted"""
    return []


def two_events_swapped(lines, chain):
    """(7) two events' contents (and MACs) swapped, the ids left in order"""
    first, second = lines[chain.victim], lines[chain.victim + 5]
    for name in (*FIELDS, "prev_hash", "hash", "key_id"):
        first[name], second[name] = second[name], first[name]
    return lines


def rekeyed_with_an_unknown_key(lines, chain):
    """(8) an event's key id changed to a key the system does not have"""
    lines[chain.victim]["key_id"] = UNKNOWN_KEY
    return lines


def rekeyed_with_another_key(lines, chain):
    """(8) an event's key id changed to the system's other key"""
    assert lines[chain.victim]["key_id"] == chain.old_key
    lines[chain.victim]["key_id"] = chain.new_key
    return lines


# (tampering, what verify-audit-log says, the event it names: the victim's index, or None)
CASES = {
    "forged_unkeyed": (forged_unkeyed, "启用密钥后出现了未加密钥的事件", "forged"),
    "forged_with_a_key_id": (forged_with_a_key_id, "事件内容与其哈希不符", "forged"),
    "field_edited": (field_edited, "事件内容与其哈希不符", "victim"),
    "field_edited_and_chain_recomputed": (field_edited_and_chain_recomputed, "事件内容与其哈希不符", "victim"),
    "field_edited_and_chain_recomputed_as_legacy": (field_edited_and_chain_recomputed_as_legacy,
                                                    "启用密钥后出现了未加密钥的事件", "victim"),
    "whole_chain_rewritten_as_legacy": (whole_chain_rewritten_as_legacy, "事件链被改写", "anchored"),
    "event_deleted_and_chain_recomputed": (event_deleted_and_chain_recomputed, "事件内容与其哈希不符", "successor"),
    "last_50_deleted": (last_50_deleted, "末尾的事件被删除", "anchored"),
    "emptied": (emptied, "事件表被清空", "anchored"),
    "two_events_swapped": (two_events_swapped, "前一条事件的哈希不符", "victim"),
    "rekeyed_with_an_unknown_key": (rekeyed_with_an_unknown_key, f"本系统没有的密钥“{UNKNOWN_KEY}”", "victim"),
    "rekeyed_with_another_key": (rekeyed_with_another_key, "事件内容与其哈希不符", "victim"),
}


def _named_event(where: str, lines: list[dict], chain: Chain) -> int:
    return {"forged": lambda: lines[-1]["id"] + 1, "victim": lambda: lines[chain.victim]["id"],
            "successor": lambda: lines[chain.victim + 1]["id"], "anchored": lambda: chain.anchored_id}[where]()


# --- the table ----------------------------------------------------------------------------------


def _table_lines() -> list[dict]:
    table = AuditEvent.__table__
    return [dict(row) for row in db.session.execute(select(table).order_by(table.c.id)).mappings()]


def _rewrite_table(lines: list[dict]) -> None:
    """Replace the stored chain by `lines`, below the ORM, round the append-only triggers."""
    table = AuditEvent.__table__
    with append_only_lifted(db.session.connection()):
        db.session.execute(table.delete())
        if lines:
            db.session.execute(table.insert(), lines)
            if db.engine.dialect.name == "postgresql":  # ids given explicitly: move the sequence on
                db.session.execute(text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
                                        "(SELECT max(id) FROM audit_events))"))
    db.session.commit()
    db.session.expire_all()


def test_the_untouched_chain_passes_both_checks(app, chain, tmp_path):
    verified = _cli(app, "verify-audit-log")
    assert verified.exit_code == 0, verified.output
    assert "与 2 个锚点一致" in verified.output
    out = tmp_path / "b.zip"
    assert _cli(app, "export-audit", "--year", 2025, "--out", out).exit_code == 0
    checked = _cli(app, "verify-bundle", out)
    assert checked.exit_code == 0, checked.output
    assert "签名有效" in checked.output


@pytest.mark.parametrize("case", CASES)
def test_a_tampered_table_fails_verify_audit_log_and_so_does_a_bundle_exported_from_it(app, chain, tmp_path, case):
    tamper, message, where = CASES[case]
    lines = _table_lines()
    named = _named_event(where, lines, chain)
    _rewrite_table(tamper(deepcopy(lines), chain))

    verified = _cli(app, "verify-audit-log")
    assert verified.exit_code == 1, verified.output
    assert message in verified.output and f"事件 #{named}：" in verified.output, verified.output
    assert "审计日志完整" not in verified.output

    out = tmp_path / "after.zip"
    exported = _cli(app, "export-audit", "--year", 2025, "--out", out)
    assert exported.exit_code == 0, exported.output
    checked = _cli(app, "verify-bundle", out)
    assert checked.exit_code == 1, checked.output
    assert "校验失败" in checked.output and "审计包完整" not in checked.output


# --- the bundle ---------------------------------------------------------------------------------


@pytest.fixture
def exported(app, chain, tmp_path) -> Path:
    out = tmp_path / "bundle.zip"
    result = _cli(app, "export-audit", "--year", 2025, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def _bundle_lines(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as archive:
        return [json.loads(line) for line in archive.read(bundle.AUDIT_JSONL).decode("utf-8").splitlines()]


def _jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines).encode("utf-8")


def _reforge(source: Path, target: Path, members: dict[str, bytes | None], manifest_change=None) -> Path:
    """Copy a bundle with some members replaced (None: dropped) and the manifest re-hashed to match,
    as a forger would; the anchor cannot be re-signed without the key."""
    with zipfile.ZipFile(source) as old:
        contents = {name: old.read(name) for name in old.namelist()}
    manifest = json.loads(contents.pop(bundle.MANIFEST))
    for name, content in members.items():
        if content is None:
            contents.pop(name, None)
        else:
            contents[name] = content
    entries = []
    for entry in manifest["files"]:
        if entry["path"] not in contents:
            continue
        data = contents[entry["path"]]
        entries.append({**entry, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    manifest["files"] = entries
    if bundle.AUDIT_JSONL in members:
        lines = contents[bundle.AUDIT_JSONL].decode("utf-8").splitlines()
        manifest["audit_log"]["events"] = len(lines)
        manifest["audit_log"]["last_id"] = json.loads(lines[-1])["id"] if lines else 0
    if manifest_change:
        manifest_change(manifest)
    manifest["bundle_sha256"] = bundle.bundle_digest(bundle.BundleFile(e["path"], e["sha256"], e["bytes"])
                                                     for e in manifest["files"])
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in contents.items():
            new.writestr(name, data)
        new.writestr(bundle.MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    return target


@pytest.mark.parametrize("case", CASES)
def test_the_same_tampering_inside_a_bundle_fails_verify_bundle(app, chain, exported, tmp_path, case):
    tamper, _message, _where = CASES[case]
    lines = tamper(_bundle_lines(exported), chain)
    forged = _reforge(exported, tmp_path / "forged.zip", {bundle.AUDIT_JSONL: _jsonl(lines)})
    with zipfile.ZipFile(forged) as archive:  # the forgery is consistent with its manifest
        listed = json.loads(archive.read(bundle.MANIFEST))["files"]
        assert all(hashlib.sha256(archive.read(e["path"])).hexdigest() == e["sha256"] for e in listed)
    checked = _cli(app, "verify-bundle", forged)
    assert checked.exit_code == 1, checked.output
    assert "校验失败" in checked.output and "审计包完整" not in checked.output


def _anchor_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(bundle.AUDIT_ANCHOR))


def anchor_edited_to_match_a_shorter_log(source, target, app):
    """(9) the last 10 events cut and the anchor's head edited to match"""
    lines = _bundle_lines(source)[:-10]
    anchor = {**_anchor_of(source), "last_id": lines[-1]["id"], "last_hash": lines[-1]["hash"], "events": len(lines)}
    return _reforge(source, target, {bundle.AUDIT_JSONL: _jsonl(lines),
                                     bundle.AUDIT_ANCHOR: json.dumps(anchor).encode()}), "签名无效"


def anchor_replaced_by_an_older_signed_one(source, target, app):
    """(9) the log cut back to the daily anchor's head, and that genuine anchor put in the bundle"""
    daily = next(json.loads(line) for line in Path(app.config["AUDIT_ANCHOR_FILE"]).read_text().splitlines()
                 if json.loads(line)["reason"] == "daily")
    lines = [line for line in _bundle_lines(source) if line["id"] <= daily["last_id"]]
    return _reforge(source, target, {bundle.AUDIT_JSONL: _jsonl(lines),
                                     bundle.AUDIT_ANCHOR: json.dumps(daily).encode()}), "锚点所签名的摘要不符"


def anchor_removed(source, target, app):
    """(9) the anchor dropped from the bundle and its manifest"""
    return _reforge(source, target, {bundle.AUDIT_ANCHOR: None}), "缺少审计日志锚点"


def downgraded_to_the_old_format(source, target, app):
    """(9) the anchor dropped and the bundle passed off as one from before keying"""
    def old_format(manifest):
        manifest["format"] = bundle.LEGACY_BUNDLE_FORMAT

    return _reforge(source, target, {bundle.AUDIT_ANCHOR: None}, old_format), "不应有加密钥的事件"


def an_event_edited(source, target, app):
    """(9) one event of the bundle's log edited"""
    lines = _bundle_lines(source)
    lines[20]["actor"] = "mallory"
    return _reforge(source, target, {bundle.AUDIT_JSONL: _jsonl(lines)}), "事件内容与其哈希不符"


def a_record_file_changed(source, target, app):
    """(9) a records file changed (not the log), the manifest re-hashed"""
    with zipfile.ZipFile(source) as archive:
        contracts = archive.read("records/contracts.csv")
    return (_reforge(source, target, {"records/contracts.csv": contracts.replace(b"\r\n", b"\r\nx,", 1)}),
            "锚点所签名的摘要不符")


BUNDLE_CASES = [anchor_edited_to_match_a_shorter_log, anchor_replaced_by_an_older_signed_one, anchor_removed,
                downgraded_to_the_old_format, an_event_edited, a_record_file_changed]


@pytest.mark.parametrize("forge", BUNDLE_CASES, ids=lambda forge: forge.__name__)
def test_an_edited_bundle_or_anchor_fails_verify_bundle(app, chain, exported, tmp_path, forge):
    forged, message = forge(exported, tmp_path / "forged.zip", app)
    checked = _cli(app, "verify-bundle", forged)
    assert checked.exit_code == 1, checked.output
    assert message in checked.output, checked.output


# --- append-only in the database itself ---------------------------------------------------------


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events",
                                       "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)"])
def test_the_database_refuses_to_change_or_delete_audit_events(app, factory, statement):
    factory.contractor()
    before = _table_lines()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert _table_lines() == before


@pytest.mark.skipif(not POSTGRES_URL, reason="TRUNCATE and roles are PostgreSQL's")
def test_postgresql_refuses_truncate_and_a_non_owner_role_cannot_change_or_unguard_the_log(app, factory):
    factory.contractor()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_events CASCADE"))
    db.session.rollback()
    role = f"oversight_app_{secrets.token_hex(4)}"
    schema = app.config["TEST_SCHEMA"]
    # No pool: the connection that took the role is closed with it, never handed out again.
    # As the server's superuser (the run's own role may not create roles), in the run's schema.
    owner = create_engine(POSTGRES_URL, poolclass=NullPool, connect_args={"options": f"-csearch_path={schema}"})
    grants = [f'CREATE ROLE "{role}"', f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
              f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
              f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
              f'REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM "{role}"']
    try:
        with owner.begin() as connection:
            for grant in grants:
                connection.execute(text(grant))
        with owner.connect() as connection:
            connection.execute(text(f'SET ROLE "{role}"'))  # for the rest of this connection's session
            last = connection.execute(text("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")).one()
            connection.commit()
            for statement, refusal in (("UPDATE audit_events SET actor = 'mallory'", "permission denied"),
                                       ("DELETE FROM audit_events", "permission denied"),
                                       ("TRUNCATE audit_events", "permission denied"),
                                       ("DROP TRIGGER audit_events_append_only ON audit_events", "must be owner")):
                with pytest.raises(DBAPIError, match=refusal), connection.begin():
                    connection.execute(text(statement))
            with connection.begin():  # appending stays allowed
                connection.execute(text(
                    "INSERT INTO audit_events (occurred_at, actor, action, object_type, changes, prev_hash, hash) "
                    "VALUES (now(), 'app', 'login', 'User', '{}', :prev, :hash)"), {"prev": last.hash, "hash": "f" * 64})
    finally:
        with owner.begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))
        owner.dispose()
