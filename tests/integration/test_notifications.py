"""Notifications of each workflow event, in-app and by e-mail through a real SMTP server (aiosmtpd):
the right users only, e-mail only to those who want it, each e-mail sent once, none ever lost."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from oversight.adapters.files import LocalFileStore
from oversight.clock import replayed_at, utcnow
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Notification, QuarterlyReview, User
from oversight.services import appeals, evaluations, maintenance, notifications, reviews
from oversight.services.corrections import approve, refuse, request_correction
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.mailer import SmtpSettings
from oversight.services.notifications import deliver_pending_emails
from oversight.services.schemes import ensure_default_scheme
from oversight.services.spot_checks import close_notice, issue_notice, record_spot_check, respond_notice
from oversight.tasks import queue_of

from tests.checks_support import AFTER_Q3, add_records
from tests.completion_support import SURVEY, csv_bytes, good_row, upload
from tests.completion_support import world as log_world  # noqa: F401  (a fixture)
from tests.mail_support import free_port, mail_server  # noqa: F401  (a fixture)
from tests.performance_support import build_quarter, figures_with_total

SAME = {"household_size": 3, "annual_income_fen": 2_400_000, "financial_assets_fen": 500_000, "survey_conclusion": "符合"}
WRONG = SAME | {"survey_conclusion": "不符合"}


def _person(factory, role, contractor=None, address=None, wants=None):
    user = factory.user(role, contractor)
    notifications.choose_emails(user, set(notifications.email_choices(user.id)) if wants is None else wants, address)
    db.session.commit()
    return user


@pytest.fixture
def county(factory, mail_server, tmp_path):
    """Our contractor (one user wanting every e-mail, one wanting none), another contractor, and
    the bureau, every one with an address; six household surveys of Q3 2025 drawn for checks."""
    ours, theirs = factory.contractor(workers=1), factory.contractor(workers=1)
    contract = factory.contract(ours, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    people = {
        "keen": _person(factory, "contractor", ours, "keen@ours.example"),
        "quiet": _person(factory, "contractor", ours, "quiet@ours.example", wants=set()),
        "stranger": _person(factory, "contractor", theirs, "stranger@theirs.example"),
        "supervisor": _person(factory, "supervisor", address="supervisor@bureau.example"),
        "checker": _person(factory, "supervisor", address="checker@bureau.example"),
        "admin": _person(factory, "admin", address="admin@bureau.example"),
        "auditor": _person(factory, "auditor", address="auditor@bureau.example"),
    }
    add_records(contract, {0: 6})
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="n").draws[0]
    db.session.commit()
    return {"contract": contract, "draw": draw, "mail": mail_server, "store": LocalFileStore(tmp_path), **people}


def told(kind):
    """{user id: notification} of one kind."""
    return {n.user_id: n for n in db.session.execute(select(Notification).where(Notification.kind == kind)
                                                     .order_by(Notification.id)).scalars()}


def deliver(county):
    return deliver_pending_emails(county["mail"].settings)


def assert_told(county, kind, names, *, mailed=None):
    """In-app to exactly `names`; after delivery, one e-mail of it to each of `mailed` (default: all
    but `quiet`) with its Chinese text decoded, and none of it to anyone else."""
    mailed = [name for name in names if name != "quiet"] if mailed is None else mailed
    notified = told(kind)
    assert set(notified) == {county[name].id for name in names}, kind
    deliver(county)
    subjects = {f"【履约监管】{n.title}" for n in notified.values()}
    for name in (name for name, value in county.items() if isinstance(value, User)):
        received = [mail for mail in county["mail"].inbox.to(county[name].email) if mail.subject in subjects]
        if name not in mailed:
            assert received == [], f"{name} was e-mailed a {kind}"
            continue
        notification = notified[county[name].id]
        (mail,) = [mail for mail in received if mail.subject == f"【履约监管】{notification.title}"]
        assert mail.sender == "oversight@county.example" and notification.body in mail.body
        assert f"https://oversight.county.example/notifications/{notification.id}/open" in mail.body
        db.session.refresh(notification)
        assert (notification.email_status, notification.email_to, notification.email_attempts) == (
            "sent", county[name].email, 1)
    if "quiet" in names:
        quiet = notified[county["quiet"].id]
        assert (quiet.email_status, quiet.email_error) == ("skipped", "用户未选择接收此类邮件")
    return notified


def check(county, position=0, values=WRONG, checker="checker"):
    made = record_spot_check(county["draw"].items[position], checker=county[checker], method="入户复核",
                             checked_on=date(2025, 10, 16), values=values, note=None, uploads=[],
                             store=county["store"],
                             today=date(2025, 10, 16))
    db.session.commit()
    return made


def notice_for(county, failed, deadline=date(2025, 11, 1)):
    with replayed_at(datetime(2025, 10, 17, 2)):
        notice = issue_notice(failed, deadline=deadline, requirement="重新入户核实并更正调查结论",
                              issuer=county["supervisor"], today=date(2025, 10, 17))
    db.session.commit()
    return notice


# --- the events ----------------------------------------------------------------------------------


def test_a_spot_check_result_tells_our_contractor_only(county):
    check(county, 0, values=SAME)
    notified = assert_told(county, "spot_check_result", ["keen", "quiet"])
    assert "合格" in notified[county["keen"].id].title
    failed = check(county, 1)
    notified = told("spot_check_result")
    failure = [n for n in notified.values() if n.dedup_key == f"spot-check:{failed.id}"]
    assert {n.user_id for n in failure} == {county["keen"].id, county["quiet"].id}
    assert all("不合格" in n.title and n.link == f"/appeals/checks/{failed.id}/new" for n in failure)


def test_a_notice_issued_and_reissued_tells_our_contractor(county):
    notice = notice_for(county, check(county))
    notified = assert_told(county, "notice_issued", ["keen", "quiet"])
    assert notice.number in notified[county["keen"].id].title
    assert "2025年11月1日（北京时间）" in county["mail"].inbox.to("keen@ours.example")[-1].body
    with replayed_at(datetime(2025, 10, 25, 2)):
        respond_notice(notice, response="已重新入户", user=county["keen"])
        reissued = close_notice(notice, outcome="not_accepted", note="缺少佐证", user=county["supervisor"],
                                today=date(2025, 10, 25))
    db.session.commit()
    rounds = db.session.execute(select(Notification).where(Notification.kind == "notice_issued",
                                                           Notification.user_id == county["keen"].id)).scalars().all()
    assert [n.link for n in rounds] == [f"/spot-checks/notices/{notice.id}", f"/spot-checks/notices/{reissued.id}"]
    assert "（第2轮）" in rounds[1].title


def test_an_overdue_notice_tells_our_contractor_and_its_issuer_once(county):
    notice = notice_for(county, check(county))
    assert maintenance.notify_overdue_notices(date(2025, 11, 2)) == 1
    db.session.commit()
    notified = assert_told(county, "notice_overdue", ["keen", "quiet", "supervisor"])
    assert notice.number in notified[county["supervisor"].id].title
    assert maintenance.notify_overdue_notices(date(2025, 11, 3)) == 1  # still overdue, nobody told again
    db.session.commit()
    assert len(told("notice_overdue")) == 3 and deliver(county).sent == 0


def test_an_escalated_notice_tells_the_admins(county):
    notice = notice_for(county, check(county))
    for day in (date(2025, 10, 25), date(2025, 11, 8)):
        with replayed_at(datetime(day.year, day.month, day.day, 2)):
            respond_notice(notice, response="已整改", user=county["keen"])
            notice = close_notice(notice, outcome="not_accepted", note="仍不合格", user=county["supervisor"],
                                  today=day) or notice
        db.session.commit()
    notified = assert_told(county, "notice_escalated", ["admin"])
    assert "经2轮整改仍不合格" in notified[county["admin"].id].title


def test_an_appeal_decided_tells_our_contractor(county):
    failed = check(county)
    failed.created_at = datetime(2025, 10, 16, 2)
    appeal = appeals.file_appeal(failed, county["keen"], "对象外出，邻居说法有误", date(2025, 10, 20), 10)
    appeals.decide_appeal(appeal, county["supervisor"], "overturned", "邻居证实对象外出")
    db.session.commit()
    notified = assert_told(county, "appeal_decided", ["keen", "quiet"])
    assert notified[county["keen"].id].title == "抽查申诉已裁决：改判为合格"
    assert notified[county["keen"].id].link == f"/appeals/{appeal.id}"


def test_a_review_published_commented_and_settled_tells_each_side(county, factory):
    contract = factory.contract(county["contract"].contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    build_quarter(contract, county["supervisor"], with_checks=False)
    review = reviews.score_contract_quarter(contract, Quarter(2025, 3)).review
    reviews.publish(review, today=date(2025, 10, 8))
    db.session.commit()
    published = assert_told(county, "review_published", ["keen", "quiet"])
    assert "2025年10月22日（北京时间）前确认或提出异议" in published[county["keen"].id].body
    assert "2025年10月22日（北京时间）" in county["mail"].inbox.to("keen@ours.example")[-1].body
    reviews.comment(review, county["keen"], "disagree", "第三季度有5户因对象外出无法入户", date(2025, 10, 10))
    db.session.commit()
    commented = assert_told(county, "review_commented", ["supervisor", "checker", "admin"])
    assert "5户因对象外出" in commented[county["admin"].id].body
    reviews.settle(review, county["admin"], "外出对象已提供证明，酌情加分", "1.5")
    db.session.commit()
    settled = assert_told(county, "review_settled", ["keen", "quiet"])
    assert "酌情加分" in settled[county["keen"].id].body and settled[county["keen"].id].link == f"/reviews/{review.id}"


def test_an_annual_evaluation_published_commented_and_settled_tells_each_side(county):
    contract, scheme = county["contract"], ensure_default_scheme()
    for number, total in ((1, 9200), (2, 8500), (3, 7800), (4, 8800)):
        db.session.add(QuarterlyReview(contract_id=contract.id, quarter=f"2025Q{number}", scheme_id=scheme.id,
                                       status="approved", locked=True, figures=figures_with_total(f"2025Q{number}", total),
                                       total_centi=total, rating="-"))
    db.session.commit()
    evaluation = evaluations.compute_evaluation(contract, 2025, county["supervisor"])
    evaluations.publish_evaluation(evaluation, date(2026, 1, 10), window_days=14)
    db.session.commit()
    published = assert_told(county, "review_published", ["keen", "quiet"])
    assert "2026年1月24日（北京时间）" in published[county["keen"].id].body
    evaluations.comment_evaluation(evaluation, county["keen"], "disagree", "第三季度扣分过重", date(2026, 1, 12))
    db.session.commit()
    assert_told(county, "review_commented", ["supervisor", "checker", "admin"])
    evaluations.settle_evaluation(evaluation, county["admin"], "维持原评价", None)
    db.session.commit()
    settled = assert_told(county, "review_settled", ["keen", "quiet"])
    assert settled[county["keen"].id].link == f"/evaluations/{evaluation.id}"


def test_a_correction_decided_tells_its_requester(county, factory):
    assignment = factory.assignment(county["contract"], due_date=date(2025, 12, 31))
    record = factory.record(assignment, service_date=date(2025, 11, 10))
    today = date(2025, 11, 20)
    first = request_correction(record, county["quiet"], {"家庭人口数": "4"}, "记错了家庭人口", today)
    refuse(first, county["supervisor"], "户口簿显示3人")
    db.session.commit()
    assert_told(county, "correction_decided", ["quiet"], mailed=[])
    second = request_correction(record, county["keen"], {"家庭人口数": "4"}, "补充了户口簿", today)
    approve(second, county["supervisor"], today, note="与户口簿一致")
    db.session.commit()
    notified = told("correction_decided")
    assert notified[county["keen"].id].title == f"更正申请#{second.id}已批准"
    assert notified[county["quiet"].id].title == f"更正申请#{first.id}已驳回"
    deliver(county)
    assert [mail.subject for mail in county["mail"].inbox.to("keen@ours.example")] == [
        f"【履约监管】更正申请#{second.id}已批准"]


def test_an_import_accepted_rejected_or_failed_tells_its_uploader(county, factory, log_world, monkeypatch):
    uploader = _person(factory, "contractor", log_world.contractor, "uploader@logs.example")
    colleague = _person(factory, "contractor", log_world.contractor, "colleague@logs.example")
    county.update(uploader=uploader, colleague=colleague)
    accepted = upload(log_world, SURVEY, csv_bytes(SURVEY, [good_row(log_world, SURVEY)]),
                      uploader=uploader).batch
    notified = assert_told(county, "import_finished", ["uploader"])
    assert notified[uploader.id].link == f"/uploads/batches/{accepted.id}" and "已导入 1 条" in notified[uploader.id].body
    upload(log_world, SURVEY, csv_bytes(SURVEY, [good_row(log_world, SURVEY, 1, 家庭人口数="x")]),
           filename="bad.csv", uploader=uploader)
    assert [n.title for n in told_all("import_finished", uploader)] == [
        "上传的服务记录 log.csv 已导入", "上传的服务记录 bad.csv 未通过检查"]
    monkeypatch.setattr("oversight.services.completion_import.store_rows",
                        lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("disk gone")))
    upload(log_world, SURVEY, csv_bytes(SURVEY, [good_row(log_world, SURVEY, 2)]),
           filename="broken.csv", uploader=uploader)
    failed = assert_told(county, "import_failed", ["uploader"])
    assert failed[uploader.id].title == "上传的服务记录 broken.csv 处理失败"
    assert colleague.id not in told("import_finished") and colleague.id not in told("import_failed")


def told_all(kind, user):
    return db.session.execute(select(Notification).where(Notification.kind == kind,
                                                         Notification.user_id == user.id)).scalars().all()


def test_the_due_soon_reminder_tells_our_contractor(county, factory):
    factory.assignment(county["contract"], due_date=date(2025, 12, 5))
    assert maintenance.remind_due(date(2025, 12, 1)) == 2
    db.session.commit()
    notified = assert_told(county, "due_soon", ["keen", "quiet"])
    assert notified[county["keen"].id].title == "1 项任务将在 7 天内到期"


# --- the outbox ----------------------------------------------------------------------------------


def test_delivery_sends_each_e_mail_once_however_often_it_runs(county):
    check(county, 0, values=SAME)
    first, second = deliver(county), deliver(county)
    assert (first.sent, second.sent) == (1, 0)
    assert len(county["mail"].inbox.to("keen@ours.example")) == 1
    # A row another run has claimed is not sent by this one.
    check(county, 1, values=SAME)
    claimed = told_all("spot_check_result", county["keen"])[-1]
    claimed.email_status, claimed.email_claimed_at = "sending", utcnow()
    db.session.commit()
    assert deliver(county).sent == 0 and len(county["mail"].inbox.to("keen@ours.example")) == 1


def test_a_mail_server_that_is_down_keeps_the_e_mail_and_counts_attempts_until_failed(county, app):
    check(county, 0, values=SAME)
    check(county, 1, values=SAME)
    down = SmtpSettings("127.0.0.1", free_port(), "oversight@county.example", None, None, False)
    outcome = deliver_pending_emails(down, max_attempts=3)
    assert (outcome.sent, outcome.retrying, outcome.failed) == (0, 1, 0)  # the run stops at the first failure
    rows = sorted(told_all("spot_check_result", county["keen"]), key=lambda n: n.id)
    for row in rows:
        db.session.refresh(row)
    assert [(n.email_status, n.email_attempts) for n in rows] == [("pending", 1), ("pending", 0)]
    assert "ConnectionRefusedError" in rows[0].email_error
    deliver_pending_emails(down, max_attempts=3)
    deliver_pending_emails(down, max_attempts=3)
    db.session.refresh(rows[0])
    assert (rows[0].email_status, rows[0].email_attempts) == ("failed", 3)
    assert county["mail"].inbox.received == []
    # The server is back: the other is sent; the failed one stays failed, visible, never lost.
    assert deliver(county).sent == 1
    db.session.refresh(rows[1])
    assert rows[1].email_status == "sent" and rows[1].email_attempts == 1
    assert [n.email_status for n in told_all("spot_check_result", county["keen"])] == ["failed", "sent"]


def test_an_e_mail_left_sending_by_a_run_that_died_is_sent_later(county):
    check(county, 0, values=SAME)
    row = told_all("spot_check_result", county["keen"])[0]
    row.email_status, row.email_attempts, row.email_claimed_at = "sending", 1, utcnow() - timedelta(minutes=16)
    db.session.commit()
    outcome = deliver(county)
    assert (outcome.resumed, outcome.sent) == (1, 1)
    db.session.refresh(row)
    assert (row.email_status, row.email_attempts) == ("sent", 2)


def test_no_e_mail_without_a_server_an_address_or_the_wish(county, app, factory):
    nobody = factory.user("contractor", county["contract"].contractor)  # no address
    check(county, 0, values=SAME)
    assert told("spot_check_result")[nobody.id].email_error == "用户未填写邮箱"
    # Turned off after the notification was made: not sent.
    notifications.choose_emails(county["keen"], set(), county["keen"].email)
    db.session.commit()
    assert deliver(county).skipped == 1 and county["mail"].inbox.received == []
    app.config["SMTP_HOST"] = None
    check(county, 1, values=SAME)
    latest = told_all("spot_check_result", county["keen"])[-1]
    assert (latest.email_status, latest.email_error) == ("skipped", "未配置邮件服务器")
    assert deliver_pending_emails(SmtpSettings.from_config(app.config)).as_dict() == {
        "sent": 0, "retrying": 0, "failed": 0, "skipped": 0, "resumed": 0}


def test_the_command_sends_the_outbox(county, app):
    check(county, 0, values=SAME)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "已发送 1 封" in result.output and len(county["mail"].inbox.to("keen@ours.example")) == 1
    app.config["SMTP_HOST"] = None
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code != 0 and "未配置邮件服务器" in result.output


def test_the_queue_worker_sends_the_outbox_every_few_minutes(county, app):
    check(county, 0, values=SAME)
    huey = queue_of(app).huey
    at = datetime(2026, 12, 3, 2, app.config["EMAIL_DELIVERY_MINUTES"])
    deliver_emails = next(task for task in huey.read_periodic(at) if task.name == "deliver_emails")
    assert deliver_emails.name not in {task.name for task in huey.read_periodic(at + timedelta(minutes=1))}
    huey.execute(deliver_emails)
    assert len(county["mail"].inbox.to("keen@ours.example")) == 1
    huey.execute(deliver_emails)
    assert len(county["mail"].inbox.to("keen@ours.example")) == 1
