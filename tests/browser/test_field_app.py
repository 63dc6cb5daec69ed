"""The field app (PWA) on a phone: a field worker goes offline, records two visits with a photo
and a signature each, sees them waiting on the device, comes back online and sees them sent once;
a supervisor then sees both records, from the app, with their flags on the record page."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from oversight.clock import COUNTY_TZ
from oversight.extensions import db
from oversight.models import ApiToken, AppVisit, CompletionRecord
from oversight.services.accounts import create_user
from tests.factories import Factory

MEILIN = {"longitude": 115.001, "latitude": 25.861, "accuracy": 15}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "geolocation": MEILIN,
            "permissions": ["geolocation", "background-sync"], "timezone_id": "Asia/Shanghai", "locale": "zh-CN"}


# Marks every kept visit as waiting again (as if no answer had come back) and reloads the outbox.
RESEND_ALL = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("oversight-field");
  open.onsuccess = () => {
    const tx = open.result.transaction("outbox", "readwrite"), store = tx.objectStore("outbox");
    store.getAll().onsuccess = (event) => event.target.result.forEach((item) => {
      item.status = "waiting"; store.put(item); });
    tx.oncomplete = () => { open.result.close(); resolve(true); };
    tx.onerror = () => reject(tx.error);
  };
})"""


def _jpeg(colour) -> bytes:
    image = Image.new("RGB", (160, 120), colour)
    for x in range(160):
        image.putpixel((x, 60), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def _device_start(now: datetime) -> datetime:
    """When the device's day of visits starts: two hours ago, unless that is the county's previous
    day (then the previous evening), so both visits fall on one county day and in the past."""
    local = now.astimezone(COUNTY_TZ)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = local - timedelta(hours=2)
    return start if start >= midnight else midnight - timedelta(hours=4)


def _sign(page, wave):
    page.locator("#signature-pad").scroll_into_view_if_needed()
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 22, box["y"] + 40 + (step % wave) * 25, steps=2)
    page.mouse.up()


