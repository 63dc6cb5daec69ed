"""The audit log as people read it: actions, objects and fields in Chinese, updates as a
before/after table, log-ins by the user who logged in, filters and the export of what they find."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from oversight.extensions import db
from oversight.models import Assignment, AuditEvent
from oversight.services.audit import record_event
from tests.completion_support import SURVEY, world  # noqa: F401  (fixture)

EARLY = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)  # 2026-03-31 23:30 北京时间
LATE = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)  # 2026-04-01 00:30 北京时间: the next county day


def listed(page: str) -> str:
    """The page from the event table on (the filter form's options left out)."""
    return page[page.index('id="audit-table"'):]


def event_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr class="audit-event"><td class="num">(\d+)</td>', page)]


def events(**where) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, key) == value)
    return db.session.execute(stmt).scalars().all()


def test_a_log_in_is_the_users_own_event_shown_by_name(client_for, factory):
    supervisor = factory.user("supervisor", username="wangfang")
    client_for(supervisor)
    [login] = events(action="login")
    assert (login.user_id, login.actor, login.object_id) == (supervisor.id, "wangfang", str(supervisor.id))
    assert not events(action="update", object_type="User", actor="anonymous")
    page = client_for(factory.user("auditor")).get(f"/audit/?action=login&user={supervisor.id}").get_data(as_text=True)
    assert event_ids(page) == [login.id]
    assert f"{supervisor.display_name}（wangfang）" in listed(page) and "anonymous" not in listed(page)
    assert '<td class="audit-action">登录</td>' in page


def test_an_update_is_a_table_of_field_labels_with_the_values_before_and_after(client_for, factory, world):
    assignment = world.assignments[SURVEY][0]
    assignment.status, assignment.note = "completed", "已入户"
    db.session.commit()
    [update] = events(action="update", object_type="Assignment")
    page = client_for(factory.user("admin")).get(f"/audit/?object_type=Assignment&object_id={assignment.id}"
                                                 "&action=update").get_data(as_text=True)
    assert event_ids(page) == [update.id]
    table = re.search(r'<table class="audit-changes">(.*?)</table>', page, re.S).group(1)
    text = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert text[0] == ["字段", "原值", "新值"]
    assert ["状态", "已派发", "已完成"] in text[1:] and ["备注", "空", "已入户"] in text[1:]
    assert "status" not in table and "{" not in table
    assert f"任务 #{assignment.id}" in page


def test_filters_find_full_id_views_exports_and_each_users_events_within_county_days(client_for, factory, world):
    contractor = factory.user("contractor", world.contractor)
    admin = factory.user("admin")
    with time_machine.travel(EARLY, tick=False):
        download = client_for(contractor).get(f"/uploads/contracts/{world.contract.id}/template/{SURVEY}.xlsx?prefill=1")
        assert download.status_code == 200
    with time_machine.travel(LATE, tick=False):
        db.session.get(Assignment, world.assignments[SURVEY][1].id).note = "晚间补记"
        db.session.commit()
    [full_view] = events(action="view_full")
    assert full_view.user_id == contractor.id
    reader = client_for(admin)

    page = reader.get("/audit/?action=view_full").get_data(as_text=True)
    assert event_ids(page) == [full_view.id]
    assert "导出完整个人信息" in page and "家计调查预填模板" in page and "身份证号" in page
    assert event_ids(reader.get(f"/audit/?user={contractor.id}&action=view_full").get_data(as_text=True)) == [full_view.id]
    assert event_ids(reader.get(f"/audit/?user={admin.id}&action=view_full").get_data(as_text=True)) == []
    sensitive = event_ids(reader.get("/audit/?action=sensitive").get_data(as_text=True))
    assert full_view.id in sensitive
    assert {e.action for e in db.session.execute(select(AuditEvent).where(AuditEvent.id.in_(sensitive))).scalars()} <= {
        "view_full", "view_personal_data", "export"}

    # County days: 23:30 belongs to 03-31, 00:30 to 04-01.
    march = event_ids(reader.get("/audit/?since=2026-03-31&until=2026-03-31").get_data(as_text=True))
    april = event_ids(reader.get("/audit/?since=2026-04-01&until=2026-04-01").get_data(as_text=True))
    [late_note] = events(action="update", object_type="Assignment")
    assert full_view.id in march and late_note.id not in march
    assert april == [late_note.id]
    by_system = event_ids(reader.get("/audit/?user=system").get_data(as_text=True))
    assert late_note.id in by_system and full_view.id not in by_system
    assert by_system == [e.id for e in events(actor="system")][:len(by_system)]


