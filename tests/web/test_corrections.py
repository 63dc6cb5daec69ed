"""Correction pages: the contractor asks, the bureau decides, the record's history shows every
version; everyone else gets 404 or 403, and a frozen record's form says why it cannot be corrected."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from oversight.domain.corrections import correctable_columns
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Attachment, CompletionRecord, CorrectionRequest
from oversight.services.corrections import current_cells
from oversight.services.draws import SPOT_CHECK, make_draws

from tests.attachment_support import JPEG
from tests.checks_support import AFTER_Q3, add_records


@pytest.fixture
def world(factory):
    ours, theirs = factory.contractor(workers=2), factory.contractor()
    contract = factory.contract(ours)
    record = factory.record(factory.assignment(contract, due_date=date(2026, 12, 31)), service_date=date(2026, 5, 10))
    return {"contract": contract, "record": record, "contractor": factory.user("contractor", ours),
            "other": factory.user("contractor", theirs), "supervisor": factory.user("supervisor"),
            "auditor": factory.user("auditor"), "admin": factory.user("admin")}


def text(response) -> str:
    return response.get_data(as_text=True)


def form_data(record, **changed) -> dict:
    """The request form as the page fills it, with `changed` fields (by key) typed over."""
    cells = current_cells(record)
    data = {column.key: cells[column.header] for column in correctable_columns(record.service_type)}
    return {**data, "reason": "入户时记错了家庭人口", **changed}


def ask(client, record, **changed):
    url = f"/corrections/records/{record.id}/new"
    return client.post(url, form_data(record, **changed), token_from=url, content_type="multipart/form-data")


def test_a_contractor_requests_a_correction_and_the_supervisors_approval_makes_a_new_version(client_for, world):
    record = world["record"]
    contractor = client_for(world["contractor"])
    history = text(contractor.get(f"/corrections/records/{record.id}"))
    assert f'href="/corrections/records/{record.id}/new"' in history and "第1版（当前）" in history
    page = text(contractor.get(f"/corrections/records/{record.id}/new"))
    assert 'name="household_size"' in page and "原值：3" in page and 'value="3"' in page
    response = ask(contractor, record, household_size="4", attachments=(io.BytesIO(JPEG), "户口簿.jpg"))
    assert response.status_code == 302, text(response)
    created = db.session.execute(select(CorrectionRequest)).scalar_one()
    assert response.headers["Location"].endswith(f"/corrections/{created.id}")
    detail = text(contractor.get(f"/corrections/{created.id}"))
    assert "待审核" in detail and "家庭人口数" in detail and "户口簿.jpg" in detail and "批准更正" not in detail

    supervisor = client_for(world["supervisor"])
    assert "批准更正" in text(supervisor.get(f"/corrections/{created.id}"))
    url = f"/corrections/{created.id}"
    approved = supervisor.post(f"{url}/approve", {"note": "与户口簿一致"}, token_from=url, follow_redirects=True)
    assert "已批准更正" in text(approved)
    db.session.expire_all()
    assert db.session.get(CompletionRecord, record.id).household_size == 4
    history = text(contractor.get(f"/corrections/records/{record.id}"))
    assert "第1版" in history and "第2版（当前）" in history and f"更正申请 #{created.id}" in history
    assert "已批准" in history


def test_a_value_the_logs_rules_refuse_is_shown_on_its_field_in_chinese(client_for, world):
    client = client_for(world["contractor"])
    response = ask(client, world["record"], end_time="08:00")
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "结束时间应晚于开始时间" in page and 'value="08:00"' in page
    assert db.session.execute(select(CorrectionRequest)).first() is None
    unchanged = ask(client, world["record"])
    assert "没有更正任何内容" in text(client.get(unchanged.headers["Location"]))


def test_only_the_records_contractor_sees_and_asks_and_only_the_bureau_decides(client_for, world):
    record = world["record"]
    asked = ask(client_for(world["contractor"]), record, household_size="4",
                attachments=(io.BytesIO(JPEG), "户口簿.jpg"))
    assert asked.status_code == 302
    created = db.session.execute(select(CorrectionRequest)).scalar_one()
    (evidence,) = db.session.execute(select(Attachment)).scalars()
    other = client_for(world["other"])
    assert other.get(f"/attachments/{evidence.id}").status_code == 404
    assert client_for(world["auditor"]).get(f"/attachments/{evidence.id}").data == JPEG
    for url in (f"/corrections/records/{record.id}", f"/corrections/records/{record.id}/new",
                f"/corrections/{created.id}"):
        assert other.get(url).status_code == 404, url
    assert f"#{created.id}" not in text(other.get("/corrections/"))
    assert ask(other, record, household_size="5").status_code == 404
    for role in ("supervisor", "auditor", "admin"):
        assert client_for(world[role]).get(f"/corrections/records/{record.id}/new").status_code == 403, role
        assert client_for(world[role]).get(f"/corrections/{created.id}").status_code == 200, role
    url = f"/corrections/{created.id}"
    auditor = client_for(world["auditor"])
    assert "批准更正" not in text(auditor.get(url))
    assert auditor.post(f"{url}/approve", {}, token_from=url).status_code == 403
    contractor = client_for(world["contractor"])
    assert contractor.post(f"{url}/approve", {}, token_from=url).status_code == 403
    assert contractor.post(f"{url}/refuse", {"note": "x"}, token_from=url).status_code == 403
    db.session.expire_all()
    assert db.session.get(CorrectionRequest, created.id).status == "pending"


def test_a_refusal_needs_a_reason_and_is_shown_to_the_contractor(client_for, world):
    assert ask(client_for(world["contractor"]), world["record"], household_size="4").status_code == 302
    created = db.session.execute(select(CorrectionRequest)).scalar_one()
    url = f"/corrections/{created.id}"
    supervisor = client_for(world["supervisor"])
    assert "请写明驳回理由" in text(supervisor.post(f"{url}/refuse", {"note": ""}, token_from=url, follow_redirects=True))
    supervisor.post(f"{url}/refuse", {"note": "户口簿显示为3人"}, token_from=url)
    page = text(client_for(world["contractor"]).get(url))
    assert "已驳回" in page and "户口簿显示为3人" in page
    db.session.expire_all()
    assert db.session.get(CompletionRecord, world["record"].id).household_size == 3


def test_a_frozen_records_form_says_why_and_a_post_is_refused(client_for, world):
    record = add_records(world["contract"], {0: 10})[0]
    make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=world["contract"].id, seed="w")
    db.session.commit()
    contractor = client_for(world["contractor"])
    history = text(contractor.get(f"/corrections/records/{record.id}"))
    assert "不能申请更正：该记录已进入 2025Q3 抽查复检抽样" in history
    page = contractor.get(f"/corrections/records/{record.id}/new")
    assert page.status_code == 200 and "该记录不能更正" in text(page) and "冻结总体" in text(page)
    assert 'id="correction-form"' not in text(page)
    url = f"/corrections/records/{record.id}/new"
    refused = contractor.post(url, {"household_size": "4", "reason": "x"}, token_from=f"/corrections/records/{world['record'].id}/new")
    assert refused.status_code == 409 and "冻结总体" in text(refused)
    assert db.session.execute(select(CorrectionRequest)).first() is None
    assert db.session.execute(select(Attachment)).first() is None