def _record_visit(page, number, fill, photo, wave):
    page.locator("button.open-visit", has_text=number).click()
    expect(page.locator("#visit-panel")).to_be_visible()
    page.click("#check-in")
    expect(page.locator("#check-in-info")).to_contain_text("精度约 15 米")
    page.clock.fast_forward("25:00")
    fill(page)
    page.set_input_files("#photo-input", files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    expect(page.locator("#photo-list li")).to_have_count(1)
    _sign(page, wave)
    page.clock.fast_forward("15:00")
    page.click("#check-out")
    expect(page.locator("#visit-lists")).to_be_visible()
    page.clock.fast_forward("10:00")


def _fill_survey(page):
    page.fill("input[name=f_household_size]", "3")
    page.fill("input[name=f_annual_income_fen]", "24000")
    page.fill("input[name=f_financial_assets_fen]", "5000")
    page.select_option("select[name=f_survey_conclusion]", "需复核")


def _fill_care(page):
    page.locator("input[name=f_care_items]").first.check()


def test_two_visits_recorded_offline_are_sent_once_when_back_online(log_in, live_server, factory, page, context):
    today = datetime.now(UTC).astimezone(COUNTY_TZ).date()
    contractor = factory.contractor(workers=2)
    worker = contractor.workers[0]
    contract = factory.contract(contractor, service_types=("household_survey", "care_visit"),
                                term_start=today - timedelta(days=300), term_end=today + timedelta(days=60))
    survey = factory.assignment(contract, service_type="household_survey", due_date=today)
    care = factory.assignment(contract, service_type="care_visit", due_date=today + timedelta(days=3))
    for assignment in (survey, care):
        assignment.worker_id = worker.id
    field_user = create_user("fieldapp-w1", Factory.PASSWORD, "field_worker", "外勤一", field_worker_id=worker.id)
    db.session.commit()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    page.clock.install(time=_device_start(datetime.now(UTC)))

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", field_user.username)
    page.fill("input[name=password]", Factory.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/field/")  # a field worker's home is 我的任务
    expect(page.locator("html[data-field-app=ready]")).to_have_count(1)
    expect(page.locator("#visits-today button.open-visit")).to_have_text([survey.number])
    expect(page.locator("#visits-week button.open-visit")).to_have_text([care.number])
    assert page.evaluate("navigator.serviceWorker.getRegistration('/field/').then(r => !!r)")
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == field_user.id)).scalar_one() == 1  # the device's token, made on first use

    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    _record_visit(page, survey.number, _fill_survey, _jpeg((200, 40, 40)), wave=3)
    _record_visit(page, care.number, _fill_care, _jpeg((40, 40, 200)), wave=4)
    expect(page.locator("#waiting-count")).to_have_text("2")
    expect(page.locator("#outbox-waiting .outbox-item")).to_have_count(2)
    expect(page.locator("#outbox-waiting")).to_contain_text("照片 1 张 · 已签名")
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one() == 0
    # Still offline, the page opens again from the service worker's shell, the visits still waiting.
    assert page.evaluate("!!navigator.serviceWorker.controller")
    page.reload()
    expect(page.locator("html[data-field-app=ready]")).to_have_count(1)
    expect(page.locator("#visits-today button.open-visit")).to_have_text([survey.number])
    expect(page.locator("#waiting-count")).to_have_text("2")

    context.set_offline(False)
    expect(page.locator("#outbox-sent .outbox-item")).to_have_count(2, timeout=15_000)
    expect(page.locator("#waiting-count")).to_have_text("0")
    # The whole outbox sent again, as after a lost answer, adds nothing: the keys were made once.
    page.evaluate(RESEND_ALL)
    page.reload()
    expect(page.locator("html[data-field-app=ready]")).to_have_count(1)
    expect(page.locator("#outbox-sent .outbox-item")).to_have_count(2)
    expect(page.locator("#waiting-count")).to_have_text("0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert blocked == []

    db.session.expire_all()
    records = db.session.execute(select(CompletionRecord).order_by(CompletionRecord.id)).scalars().all()
    assert len(records) == 2
    assert [r.assignment_id for r in records] == [survey.id, care.id]
    assert {r.source for r in records} == {"app"}
    visits = db.session.execute(select(AppVisit).order_by(AppVisit.id)).scalars().all()
    assert len(visits) == 2
    for visit in visits:
        kinds = sorted(item["kind"] for item in visit.media)
        assert kinds == ["photo", "signature"], kinds
        assert visit.accuracy_m == 15 and visit.no_signature_reason is None
    assert len({v.idempotency_key for v in visits}) == 2
    assert records[1].signed is True
    flagged = [r for r in records if r.anomaly_flags]
    assert flagged  # the device clock is set back: told apart from the server's on arrival

    page.context.clear_cookies()
    log_in(factory.user("supervisor"))
    for record in records:
        page.goto(f"{live_server.url}/corrections/records/{record.id}")
        expect(page.locator("#record-source")).to_contain_text("移动")
        expect(page.locator("#app-visit")).to_contain_text("精度约 15 米")
        expect(page.locator("#app-visit .media-list li")).to_have_count(2)
        reasons = [flag["reason"] for flag in record.anomaly_flags]
        flags = page.locator("#record-flags .flag")
        expect(flags).to_have_count(len(reasons))
        for reason in reasons:
            expect(page.locator("#record-flags")).to_contain_text(reason)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


DEVICE_STATE = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("oversight-field");
  open.onsuccess = () => {
    const db = open.result, tx = db.transaction(["outbox", "settings"], "readonly");
    const items = tx.objectStore("outbox").getAll(), keys = tx.objectStore("settings").getAllKeys();
    tx.oncomplete = () => {
      db.close();
      caches.keys().then((names) => resolve({ outbox: items.result.map((i) => i.status), settings: keys.result,
                                               caches: names }));
    };
    tx.onerror = () => reject(tx.error);
  };
})"""


def _records() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(CompletionRecord)).scalar_one()


def test_background_sync_sends_with_the_page_closed_and_log_out_clears_the_device(live_server, factory, page,
                                                                                 context):
    today = datetime.now(UTC).astimezone(COUNTY_TZ).date()
    contractor = factory.contractor(workers=1)
    worker = contractor.workers[0]
    contract = factory.contract(contractor, service_types=("household_survey", "care_visit"),
                                term_start=today - timedelta(days=300), term_end=today + timedelta(days=60))
    survey = factory.assignment(contract, service_type="household_survey", due_date=today)
    care = factory.assignment(contract, service_type="care_visit", due_date=today + timedelta(days=3))
    for assignment in (survey, care):
        assignment.worker_id = worker.id
    field_user = create_user("fieldapp-w2", Factory.PASSWORD, "field_worker", "外勤二", field_worker_id=worker.id)
    db.session.commit()
    page.clock.install(time=_device_start(datetime.now(UTC)))
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", field_user.username)
    page.fill("input[name=password]", Factory.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/field/")
    expect(page.locator("html[data-field-app=ready]")).to_have_count(1)
    assert page.evaluate("navigator.serviceWorker.ready.then(r => 'sync' in r)")  # Chromium has Background Sync

    # Offline, a visit is saved and the page asks for a background sync; then the page is closed.
    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    _record_visit(page, survey.number, _fill_survey, _jpeg((200, 40, 40)), wave=3)
    expect(page.locator("#waiting-count")).to_have_text("1")
    assert "field-outbox" in page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())")
    page.goto("about:blank")  # no page of the app is open any more
    context.set_offline(False)
    # The network is back: the browser fires the sync (DevTools fires it at once, as Chromium would
    # when it sees the network), and the service worker sends the visit by itself.
    session = context.new_cdp_session(page)
    found = []
    session.on("ServiceWorker.workerRegistrationUpdated", lambda event: found.extend(event["registrations"]))
    session.send("ServiceWorker.enable")
    deadline = datetime.now(UTC) + timedelta(seconds=15)
    while not found and datetime.now(UTC) < deadline:
        page.wait_for_timeout(100)
    registration = next(r for r in found if r["scopeURL"].endswith("/field/") and not r["isDeleted"])
    session.send("ServiceWorker.dispatchSyncEvent", {"origin": live_server.url, "registrationId":
                                                     registration["registrationId"], "tag": "field-outbox",
                                                     "lastChance": False})
    while _records() < 1 and datetime.now(UTC) < deadline + timedelta(seconds=15):
        page.wait_for_timeout(200)
    assert _records() == 1
    record = db.session.execute(select(CompletionRecord)).scalar_one()
    assert (record.assignment_id, record.source) == (survey.id, "app")
    visit = db.session.execute(select(AppVisit)).scalar_one()
    assert sorted(item["kind"] for item in visit.media) == ["photo", "signature"]

    # The page opened again shows it sent; another visit recorded offline blocks 退出.
    page.goto(f"{live_server.url}/field/")
    expect(page.locator("html[data-field-app=ready]")).to_have_count(1)
    expect(page.locator("#outbox-sent .outbox-item")).to_have_count(1)
    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    _record_visit(page, care.number, _fill_care, _jpeg((40, 40, 200)), wave=4)
    expect(page.locator("#waiting-count")).to_have_text("1")
    page.evaluate("document.querySelector(\"form[action='/logout']\").requestSubmit()")
    expect(page.locator("#logout-blocked")).to_contain_text("还有 1 条服务记录未发送")
    assert page.url == f"{live_server.url}/field/"
    assert page.evaluate(DEVICE_STATE)["outbox"].count("waiting") == 1

    # Online, it is sent; 退出 now clears the device: visits, token (revoked), list, kept pages.
    context.set_offline(False)
    expect(page.locator("#waiting-count")).to_have_text("0", timeout=15_000)
    assert _records() == 2
    page.evaluate("document.querySelector(\"form[action='/logout']\").requestSubmit()")
    page.wait_for_url(f"{live_server.url}/login**")
    state = page.evaluate(DEVICE_STATE)
    assert state["outbox"] == [] and "token" not in state["settings"] and "assignments" not in state["settings"]
    assert not [name for name in state["caches"] if name.startswith("field-")]
    db.session.expire_all()
    tokens = db.session.execute(select(ApiToken).where(ApiToken.user_id == field_user.id)).scalars().all()
    assert len(tokens) == 1 and tokens[0].revoked_at is not None
