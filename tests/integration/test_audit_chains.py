"""One audit chain per county and one for rows of no county: events go to their county's chain,
the anchor records every chain's head and a root an auditor can recompute, a database from
before the counties keeps its chain (and its single-chain anchors) as the city chain, and on
PostgreSQL two counties' appends do not wait on one lock."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from oversight.domain.audit_chain import GENESIS_HASH, event_hash
from oversight.domain.vocabulary import AnchorReason
from oversight.extensions import db
from oversight.models import Area, AuditEvent
from oversight.services.audit import append_only_lifted, lock_chain, record_event
from oversight.services.audit_anchors import anchor_audit_log, check_audit_log
from oversight.services.audit_keys import keyring
from tests.conftest import POSTGRES_URL
from tests.integration.test_audit_tamper import counties_of_a_city

FIELDS = ("occurred_at", "user_id", "actor", "action", "object_type", "object_id", "changes", "ip_address")


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def _anchor_lines(app) -> list[dict]:
    return [json.loads(line) for line in Path(app.config["AUDIT_ANCHOR_FILE"]).read_text().splitlines()]


def _views(counties, rounds: int = 3) -> None:
    for n in range(rounds):
        for county in counties:
            record_event("view_personal_data", "Subject", n, {"fields": ["phone"]}, county_id=county)
    db.session.commit()


def _heads_from_the_table(before_id: int) -> list[tuple]:
    """(county, last id, its MAC, events) per chain, straight from SQL: what an auditor reads."""
    rows = db.session.execute(select(AuditEvent.county_id, func.max(AuditEvent.id), func.count())
                              .where(AuditEvent.id < before_id).group_by(AuditEvent.county_id)).all()
    heads = [(county, last, db.session.get(AuditEvent, last).hash, count) for county, last, count in rows]
    return sorted(heads, key=lambda head: (head[0] is not None, head[0] or 0))


def test_each_chain_links_only_its_own_events_and_the_anchor_s_root_can_be_recomputed(app, factory):
    north, south = counties_of_a_city()
    _views([None, north.id, south.id, north.id])
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    for county in (None, north.id, south.id):
        own = [event for event in events if event.county_id == county]
        assert own[0].prev_hash == GENESIS_HASH or county is None
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(own, own[1:]))
    assert len([event for event in events if event.county_id == north.id]) == 6

    anchor_audit_log(AnchorReason.DAILY)
    (line,) = _anchor_lines(app)
    recorded = db.session.execute(select(AuditEvent).where(AuditEvent.action == "anchor")).scalar_one()
    assert recorded.county_id is None and recorded.changes["root_hash"] == line["root_hash"]
    anchored = [(head["county_id"], head["last_id"], head["last_hash"], head["events"]) for head in line["heads"]]
    assert anchored == _heads_from_the_table(recorded.id)
    assert [head[0] for head in anchored] == [None, north.id, south.id]
    text_ = "\n".join(f"{'city' if county is None else county}:{last}:{mac}:{count}"
                      for county, last, mac, count in anchored)
    assert line["root_hash"] == hashlib.sha256(text_.encode("utf-8")).hexdigest()

    verified = _cli(app, "verify-audit-log")
    assert verified.exit_code == 0, verified.output
    assert "已校验 3 条审计链" in verified.output and "赣县区（360704）审计链：6 条事件" in verified.output
    assert f"根哈希 {line['root_hash']}" in verified.output


def test_an_event_moved_to_another_county_s_chain_is_named_by_the_county(app, factory):
    north, south = counties_of_a_city()
    _views([north.id, south.id])
    victim = db.session.execute(select(AuditEvent.id).where(AuditEvent.county_id == south.id)
                                .order_by(AuditEvent.id.desc())).scalars().first()
    with append_only_lifted(db.session.connection()):
        db.session.execute(text("UPDATE audit_events SET county_id = :county WHERE id = :id"),
                           {"county": north.id, "id": victim})
    db.session.commit()
    report = check_audit_log()
    assert report.broken.event_id == victim and report.broken.chain == "赣县区（360704）审计链"
    assert "赣县区（360704）审计链，事件" in _cli(app, "verify-audit-log").output


def _legacy_events(count: int) -> None:
    """Events as a database from before keying holds them (plain SHA-256, no key, no county)."""
    prev = GENESIS_HASH
    for n in range(count):
        fields = {"occurred_at": datetime(2026, 1, n + 1, 9), "user_id": None, "actor": "system",
                  "action": "create", "object_type": "Contractor", "object_id": str(n + 1),
                  "changes": {"name": f"旧{n}"}, "ip_address": None}
        digest = event_hash(fields, prev)
        db.session.execute(AuditEvent.__table__.insert(),
                           {**fields, "prev_hash": prev, "hash": digest, "key_id": None, "county_id": None})
        prev = digest
    db.session.commit()


def test_a_county_s_first_event_after_the_upgrade_seals_the_legacy_city_chain(app):
    _legacy_events(3)
    legacy_head = db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc())).scalars().first()
    assert check_audit_log().ok  # the legacy chain verifies as it is
    record_event("view_personal_data", "Subject", 1, {}, county_id=4242)  # no areas row needed: the chain is a number
    db.session.commit()
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.county_id, AuditEvent.prev_hash)
                                 .order_by(AuditEvent.id)).all()
    assert [(action, county) for action, county, _prev in actions][-2:] == [("seal_legacy", None),
                                                                            ("view_personal_data", 4242)]
    assert actions[-2].prev_hash == legacy_head and actions[-1].prev_hash == GENESIS_HASH
    report = check_audit_log()
    assert report.ok and report.legacy == 3 and set(report.heads) == {None, 4242}


def test_anchors_written_before_the_counties_still_hold_the_city_chain(app):
    _views([None])  # the single chain of a database from before the counties: the city chain now
    head = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    count = db.session.execute(select(func.count(AuditEvent.id))).scalar_one()
    ring = keyring()
    values = {"format": "oversight-audit-anchor/1", "last_id": head.id, "last_hash": head.hash, "events": count,
              "anchored_at": "2026-12-01T01:00:00.000000Z", "key_id": ring.current_id, "reason": "daily",
              "bundle_sha256": None}
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signature = hmac.new(ring.current_secret, payload, hashlib.sha256).hexdigest()
    Path(app.config["AUDIT_ANCHOR_FILE"]).write_text(json.dumps({**values, "signature": signature}) + "\n")
    north, _south = counties_of_a_city()
    _views([None, north.id])
    assert check_audit_log().ok
    anchor_audit_log()  # a /2 anchor after the /1 one
    assert check_audit_log().ok and len(check_audit_log().anchors) == 2
    with append_only_lifted(db.session.connection()):
        db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": head.id})
    db.session.commit()
    report = check_audit_log()  # the /1 anchor's event cut off the city chain's end
    assert any(problem.event_id == head.id and "末尾的事件被删除" in problem.reason for problem in report.problems)


@pytest.mark.skipif(not POSTGRES_URL, reason="the advisory locks are PostgreSQL's; SQLite has one writer")
def test_two_counties_append_in_parallel_while_one_county_s_chain_is_locked(app):
    north, south = counties_of_a_city()
    _views([None, north.id, south.id], rounds=1)
    city_before = check_audit_log().heads[None].events  # the areas and one view
    holder = db.engine.connect()
    other = db.engine.connect()
    try:
        first = Session(bind=holder)
        record_event("view_personal_data", "Subject", 1, {}, session=first, county_id=north.id)  # north's lock held
        second = Session(bind=other)
        second.execute(text("SET lock_timeout = '2s'"))
        record_event("view_personal_data", "Subject", 2, {}, session=second, county_id=south.id)
        second.commit()  # south's append did not wait for north's lock
        second.execute(text("SET lock_timeout = '300ms'"))
        record_event("view_personal_data", "Subject", 3, {}, session=second, county_id=None)
        second.commit()  # nor the city chain's
        second.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            lock_chain(second.connection(), north.id)  # north's own chain does wait
        second.rollback()
        first.commit()
    finally:
        holder.close()
        other.close()
    db.session.expire_all()
    report = check_audit_log()
    assert report.ok, report.problems
    assert {county: head.events for county, head in report.heads.items()} == {None: city_before + 1, north.id: 2, south.id: 2}


def _chain_of(object_type: str, object_id) -> set:
    return set(db.session.execute(select(AuditEvent.county_id).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))).scalars())


def test_the_listener_puts_each_row_s_events_in_its_county_s_chain(app, factory):
    north, south = counties_of_a_city()
    contract = factory.contract(contractor=factory.contractor(county=south))
    subject = factory.subject(county=south)
    assignment = factory.assignment(contract, subject)
    record = factory.record(assignment)
    worker = contract.contractor.workers[0]
    city_user = factory.user("supervisor", area=db.session.get(Area, north.parent_id))
    county_user = factory.user("supervisor", area=north)
    line = contract.service_lines[0]

    assert _chain_of("Contract", contract.id) == {south.id}
    assert _chain_of("ServiceLine", line.id) == {south.id}  # through its contract
    assert _chain_of("Assignment", assignment.id) == {south.id}
    assert _chain_of("CompletionRecord", record.id) == {south.id}
    assert _chain_of("FieldWorker", worker.id) == {south.id}  # through its contractor
    assert _chain_of("User", county_user.id) == {north.id}  # placed by their area
    assert _chain_of("User", city_user.id) == {None}  # above county level
    assert _chain_of("Area", north.id) == {None}
    contract_id, line_id = contract.id, line.id
    db.session.expire_all()  # rows loaded before a commit, changed without being read again
    contract.title = "改名的合同"
    line.annual_target = 120
    db.session.commit()
    assert _chain_of("Contract", contract_id) == _chain_of("ServiceLine", line_id) == {south.id}
    record_event("view_personal_data", "Subject", subject.id, {"fields": ["id_number"]})  # named by type and id
    db.session.commit()
    assert db.session.execute(select(AuditEvent.county_id).where(AuditEvent.action == "view_personal_data")
                              ).scalar_one() == south.id
    assert check_audit_log().ok


def test_the_audit_resolver_and_the_page_scope_agree_on_every_row_s_county(app, factory):
    from oversight.services.audit import county_of as chain_county
    from oversight.web.access import county_of as page_county

    _north, south = counties_of_a_city()
    contract = factory.contract(contractor=factory.contractor(county=south))
    assignment = factory.assignment(contract, factory.subject(county=south))
    rows = [contract, contract.contractor, *contract.contractor.workers, *contract.service_lines, assignment,
            factory.record(assignment)]
    assert [chain_county(row) for row in rows] == [page_county(row) for row in rows] == [south.id] * len(rows)
