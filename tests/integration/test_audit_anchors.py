"""Anchors of the audit chain outside its table: the daily job and the command write them, the
verification holds the chain against them, and a restore starts a new epoch."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from oversight import create_app
from oversight.domain.audit_anchors import root_hash
from oversight.domain.audit_chain import ChainHead
from oversight.extensions import db
from oversight.services.areas import home_county
from oversight.jobs import JOBS_BY_NAME
from oversight.models import AuditEvent, Contractor
from oversight.services.audit import append_only_lifted
from oversight.services.audit_anchors import AuditLogBroken, anchor_audit_log, check_audit_log
from oversight.services.jobs import execute
from tests.conftest import POSTGRES_URL


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def _anchor_lines(app) -> list[dict]:
    path = Path(app.config["AUDIT_ANCHOR_FILE"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_daily_job_anchors_the_head_once_a_day(app, factory):
    factory.contract()
    spec = JOBS_BY_NAME["anchor_audit_log"]
    run = execute(spec, spec.cadence.due_period(date(2026, 12, 3)), "schedule", date(2026, 12, 3), {})
    assert run.outcome == "succeeded", run.error
    (line,) = _anchor_lines(app)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "anchor")).scalar_one()
    before = db.session.execute(select(AuditEvent).where(AuditEvent.id < event.id)).scalars().all()
    in_city = [earlier for earlier in before if earlier.county_id is None]  # the areas, the job's run
    in_county = [earlier for earlier in before if earlier.county_id is not None]  # the contract's rows
    head = in_city[-1]  # the run's own claim is the last event before the anchor
    assert (head.action, head.object_type) == ("create", "JobRun") and head.id == before[-1].id
    assert line["format"] == "oversight-audit-anchor/2" and line["reason"] == "daily"
    county = in_county[0].county_id
    assert all(earlier.county_id == county for earlier in in_county)
    assert line["heads"] == [
        {"county_id": None, "last_id": head.id, "last_hash": head.hash, "events": len(in_city)},
        {"county_id": county, "last_id": in_county[-1].id, "last_hash": in_county[-1].hash, "events": len(in_county)}]
    assert line["root_hash"] == root_hash([ChainHead(head.id, head.hash, len(in_city)),
                                           ChainHead(in_county[-1].id, in_county[-1].hash, len(in_county), county)])
    assert run.summary == {"anchored_events": len(before)}
    assert event.changes["signature"] == line["signature"] and event.object_id == str(head.id)
    assert execute(spec, spec.cadence.due_period(date(2026, 12, 3)), "schedule", date(2026, 12, 3), {}) is None
    report = check_audit_log()
    assert report.ok and report.last_anchor.signature == line["signature"]


def test_verify_names_the_anchor_it_held_the_chain_against(app, factory):
    factory.contractor()
    assert "尚无锚点" in _cli(app, "verify-audit-log").output
    anchored = _cli(app, "anchor-audit-log")
    assert anchored.exit_code == 0, anchored.output
    verified = _cli(app, "verify-audit-log")
    assert verified.exit_code == 0 and "与 1 个锚点一致" in verified.output


def test_a_changed_anchor_line_or_a_lost_anchors_file_is_caught(app, factory):
    factory.contractor()
    anchor_audit_log()
    path = Path(app.config["AUDIT_ANCHOR_FILE"])
    line = json.loads(path.read_text())
    city, *counties = line["heads"]
    path.write_text(json.dumps({**line, "heads": [{**city, "events": city["events"] - 1}, *counties]}) + "\n")
    result = _cli(app, "verify-audit-log")
    assert result.exit_code == 1 and "签名无效" in result.output
    path.unlink()
    result = _cli(app, "verify-audit-log")
    assert result.exit_code == 1 and "锚点不在锚点文件中" in result.output


def test_a_broken_chain_is_not_anchored(app, factory):
    factory.contractor()
    victim = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().first()
    with append_only_lifted(db.session.connection()):
        db.session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), {"id": victim})
    db.session.commit()
    with pytest.raises(AuditLogBroken, match=f"#{victim}"):
        anchor_audit_log()
    assert _anchor_lines(app) == []
    result = _cli(app, "anchor-audit-log")
    assert result.exit_code != 0 and "未锚定" in result.output


@pytest.mark.skipif(bool(POSTGRES_URL), reason="restore is for the SQLite default; PostgreSQL uses pg_restore")
def test_a_restore_is_recorded_and_starts_a_new_epoch(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite'}", "TESTING": True,
                      "AUDIT_ANCHOR_FILE": str(tmp_path / "anchors.jsonl")})
    with app.app_context():
        db.create_all()
        db.session.add(Contractor(name="甲", credit_code="91512081MA62K0260E", contact_person="张",
                                  contact_phone="13800000000", county_id=home_county().id))
        db.session.commit()
        assert _cli(app, "backup", "--out", tmp_path / "b.sqlite").exit_code == 0
        db.session.execute(select(Contractor)).scalar_one().name = "乙"
        db.session.commit()
        anchor_audit_log()  # anchors the change the restore is about to undo
        restored = _cli(app, "restore", tmp_path / "b.sqlite", "--yes")
        assert restored.exit_code == 0, restored.output
        db.session.remove()
        actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
        # the county with its city and province, and the contractor; then the restore and its anchor
        assert actions == ["create"] * 4 + ["restore", "anchor"]
        restore = db.session.execute(select(AuditEvent).where(AuditEvent.action == "restore")).scalar_one()
        assert restore.changes["replaced_events"] == 6 and restore.changes["backup"] == "b.sqlite"
        assert [line["reason"] for line in _anchor_lines(app)] == ["manual", "restore"]
        verified = _cli(app, "verify-audit-log")
        assert verified.exit_code == 0, verified.output
        db.engine.dispose()


def test_after_a_pg_restore_the_command_starts_a_new_epoch(app, factory):
    factory.contractor()
    anchor_audit_log()
    events = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()
    with append_only_lifted(db.session.connection()):  # what restoring an older dump amounts to
        db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": events[-2]})
    db.session.commit()
    assert _cli(app, "verify-audit-log").exit_code == 1
    rebased = _cli(app, "anchor-audit-log", "--after-restore")
    assert rebased.exit_code == 0, rebased.output
    assert _cli(app, "verify-audit-log").exit_code == 0
    last_two = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)).scalars().all()
    assert last_two == ["anchor", "restore"]
