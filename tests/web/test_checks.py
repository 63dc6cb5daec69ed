"""Draw, spot-check, callback and results pages: who reaches what, blind entry, notices."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from oversight.services.areas import home_county
from oversight.clock import county_today
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import (
    AuditEvent,
    Callback,
    Complaint,
    DrawItem,
    LocalStandard,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
)
from oversight.services.draws import CALLBACK, SPOT_CHECK, make_draws

from tests.checks_support import AFTER_Q3, add_records
from tests.store_support import FULL_DISK, failing_store

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
# Distinctive reported values: none of them may appear on the blind re-check page.
REPORTED = {"household_size": 7, "annual_income_fen": 2_345_678, "financial_assets_fen": 8_765_432,
            "survey_conclusion": "符合"}


@pytest.fixture
def world(factory):
    ours = factory.contractor(name="本方机构", workers=2)
    theirs = factory.contractor(name="他方机构")
    contract = factory.contract(ours, code="OURS-1")
    other = factory.contract(theirs, code="THEIRS-1")
    add_records(contract, {0: 30, 1: 20}, **REPORTED)
    add_records(other, {0: 10})
    return {
        "contract": contract, "other": other,
        "supervisor": factory.user("supervisor"), "admin": factory.user("admin"), "auditor": factory.user("auditor"),
        "contractor_user": factory.user("contractor", ours), "other_user": factory.user("contractor", theirs),
    }


def draw_for(contract, purpose=SPOT_CHECK) -> SamplingDraw:
    outcome = make_draws(purpose, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="web")
    db.session.commit()
    return outcome.draws[0]


def text(response) -> str:
    return response.get_data(as_text=True)


def recheck_form(item_id: int, **values) -> dict:
    return {"method": "入户复核", "checked_on": "2025-10-16", "household_size": "7", "annual_income_fen": "23456.78",
            "financial_assets_fen": "87654.32", "survey_conclusion": "符合", **values}


def test_a_supervisor_draws_from_the_page_and_sees_plan_strata_seed_hash_and_items(client_for, world):
    client = client_for(world["supervisor"])
    response = client.post("/draws/new", {"purpose": "spot_check", "quarter": "2025q3",
                                          "contract_id": world["contract"].id, "service_type": "",
                                          "seed": "页面种子"}, token_from="/draws/new")
    assert response.status_code == 302
    draw = db.session.execute(select(SamplingDraw)).scalar_one()
    assert response.headers["Location"].endswith(f"/draws/{draw.id}")
    assert draw.created_by_id == world["supervisor"].id and draw.quarter == "2025Q3"
    page = text(client.get(f"/draws/{draw.id}"))
    assert "页面种子" in page and draw.population_sha256 in page
    assert "按比例抽样：5%，至少 5 条；批量 50，抽查 5 条" in page
    assert 'id="strata-table"' in page and "随机抽查" in page
    for item in draw.items:
        assert f"<td>{item.record_id}</td>" in page
    assert "oc.png" not in page  # a share plan has no OC curve
    assert client.get(f"/draws/{draw.id}/oc.png").status_code == 404
    verify = text(client.get(f"/draws/{draw.id}/verify"))
    assert "复核一致" in verify and "复核不一致" not in verify


def test_an_unfinished_quarter_is_refused_on_the_page(client_for, world):
    client = client_for(world["supervisor"])
    response = client.post("/draws/new", {"purpose": "spot_check", "quarter": "2999Q1", "contract_id": 0,
                                          "service_type": ""}, token_from="/draws/new")
    assert response.status_code == 200 and "尚未结束" in text(response)
    assert db.session.execute(select(SamplingDraw)).first() is None


def test_an_iso_draw_page_shows_its_oc_curve(client_for, world):
    world["contract"].sampling_rule = {"kind": "hypergeometric", "limiting_quality": "0.10", "consumer_risk": "0.10"}
    db.session.commit()
    draw = draw_for(world["contract"])
    client = client_for(world["auditor"])
    page = text(client.get(f"/draws/{draw.id}"))
    assert f"/draws/{draw.id}/oc.png" in page and "孤立批超几何抽样" in page
    png = client.get(f"/draws/{draw.id}/oc.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")


def test_the_blind_recheck_page_hides_the_contractors_values_until_saved(client_for, world):
    draw = draw_for(world["contract"])
    item = draw.items[0]
    client = client_for(world["supervisor"])
    page = text(client.get(f"/spot-checks/items/{item.id}/recheck"))
    assert item.record.assignment.subject.name in page
    for shown in ("23,456.78", "23456.78", "2345678", "87,654.32", "87654.32", "8765432"):
        assert shown not in page
    assert not re.search(r'name="household_size"[^>]*value="7"', page)
    assert 'value="符合" selected' not in page and "selected" not in page.split('name="survey_conclusion"')[1][:200]

    response = client.post(f"/spot-checks/items/{item.id}/recheck",
                           recheck_form(item.id, annual_income_fen="30000.00", survey_conclusion="不符合"),
                           token_from=f"/spot-checks/items/{item.id}/recheck")
    assert response.status_code == 302
    check = db.session.execute(select(SpotCheck)).scalar_one()
    assert not check.passed and check.values["annual_income_fen"] == 3_000_000
    detail = text(client.get(f"/spot-checks/{check.id}"))
    assert "23,456.78 元" in detail and "30,000.00 元" in detail and "不合格" in detail
    # Saved once: the form is not offered again.
    again = client.get(f"/spot-checks/items/{item.id}/recheck")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/spot-checks/{check.id}")


def test_fields_left_blank_on_the_form_are_not_compared(client_for, world):
    item = draw_for(world["contract"]).items[0]
    client = client_for(world["supervisor"])
    url = f"/spot-checks/items/{item.id}/recheck"
    response = client.post(url, recheck_form(item.id, annual_income_fen="", financial_assets_fen="",
                                             survey_conclusion=""), token_from=url)
    assert response.status_code == 302, text(response)
    check = db.session.execute(select(SpotCheck)).scalar_one()
    assert check.values == {"household_size": 7} and check.fields_compared == 1 and check.passed


def test_a_recheck_with_a_fake_photo_is_refused_and_a_real_one_kept(client_for, world):
    item = draw_for(world["contract"]).items[0]
    client = client_for(world["supervisor"])
    url = f"/spot-checks/items/{item.id}/recheck"
    refused = client.post(url, {**recheck_form(item.id), "attachments": (io.BytesIO(b"<html>"), "photo.jpg")},
                          token_from=url, content_type="multipart/form-data", follow_redirects=True)
    assert refused.request.method == "GET" and "不是 JPG 文件" in text(refused)
    assert db.session.execute(select(SpotCheck)).first() is None
    kept = client.post(url, {**recheck_form(item.id), "attachments": (io.BytesIO(JPEG), "入户.jpg")},
                       token_from=url, content_type="multipart/form-data")
    assert kept.status_code == 302
    check = db.session.execute(select(SpotCheck)).scalar_one()
    (attachment,) = check.attachments
    download = client.get(f"/spot-checks/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == JPEG and download.mimetype == "image/jpeg"


def fail_and_notify(client, item) -> RectificationNotice:
    url = f"/spot-checks/items/{item.id}/recheck"
    client.post(url, recheck_form(item.id, survey_conclusion="不符合"), token_from=url)
    check = db.session.execute(select(SpotCheck).where(SpotCheck.draw_item_id == item.id)).scalar_one()
    response = client.post(f"/spot-checks/{check.id}/notice", {"deadline": "2099-01-31", "requirement": "请更正调查结论"},
                           token_from=f"/spot-checks/{check.id}")
    assert response.status_code == 302, text(response)
    return db.session.execute(select(RectificationNotice)).scalar_one()


def test_the_contractor_sees_its_notice_with_the_failed_fields_and_answers_it(client_for, world):
    draw = draw_for(world["contract"])
    notice = fail_and_notify(client_for(world["supervisor"]), draw.items[0])
    contractor = client_for(world["contractor_user"])
    listing = text(contractor.get("/spot-checks/notices/"))
    assert f"/spot-checks/notices/{notice.id}" in listing
    page = text(contractor.get(f"/spot-checks/notices/{notice.id}"))
    assert "请更正调查结论" in page and "调查结论" in page and "不符合" in page
    assert "家庭年收入" not in page  # only the fields that differ
    response = contractor.post(f"/spot-checks/notices/{notice.id}/respond", {"response": "已重新入户更正"},
                               token_from=f"/spot-checks/notices/{notice.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(RectificationNotice, notice.id).status == "responded"
    assert contractor.post(f"/spot-checks/notices/{notice.id}/close", {"outcome": "accepted"},
                           token_from=f"/spot-checks/notices/{notice.id}").status_code == 403
    supervisor = client_for(world["supervisor"])
    supervisor.post(f"/spot-checks/notices/{notice.id}/close", {"outcome": "accepted", "closing_note": "已核实"},
                    token_from=f"/spot-checks/notices/{notice.id}")
    db.session.expire_all()
    assert db.session.get(RectificationNotice, notice.id).outcome == "accepted"


def test_overdue_notices_are_highlighted(client_for, world):
    notice = fail_and_notify(client_for(world["supervisor"]), draw_for(world["contract"]).items[0])
    listing = text(client_for(world["contractor_user"]).get("/spot-checks/notices/"))
    assert "已逾期" not in listing and "row-error" not in listing
    notice.deadline = county_today() - timedelta(days=1)
    db.session.commit()
    for user in ("contractor_user", "supervisor"):
        client = client_for(world[user])
        assert 'class="row-error"' in text(client.get("/spot-checks/notices/"))
        assert "已逾期" in text(client.get(f"/spot-checks/notices/{notice.id}"))


def test_another_contractor_cannot_see_the_notice(client_for, world):
    notice = fail_and_notify(client_for(world["supervisor"]), draw_for(world["contract"]).items[0])
    other = client_for(world["other_user"])
    assert other.get(f"/spot-checks/notices/{notice.id}").status_code == 404
    assert f"/spot-checks/notices/{notice.id}" not in text(other.get("/spot-checks/notices/"))
    assert other.post(f"/spot-checks/notices/{notice.id}/respond", {"response": "x"},
                      token_from="/spot-checks/notices/").status_code == 404


BUREAU_ONLY = [
    "/draws/", "/draws/new", "/draws/{draw}", "/draws/{draw}/oc.png", "/draws/{draw}/verify",
    "/spot-checks/", "/spot-checks/?view=pending", "/spot-checks/items/{item}/recheck",
    "/callbacks/", "/callbacks/draws/{callback_draw}", "/callbacks/{callback}", "/callbacks/complaints/",
    "/check-results/", "/check-results/{contract}/2025Q3", "/check-results/{contract}/2025Q3/chart.png",
    "/exports/audit-bundles/",  # a bundle holds every draw
]


def test_a_contractor_user_reaches_no_draw_and_learns_nothing_of_what_was_drawn(client_for, world):
    spot = draw_for(world["contract"])
    calls = draw_for(world["contract"], CALLBACK)
    ids = {"draw": spot.id, "item": spot.items[0].id, "callback_draw": calls.id, "contract": world["contract"].id,
           "callback": db.session.execute(select(Callback.id)).scalars().first()}
    client = client_for(world["contractor_user"])
    for url in BUREAU_ONLY:
        assert client.get(url.format(**ids)).status_code == 403, url
    for url in ("/dashboard", "/spot-checks/notices/", f"/contracts/{world['contract'].id}", "/assignments/"):
        page = text(client.get(url))
        assert "/draws/" not in page and "抽样" not in page and "复检" not in page, url
        assert "暂无整改通知" in page or url != "/spot-checks/notices/"
    assert client.post("/draws/new", {"purpose": "spot_check", "quarter": "2025Q3", "contract_id": 0},
                       token_from="/dashboard").status_code == 403


def test_auditors_read_draws_and_results_but_change_nothing(client_for, world):
    draw = draw_for(world["contract"])
    client = client_for(world["auditor"])
    for url in (f"/draws/{draw.id}", f"/draws/{draw.id}/verify", "/spot-checks/?view=pending",
                f"/check-results/{world['contract'].id}/2025Q3", "/callbacks/complaints/"):
        assert client.get(url).status_code == 200, url
    assert client.post(f"/draws/{draw.id}/assign", {"assignee_id": world["supervisor"].id,
                                                    "item_id": draw.items[0].id},
                       token_from=f"/draws/{draw.id}").status_code == 403
    assert client.get(f"/spot-checks/items/{draw.items[0].id}/recheck").status_code == 403


def test_drawn_items_are_assigned_from_the_draw_page(client_for, world):
    draw = draw_for(world["contract"])
    client = client_for(world["admin"])
    chosen = [item.id for item in draw.items[:2]]
    response = client.post(f"/draws/{draw.id}/assign", {"assignee_id": world["supervisor"].id, "item_id": chosen},
                           token_from=f"/draws/{draw.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assigned = db.session.execute(select(DrawItem.id).where(DrawItem.assigned_to_id == world["supervisor"].id))
    assert sorted(assigned.scalars()) == chosen
    mine = text(client_for(world["supervisor"]).get("/spot-checks/"))
    assert mine.count("录入复检") == 2


def test_the_call_list_masks_phones_and_a_full_number_is_revealed_on_an_audited_click(client_for, world):
    draw = draw_for(world["contract"], CALLBACK)
    callback = db.session.execute(select(Callback).order_by(Callback.id)).scalars().first()
    phone = callback.subject.phone
    client = client_for(world["supervisor"])
    listing = text(client.get(f"/callbacks/draws/{draw.id}"))
    assert phone not in listing and f"{phone[:3]}****{phone[-4:]}" in listing
    assert phone not in text(client.get(f"/callbacks/{callback.id}"))
    response = client.post(f"/callbacks/{callback.id}/reveal", token_from=f"/callbacks/{callback.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/callbacks/{callback.id}"
    revealed = client.get(response.headers["Location"])
    assert phone in text(revealed) and revealed.headers["Cache-Control"] == "no-store"
    # A reload neither shows the number again nor records a second view.
    assert phone not in text(client.get(f"/callbacks/{callback.id}"))
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "view_personal_data")).scalar_one()
    assert event.user_id == world["supervisor"].id and event.changes["callback_id"] == callback.id


def test_a_callback_is_recorded_through_its_page_and_a_complaint_is_raised(client_for, world):
    draw_for(world["contract"], CALLBACK)
    callback = db.session.execute(select(Callback).order_by(Callback.id)).scalars().first()
    client = client_for(world["supervisor"])
    url = f"/callbacks/{callback.id}"
    client.post(f"{url}/attempts", {"outcome": "无人接听"}, token_from=url)
    client.post(f"{url}/attempts", {"outcome": "接通"}, token_from=url)
    page = text(client.get(url))
    assert "回访结果" in page and "无人接听" in page
    client.post(f"{url}/answers", {"answered_by": "self", "confirmed": "1", "satisfaction": "2", "attitude": "较差",
                                   "complaint": "服务时间很短"}, token_from=url)
    complaints = text(client.get("/callbacks/complaints/"))
    assert "服务时间很短" in complaints and "电话回访" in complaints
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "answered"


def test_the_results_page_shows_rates_with_wilson_intervals_and_a_chart(client_for, world):
    draw = draw_for(world["contract"])
    client = client_for(world["supervisor"])
    for item in draw.items:
        url = f"/spot-checks/items/{item.id}/recheck"
        client.post(url, recheck_form(item.id), token_from=url)
    page = text(client.get(f"/check-results/{world['contract'].id}/2025Q3"))
    checked = len(draw.items)
    assert "100.0%" in page and f"{checked}/{checked}，95% CI" in page
    chart = client.get(f"/check-results/{world['contract'].id}/2025Q3/chart.png")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    overview = text(client.get("/check-results/?quarter=2025Q3"))
    assert "OURS-1" in overview and "THEIRS-1" in overview


@pytest.mark.parametrize(("service_type", "form", "passed"), [
    ("care_visit", {"visit_happened": "1", "care_items": ["日常看护", "生活照料"]}, True),
    ("care_visit", {"visit_happened": "0", "care_items": ["日常看护"]}, False),
    ("self_care_assessment", {"eating": "1", "dressing": "1", "transfer": "1", "toileting": "0", "walking": "1",
                              "bathing": "0"}, True),
    ("self_care_assessment", {"eating": "0", "dressing": "0", "transfer": "0", "toileting": "0", "walking": "",
                              "bathing": ""}, False),
])
def test_each_service_types_form_records_its_recheck(client_for, factory, service_type, form, passed):
    contract = factory.contract(factory.contractor(), service_types=(service_type,))
    add_records(contract, {0: 10}, service_type=service_type)
    item = draw_for(contract).items[0]
    client = client_for(factory.user("supervisor"))
    url = f"/spot-checks/items/{item.id}/recheck"
    page = text(client.get(url))
    assert ("服务是否发生" in page) == (service_type == "care_visit")
    response = client.post(url, {"method": "电话核实", "checked_on": "2025-10-16", **form}, token_from=url)
    assert response.status_code == 302, text(response)
    check = db.session.execute(select(SpotCheck)).scalar_one()
    assert check.passed is passed and check.method == "电话核实"


def test_a_full_disk_refuses_the_recheck_with_its_photo_in_chinese(client_for, world, monkeypatch):
    item = draw_for(world["contract"]).items[0]
    client = client_for(world["supervisor"])
    url = f"/spot-checks/items/{item.id}/recheck"
    failing_store(monkeypatch)
    response = client.post(url, {**recheck_form(item.id), "attachments": (io.BytesIO(JPEG), "入户.jpg")},
                           token_from=url, content_type="multipart/form-data", follow_redirects=True)
    assert response.request.path == url and FULL_DISK in text(response)
    assert db.session.execute(select(SpotCheck)).first() is None


def test_a_worker_is_sent_to_a_targeted_recheck_only_on_enough_evidence(client_for, world):
    draw = draw_for(world["contract"])
    item = draw.items[0]
    client = client_for(world["supervisor"])
    url = f"/spot-checks/items/{item.id}/recheck"
    assert client.post(url, recheck_form(item.id, household_size="5", survey_conclusion="不符合"),
                       token_from=url).status_code == 302  # 2 of 4 fields differ: 50 %, on one record
    worker = item.record.worker
    page_url = f"/check-results/{world['contract'].id}/2025Q3"
    send = f"{page_url}/workers/{worker.worker_no}/recheck"

    rows = re.findall(r"<tr class=\"row-error\"><td>([^<]+)</td>.*?<span class=\"badge bad\">([^<]+)</span>",
                      text(client.get(page_url)), re.S)
    assert rows == [(f"{worker.worker_no} {worker.name}", "需再培训")]  # one record: too few for a re-check
    assert client.post(send, token_from=page_url).status_code == 404
    assert db.session.execute(select(Complaint)).first() is None

    db.session.add(LocalStandard(county_id=home_county().id, year=2025, county="赣县区", poverty_line_fen=75000, care_allowance_tier1_fen=1,
                                 care_allowance_tier2_fen=1, care_allowance_tier3_fen=1, recheck_min_checks=1))
    db.session.commit()
    page = text(client.get(page_url))
    assert "已复检至少 1 条记录" in page and "需定向复查" in page
    assert client.post(send, token_from=page_url).status_code == 302
    complaint = db.session.execute(select(Complaint)).scalar_one()
    assert complaint.worker_id == worker.id and complaint.source == "error_rate"
