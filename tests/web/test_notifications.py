"""Notification pages: the unread bell, the list (open marks read, read one, read all), the
preferences page, and a notice issued on the page reaching the contractor's inbox and e-mail."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from oversight.adapters.files import LocalFileStore
from oversight.clock import county_today
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Notification, NotificationPreference, RectificationNotice
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.notifications import deliver_pending_emails
from oversight.services.spot_checks import record_spot_check

from tests.checks_support import AFTER_Q3, add_records
from tests.mail_support import mail_server  # noqa: F401  (a fixture)

BELL = re.compile(r'class="bell[^"]*"[^>]*><svg class="bell-icon".*?</svg> 通知(?: <span class="count">(\d+)</span>)?</a>')


def text(response) -> str:
    return response.get_data(as_text=True)


def unread_on(page: str) -> int:
    match = BELL.search(page)
    assert match, "no bell in the top bar"
    return int(match.group(1) or 0)


@pytest.fixture
def world(factory, tmp_path, mail_server):
    """A failed check of our contractor, recorded after its users were made (so they are told)."""
    ours, theirs = factory.contractor(workers=1), factory.contractor(workers=1)
    contract = factory.contract(ours)
    users = {"ours": factory.user("contractor", ours), "colleague": factory.user("contractor", ours),
             "theirs": factory.user("contractor", theirs), "supervisor": factory.user("supervisor"),
             "auditor": factory.user("auditor")}
    add_records(contract, {0: 6})
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="w").draws[0]
    today = county_today()
    check = record_spot_check(draw.items[0], checker=users["supervisor"], method="入户复核", checked_on=today,
                              values={"household_size": 3, "survey_conclusion": "不符合"}, note=None, uploads=[],
                              store=LocalFileStore(tmp_path), today=today)
    db.session.commit()
    return {"check": check, "mail": mail_server, **users}


def issue_on_the_page(client_for, world):
    supervisor = client_for(world["supervisor"])
    url = f"/spot-checks/{world['check'].id}"
    deadline = county_today() + timedelta(days=10)
    response = supervisor.post(f"{url}/notice", {"deadline": deadline.isoformat(), "requirement": "请重新入户核实"},
                               token_from=url)
    assert response.status_code == 302
    return db.session.execute(select(RectificationNotice)).scalar_one()


def test_the_bell_counts_unread_and_opening_a_link_marks_it_read(client_for, world):
    notice = issue_on_the_page(client_for, world)
    ours, theirs = client_for(world["ours"]), client_for(world["theirs"])
    assert unread_on(text(ours.get("/dashboard"))) == 2  # the check's result and the notice
    assert unread_on(text(theirs.get("/dashboard"))) == 0 and "暂无通知" in text(theirs.get("/notifications/"))
    page = text(ours.get("/notifications/"))
    assert f"收到整改通知{notice.number}" in page and "抽查复检不合格" in page and page.count("未读") >= 2
    assert "整改通知下发" in page and "notice_issued" not in page
    mine = db.session.execute(select(Notification).where(Notification.user_id == world["ours"].id,
                                                         Notification.kind == "notice_issued")).scalar_one()
    # Another contractor's user cannot open, read or even learn of it.
    assert theirs.get(f"/notifications/{mine.id}/open").status_code == 404
    assert theirs.post(f"/notifications/{mine.id}/read", token_from="/notifications/").status_code == 404
    opened = ours.get(f"/notifications/{mine.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/spot-checks/notices/{notice.id}")
    assert ours.get(opened.headers["Location"]).status_code == 200
    db.session.refresh(mine)
    assert mine.read_at is not None
    assert unread_on(text(ours.get("/notifications/"))) == 1
    colleague = client_for(world["colleague"])
    assert unread_on(text(colleague.get("/dashboard"))) == 2  # reading is each user's own


def test_read_one_and_read_all(client_for, world):
    issue_on_the_page(client_for, world)
    ours = client_for(world["ours"])
    first, second = db.session.execute(select(Notification).where(Notification.user_id == world["ours"].id)
                                       .order_by(Notification.id)).scalars()
    ours.post(f"/notifications/{first.id}/read", token_from="/notifications/")
    assert unread_on(text(ours.get("/notifications/"))) == 1
    unread = text(ours.get("/notifications/?unread=1"))
    assert f"/notifications/{second.id}/open" in unread and f"/notifications/{first.id}/open" not in unread
    response = ours.post("/notifications/read", token_from="/notifications/")
    assert response.status_code == 302
    page = text(ours.get(response.headers["Location"]))
    assert "已将 1 条通知标为已读" in page and unread_on(page) == 0
    assert "暂无通知" in text(ours.get("/notifications/?unread=1"))


def test_a_user_chooses_which_kinds_e_mail_it_and_the_page_issue_follows_the_choice(client_for, world):
    ours, colleague = client_for(world["ours"]), client_for(world["colleague"])
    page = text(ours.get("/notifications/preferences"))
    assert "整改通知下发" in page and "考核结果发布（征求意见）" in page
    assert "承接方对考核结果的意见" not in page and "整改通知升级" not in page  # bureau kinds
    response = ours.post("/notifications/preferences", {"email": "ours@example.cn", "kinds": ["notice_issued"]},
                         token_from="/notifications/preferences")
    assert response.status_code == 302 and "通知设置已保存" in text(ours.get(response.headers["Location"]))
    colleague.post("/notifications/preferences", {"email": "colleague@example.cn", "kinds": ["spot_check_result"]},
                   token_from="/notifications/preferences")
    assert text(ours.post("/notifications/preferences", {"email": "not an address"},
                          token_from="/notifications/preferences")).count("邮箱格式不正确") == 1
    db.session.expire_all()
    assert world["ours"].email == "ours@example.cn"
    wanted = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.email).where(
        NotificationPreference.user_id == world["ours"].id)).all())
    assert wanted["notice_issued"] is True and wanted["spot_check_result"] is False

    notice = issue_on_the_page(client_for, world)
    assert deliver_pending_emails(world["mail"].settings).sent == 1
    (mail,) = world["mail"].inbox.received
    assert mail.to == ["ours@example.cn"] and mail.subject == f"【履约监管】收到整改通知{notice.number}"
    assert "请重新入户核实" in mail.body
    # In-app is always on: the colleague, who chose no notice e-mail, still has the notice.
    assert f"收到整改通知{notice.number}" in text(colleague.get("/notifications/"))


def test_auditors_keep_their_own_inbox_and_choices(client_for, world):
    auditor = client_for(world["auditor"])
    assert "暂无通知" in text(auditor.get("/notifications/"))
    assert auditor.post("/notifications/read", token_from="/notifications/").status_code == 302
    assert "暂无可选的通知类别" in text(auditor.get("/notifications/preferences"))
    response = auditor.post("/notifications/preferences", {"email": "audit@example.cn"},
                            token_from="/notifications/preferences")
    assert response.status_code == 302
    db.session.expire_all()
    assert world["auditor"].email == "audit@example.cn"
