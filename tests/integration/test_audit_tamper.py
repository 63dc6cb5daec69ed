"""The nine ways of rewriting the audit chain (issue 16.4), each caught by `verify-audit-log`
and by `verify-bundle` in every chain — the city chain and a county's — plus moving an event
into another county's chain, and the database refusing changes to the log by itself.

The attacker holds the database (as its owner: the append-only triggers dropped) but not the
audit key: they can compute SHA-256, not the HMAC. Each tampering is a function of one chain's
events, applied once to the table (then `verify-audit-log`, and a bundle exported afterwards
through `verify-bundle`) and once to the audit log inside a bundle exported before, with the
manifest re-hashed as a forger would (`verify-bundle`). The chains' events are interleaved by
id, as counties writing at the same time leave them.
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
from oversight.models import Area, AuditEvent
from oversight.services.areas import ensure_area
from oversight.services.audit import append_only_lifted, record_event
from oversight.services.audit_anchors import anchor_audit_log, rotate_audit_key
from oversight.services.audit_keys import forget_cached_rings, keyring
from tests.conftest import POSTGRES_URL

FIELDS = ("occurred_at", "user_id", "actor", "action", "object_type", "object_id", "changes", "ip_address")
UNKNOWN_KEY = "20990101-deadbeef"
CITY, NORTH, SOUTH = "city", "north", "south"  # the chains a tampering is tried in


@dataclass
class Chain:
    """The chains as the fixture left them: which key signed what, where the daily anchor stands."""

    old_key: str
    new_key: str
    counties: dict[str, int | None]  # chain → county id (None: the city chain)
    names: dict[str, str]  # chain → its name in messages
    anchored: dict[str, int]  # chain → the daily anchor's last event of that chain
    victim: int = 8  # index, within a chain, of an event signed with the old key, well before the anchor
    top_id: int = 0  # the highest id of the log being tampered with


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def _views(start: int, stop: int, counties: list[int | None]) -> None:
    for n in range(start, stop):  # round the chains: city, north, south, city, …
        record_event("view_personal_data", "Subject", n, {"fields": ["id_number"]}, county_id=counties[n % 3])
    db.session.commit()


def counties_of_a_city() -> tuple[Area, Area]:
    """Two counties of 赣州市: 赣县区 (the install's home county) and 南康区."""
    north, south = ensure_area("360704", "赣县区"), ensure_area("360703", "南康区")
    db.session.commit()
    return north, south


@pytest.fixture
def chain(app, factory, tmp_path) -> Chain:
    """About 130 events in three chains: a contract and the areas, 63 views under the first key
    (21 a chain), a rotation, 45 views under the second key, the daily anchor, 9 views after it."""
    app.config["AUDIT_KEY_FILE"] = str(tmp_path / "keys" / "audit_keys.json")
    forget_cached_rings()
    factory.contract()
    north, south = counties_of_a_city()
    counties = [None, north.id, south.id]
    _views(0, 63, counties)
    old_key = keyring().current_id
    _, new_key = rotate_audit_key()
    _views(63, 108, counties)
    anchored = anchor_audit_log(AnchorReason.DAILY)
    _views(108, 117, counties)
    by_chain = dict(zip((CITY, NORTH, SOUTH), counties, strict=True))
    yield Chain(old_key, new_key, by_chain,
                {CITY: "市级审计链", NORTH: "赣县区（360704）审计链", SOUTH: "南康区（360703）审计链"},
                {name: anchored.head_of(county).last_id for name, county in by_chain.items()})
    forget_cached_rings()


# --- the tamperings, as functions of one chain's events (dicts with every column) -------------


def _fields(line: dict) -> dict:
    return {name: line[name] for name in FIELDS}


def _rehash(lines: list[dict], start: int, *, legacy: bool = False) -> list[dict]:
    """What someone without the key can do after a change: recompute plain SHA-256 from `start` on."""
    prev = lines[start - 1]["hash"] if start else GENESIS_HASH
    for line in lines[start:]:
        if legacy:
            line["key_id"] = None
        line["prev_hash"] = prev
        line["hash"] = event_hash(_fields(line), prev, line["county_id"])
        prev = line["hash"]
    return lines


def _forged(lines: list[dict], chain: Chain, *, key_id: str | None) -> dict:
    last = lines[-1]
    forged = {**deepcopy(last), "id": chain.top_id + 1, "actor": "mallory", "action": "delete",
              "object_type": "Contract", "object_id": "1", "changes": {"note": "forged"}, "key_id": key_id}
    forged["prev_hash"] = last["hash"]
    forged["hash"] = event_hash(_fields(forged), last["hash"])
    return forged


def forged_unkeyed(lines, chain):
    """(1) an event appended with its hash computed as before keying"""
    return lines + [_forged(lines, chain, key_id=None)]


def forged_with_a_key_id(lines, chain):
    """(1) the same, claiming the current key"""
    return lines + [_forged(lines, chain, key_id=lines[-1]["key_id"])]


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


def tail_deleted(lines, chain):
    """(5) the chain's last 20 events deleted (the anchored one among them)"""
    return lines[:-20]


def emptied(lines, chain):
    """(6) every event of the chain deleted"""
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


def _other_county(lines, chain) -> int:
    own = lines[0]["county_id"]
    return next(county for county in chain.counties.values() if county is not None and county != own)


def moved_to_another_county(lines, chain):
    """(10) an event moved into another county's chain, as it was"""
    lines[chain.victim]["county_id"] = _other_county(lines, chain)
    return lines


def moved_and_linked_into_the_other_chain(lines, chain):
    """(10) the same, its previous hash set to the other chain's event before it"""
    lines[chain.victim]["county_id"] = _other_county(lines, chain)
    lines[chain.victim]["prev_hash"] = "linked later"  # _tampered() links it to its new chain
    return lines


MAC = "事件内容与其哈希不符"
LINK = "前一条事件的哈希不符"
UNKEYED = "启用密钥后出现了未加密钥的事件"
UNKEYED_IN_COUNTY = "区县的审计链中出现了未加密钥的事件"
# (tampering, what verify-audit-log says in the city chain and in a county's, the event it names,
# and the chain it names: the tampered one, or the one the event was moved into)
CASES = {
    "forged_unkeyed": (forged_unkeyed, UNKEYED, UNKEYED_IN_COUNTY, "forged", "own"),
    "forged_with_a_key_id": (forged_with_a_key_id, MAC, MAC, "forged", "own"),
    "field_edited": (field_edited, MAC, MAC, "victim", "own"),
    "field_edited_and_chain_recomputed": (field_edited_and_chain_recomputed, MAC, MAC, "victim", "own"),
    "field_edited_and_chain_recomputed_as_legacy": (field_edited_and_chain_recomputed_as_legacy,
                                                    UNKEYED, UNKEYED_IN_COUNTY, "victim", "own"),
    "whole_chain_rewritten_as_legacy": (whole_chain_rewritten_as_legacy, "事件链被改写", UNKEYED_IN_COUNTY,
                                        ("anchored", "first"), "own"),
    "event_deleted_and_chain_recomputed": (event_deleted_and_chain_recomputed, MAC, MAC, "successor", "own"),
    "tail_deleted": (tail_deleted, "末尾的事件被删除", "末尾的事件被删除", "anchored", "own"),
    "emptied": (emptied, "为空", "为空", "anchored", "own"),
    "two_events_swapped": (two_events_swapped, LINK, LINK, "victim", "own"),
    "rekeyed_with_an_unknown_key": (rekeyed_with_an_unknown_key, f"本系统没有的密钥“{UNKNOWN_KEY}”",
                                    f"本系统没有的密钥“{UNKNOWN_KEY}”", "victim", "own"),
    "rekeyed_with_another_key": (rekeyed_with_another_key, MAC, MAC, "victim", "own"),
    "moved_to_another_county": (moved_to_another_county, LINK, LINK, "victim", "other"),
    "moved_and_linked_into_the_other_chain": (moved_and_linked_into_the_other_chain, MAC, MAC, "victim", "other"),
}
CHAIN_CASES = [(case, name) for case in CASES for name in (CITY, NORTH)]


def _own(lines: list[dict], chain: Chain, name: str) -> list[dict]:
    return [line for line in lines if line["county_id"] == chain.counties[name]]


def _tampered(tamper, lines: list[dict], chain: Chain, name: str) -> list[dict]:
    """The log with one chain's events replaced by the tampering's, the others as they were."""
    chain.top_id = max(line["id"] for line in lines)
    county = chain.counties[name]
    others = [line for line in lines if line["county_id"] != county]
    changed = tamper(deepcopy(_own(lines, chain, name)), chain)
    merged = sorted(others + changed, key=lambda line: line["id"])
    heads: dict = {}
    for line in merged:  # a moved event linked to the event before it in its new chain
        if line["prev_hash"] == "linked later":
            line["prev_hash"] = heads.get(line["county_id"], GENESIS_HASH)
        heads[line["county_id"]] = line["hash"]
    return merged


def _named_event(where, lines: list[dict], chain: Chain, name: str) -> int:
    if isinstance(where, tuple):  # the city chain's case, a county's
        where = where[0] if name == CITY else where[1]
    own = _own(lines, chain, name)
    return {"forged": lambda: max(line["id"] for line in lines) + 1, "victim": lambda: own[chain.victim]["id"],
            "successor": lambda: own[chain.victim + 1]["id"], "anchored": lambda: chain.anchored[name],
            "first": lambda: own[0]["id"]}[where]()


def _named_chain(which: str, lines: list[dict], chain: Chain, name: str) -> str:
    if which == "own":
        return chain.names[name]
    county = _other_county(_own(lines, chain, name), chain)
    return next(chain.names[other] for other, id_ in chain.counties.items() if id_ == county)


def _expected(case: str, name: str, lines: list[dict], chain: Chain) -> tuple[str, int, str]:
    _tamper, city_message, county_message, where, which = CASES[case]
    return (city_message if name == CITY else county_message, _named_event(where, lines, chain, name),
            _named_chain(which, lines, chain, name))


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


def test_the_untouched_chains_pass_both_checks(app, chain, tmp_path):
    verified = _cli(app, "verify-audit-log")
    assert verified.exit_code == 0, verified.output
    assert "与 2 个锚点一致" in verified.output
    assert all(f"{chain_name}：" in verified.output for chain_name in chain.names.values()), verified.output
    out = tmp_path / "b.zip"
    assert _cli(app, "export-audit", "--year", 2025, "--out", out).exit_code == 0
    checked = _cli(app, "verify-bundle", out)
    assert checked.exit_code == 0, checked.output
    assert "签名有效" in checked.output


@pytest.mark.parametrize("case, name", CHAIN_CASES)
def test_a_tampered_table_fails_verify_audit_log_and_so_does_a_bundle_exported_from_it(app, chain, tmp_path,
                                                                                       case, name):
    lines = _table_lines()
    message, named, chain_name = _expected(case, name, lines, chain)
    _rewrite_table(_tampered(CASES[case][0], deepcopy(lines), chain, name))

    verified = _cli(app, "verify-audit-log")
    assert verified.exit_code == 1, verified.output
    assert message in verified.output and f"{chain_name}，事件 #{named}：" in verified.output, verified.output
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


@pytest.mark.parametrize("case, name", CHAIN_CASES)
def test_the_same_tampering_inside_a_bundle_fails_verify_bundle(app, chain, exported, tmp_path, case, name):
    lines = _tampered(CASES[case][0], _bundle_lines(exported), chain, name)
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


def _heads_of(lines: list[dict]) -> list[dict]:
    heads: dict = {}
    for line in lines:
        before = heads.get(line["county_id"], {"events": 0})
        heads[line["county_id"]] = {"county_id": line["county_id"], "last_id": line["id"], "last_hash": line["hash"],
                                    "events": before["events"] + 1}
    return [heads[county] for county in sorted(heads, key=lambda county: (county is not None, county or 0))]


def _root_of(heads: list[dict]) -> str:
    text = "\n".join(f"{'city' if head['county_id'] is None else head['county_id']}:{head['last_id']}:"
                     f"{head['last_hash']}:{head['events']}" for head in heads)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def anchor_edited_to_match_a_shorter_log(source, target, app):
    """(9) a county chain's last 5 events cut and the anchor's heads and root edited to match"""
    lines = _bundle_lines(source)
    county = next(line["county_id"] for line in lines if line["county_id"] is not None)
    cut = {line["id"] for line in lines if line["county_id"] == county}
    cut = set(sorted(cut)[-5:])
    lines = [line for line in lines if line["id"] not in cut]
    heads = _heads_of(lines)
    anchor = {**_anchor_of(source), "heads": heads, "root_hash": _root_of(heads)}
    return _reforge(source, target, {bundle.AUDIT_JSONL: _jsonl(lines),
                                     bundle.AUDIT_ANCHOR: json.dumps(anchor).encode()}), "签名无效"


def anchor_root_edited(source, target, app):
    """(9) the anchor's root hash replaced"""
    anchor = {**_anchor_of(source), "root_hash": "0" * 64}
    return _reforge(source, target, {bundle.AUDIT_ANCHOR: json.dumps(anchor).encode()}), "签名无效"


def anchor_replaced_by_an_older_signed_one(source, target, app):
    """(9) every chain cut back to its head in the daily anchor, and that genuine anchor put in the bundle"""
    daily = next(json.loads(line) for line in Path(app.config["AUDIT_ANCHOR_FILE"]).read_text().splitlines()
                 if json.loads(line)["reason"] == "daily")
    last = {head["county_id"]: head["last_id"] for head in daily["heads"]}
    lines = [line for line in _bundle_lines(source) if line["id"] <= last.get(line["county_id"], 0)]
    assert _heads_of(lines) == daily["heads"]
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


BUNDLE_CASES = [anchor_edited_to_match_a_shorter_log, anchor_root_edited, anchor_replaced_by_an_older_signed_one,
                anchor_removed,
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