def test_the_export_holds_the_filtered_events_with_chinese_headers_and_county_times(client_for, factory, world):
    contractor = factory.user("contractor", world.contractor)
    with time_machine.travel(EARLY, tick=False):
        client_for(contractor).get(f"/uploads/contracts/{world.contract.id}/template/{SURVEY}.xlsx?prefill=1")
    [full_view] = events(action="view_full")
    auditor = client_for(factory.user("auditor"))

    xlsx = auditor.get("/audit/export.xlsx?action=view_full")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    table = list(sheet.values)
    assert table[0] == ("事件编号", "时间（北京时间）", "操作人", "地址", "动作", "对象类型", "对象编号", "变更",
                        "变更明细(JSON)", "哈希")
    assert len(table) == 2
    event_id, moment, actor, _, action, object_type, _, changes, detail, digest = table[1]
    assert json.loads(detail) == full_view.changes
    assert (event_id, moment, action, object_type, digest) == (
        full_view.id, datetime(2026, 3, 31, 23, 30), "导出完整个人信息", "服务对象", full_view.hash)
    assert actor == f"{contractor.display_name}（{contractor.username}）"
    assert "用途：家计调查预填模板" in changes and "字段：身份证号" in changes

    data = auditor.get(f"/audit/export.csv?user={contractor.id}").data
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0][:3] == ["事件编号", "时间（北京时间）", "操作人"]
    assert [int(line[0]) for line in lines[1:]] == [e.id for e in events(user_id=contractor.id)]
    by_id = {int(line[0]): line for line in lines[1:]}
    assert by_id[full_view.id][1] == "2026-03-31 23:30:00" and by_id[full_view.id][4] == "导出完整个人信息"

    exports = events(action="export", object_type="AuditLog")
    assert [e.changes["format"] for e in exports] == ["csv", "xlsx"]
    assert exports[1].changes == {"format": "xlsx", "filters": "动作：导出完整个人信息", "rows": 1}
    page = auditor.get("/audit/?object_type=AuditLog&action=export").get_data(as_text=True)
    assert "筛选条件" in page and "动作：导出完整个人信息" in page


def test_the_log_is_paginated_and_each_page_keeps_the_filters(app, client_for, factory, world):
    app.config["PAGE_SIZE"] = 2
    for index, assignment in enumerate(world.assignments[SURVEY]):
        assignment.note = f"第{index}次"
    db.session.commit()
    reader = client_for(factory.user("auditor"))
    first = reader.get("/audit/?action=update&object_type=Assignment").get_data(as_text=True)
    second = reader.get("/audit/?action=update&object_type=Assignment&page=2").get_data(as_text=True)
    updates = [e.id for e in events(action="update", object_type="Assignment")]
    assert event_ids(first) + event_ids(second) == updates and len(updates) == 3
    assert "action=update" in re.search(r'<nav class="pager".*?</nav>', first, re.S).group(0)


def test_a_summary_reads_in_words_and_a_structured_detail_as_its_json(client_for, factory):
    record_event("import", "CompletionRecord", None, {
        "rows": 12, "skipped_rows": 320, "service_type": "household_survey", "fields": ["id_number", "phone"],
        "strata": {"high": {"population": 3, "drawn": [1, 2]}}})
    db.session.commit()
    page = client_for(factory.user("auditor")).get("/audit/?object_type=CompletionRecord").get_data(as_text=True)
    table = re.search(r'<table class="audit-changes">(.*?)</table>', page, re.S).group(1)
    text = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert text == [["字段", "内容"], ["行数", "12"], ["跳过的未填写行数", "320"], ["服务类型", "家计调查"],
                    ["字段", "身份证号、电话"],
                    ["分层", '<code>{&#34;high&#34;: {&#34;drawn&#34;: [1, 2], &#34;population&#34;: 3}}</code>']]


def test_the_page_shows_each_county_s_chain_and_the_last_root_anchor(client_for, factory):
    from oversight.services.areas import ensure_area
    from oversight.services.audit_anchors import anchor_audit_log

    north, south = ensure_area("360704", "赣县区"), ensure_area("360703", "南康区")
    city = ensure_area("360700")
    db.session.commit()
    record_event("view_personal_data", "Subject", 1, {"fields": ["id_number"]}, county_id=south.id)
    db.session.commit()
    anchor = anchor_audit_log()
    page = client_for(factory.user("auditor", area=city)).get("/audit/").get_data(as_text=True)
    chains = page[page.index('id="audit-chains"'):page.index('id="audit-filters"')]
    assert re.findall(r'<tr class="audit-chain"><td>([^<]+)</td>', chains) == [
        "市级审计链", *sorted(["赣县区（360704）审计链", "南康区（360703）审计链"],
                         key=lambda name: {"赣": north.id, "南": south.id}[name[0]])]
    assert "根哈希" in chains and anchor.root_hash[:16] in chains and "北京时间" in chains
    south_head = anchor.head_of(south.id)
    assert f"#{south_head.last_id}" in chains and south_head.last_hash[:12] in chains

    page = client_for(factory.user("auditor", area=south)).get("/audit/").get_data(as_text=True)
    assert re.findall(r'<tr class="audit-chain"><td>([^<]+)</td>', page) == ["南康区（360703）审计链"]
    assert north.id not in {event.county_id for event in events(action="view_personal_data")}


def test_a_county_reader_s_verification_names_no_other_county(client_for, factory):
    from sqlalchemy import text

    from oversight.services.areas import ensure_area
    from oversight.services.audit import append_only_lifted

    north, south = ensure_area("360704", "赣县区"), ensure_area("360703", "南康区")
    db.session.commit()
    for county in (north.id, south.id, south.id):
        record_event("view_personal_data", "Subject", 1, {"fields": ["phone"]}, county_id=county)
    db.session.commit()
    victim = events(county_id=south.id)[-1]  # south's first event, edited
    with append_only_lifted(db.session.connection()):
        db.session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), {"id": victim.id})
    db.session.commit()
    page = client_for(factory.user("auditor", area=north)).get("/audit/verify").get_data(as_text=True)
    assert "所辖区县以外的审计链有 1 处问题" in page and "南康区" not in page and "审计日志完整" not in page
    page = client_for(factory.user("auditor", area=south)).get("/audit/verify").get_data(as_text=True)
    assert f"南康区（360703）审计链，第 {victim.id} 号事件" in page
