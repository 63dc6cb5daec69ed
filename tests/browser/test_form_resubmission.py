"""After a refused form, Back and reload never post it again (post/redirect/get); a revealed
number is shown once, and a reload records no second view."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import AuditEvent, Subject
from oversight.web.forms_common import RETYPE_MESSAGE

NAVIGATION_TYPE = "performance.getEntriesByType('navigation')[0].type"


def posts_made(page) -> list[str]:
    made: list[str] = []
    page.on("request", lambda request: made.append(request.url) if request.method == "POST" else None)
    return made


def test_a_refused_form_comes_back_from_a_get_and_back_and_reload_post_nothing(log_in, live_server, factory):
    page = log_in(factory.user("supervisor"))
    page.goto(f"{live_server.url}/subjects/")
    page.goto(f"{live_server.url}/subjects/new")
    page.fill("input[name=name]", "李四")
    page.fill("input[name=id_number]", "110105194912310021")  # a wrong check digit
    page.fill("input[name=township]", "梅林镇")
    page.fill("input[name=village]", "梅林村")
    page.click("form.form button[type=submit]")
    expect(page.locator(".field.has-error")).to_contain_text("身份证号校验位错误")
    # The ID number is typed again: it never waits in the session cookie.
    expect(page.locator(".field.has-error")).to_contain_text(RETYPE_MESSAGE)
    expect(page.locator("input[name=id_number]")).to_have_value("")
    # What the browser shows is a GET of the form's own address, filled in as typed.
    assert page.url == f"{live_server.url}/subjects/new"
    assert page.evaluate(NAVIGATION_TYPE) == "navigate"
    expect(page.locator("input[name=name]")).to_have_value("李四")
    assert db.session.execute(select(func.count()).select_from(Subject)).scalar() == 0

    posts = posts_made(page)
    page.reload()
    assert page.evaluate(NAVIGATION_TYPE) == "reload" and posts == []
    page.go_back()
    assert page.url == f"{live_server.url}/subjects/new" and page.evaluate(NAVIGATION_TYPE) == "back_forward"
    expect(page.locator("h1")).to_be_visible()
    page.go_back()
    assert page.url == f"{live_server.url}/subjects/"
    assert posts == []


def test_a_revealed_number_is_shown_once_and_a_reload_records_no_second_view(log_in, live_server, factory):
    subject = factory.subject()
    page = log_in(factory.user("supervisor"))
    page.goto(f"{live_server.url}/subjects/{subject.id}")
    expect(page.locator("main")).not_to_contain_text(subject.id_number)
    page.click("text=查看完整证件号与电话")
    expect(page.locator("main")).to_contain_text(subject.id_number)
    assert page.url == f"{live_server.url}/subjects/{subject.id}"

    def views() -> int:
        db.session.expire_all()
        return db.session.execute(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "view_personal_data")).scalar()

    assert views() == 1
    posts = posts_made(page)
    page.reload()
    expect(page.locator("main")).to_contain_text(subject.masked_id_number)
    expect(page.locator("main")).not_to_contain_text(subject.id_number)
    assert posts == [] and views() == 1
