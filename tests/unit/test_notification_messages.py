"""Who each workflow event tells, and what: the pure rules of domain/notifications.py."""
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from oversight.domain import notifications as messages
from oversight.domain.notifications import Audience, recipients
from oversight.domain.vocabulary import NotificationKind
from oversight.policy import Action, roles_for

OURS, THEIRS = 7, 8
CONTRACT = SimpleNamespace(code="GX-2025-001", contractor_id=OURS, county_id=7)

ADMIN = SimpleNamespace(id=1, role="admin", contractor_id=None)
SUPERVISOR = SimpleNamespace(id=2, role="supervisor", contractor_id=None)
AUDITOR = SimpleNamespace(id=3, role="auditor", contractor_id=None)
OUR_STAFF = SimpleNamespace(id=4, role="contractor", contractor_id=OURS)
OUR_OTHER_STAFF = SimpleNamespace(id=5, role="contractor", contractor_id=OURS)
THEIR_STAFF = SimpleNamespace(id=6, role="contractor", contractor_id=THEIRS)
EVERYONE = [ADMIN, SUPERVISOR, AUDITOR, OUR_STAFF, OUR_OTHER_STAFF, THEIR_STAFF]

NOTICE = SimpleNamespace(id=11, number="〔2025〕整改第003号", round=1, contract=CONTRACT, deadline=date(2025, 11, 1),
                         requirement="重新入户核实", issued_by_id=SUPERVISOR.id)
REVIEW = SimpleNamespace(id=21, quarter="2025Q3", contract=CONTRACT, total_centi=8650,
                         published_at=datetime(2025, 10, 8, 2, 0), comment_deadline=date(2025, 10, 22),
                         contractor_position="disagree", contractor_comment="5户外出", settlement="酌情加分")
EVALUATION = SimpleNamespace(id=31, year=2025, contract=CONTRACT, score_centi=9012,
                             published_at=datetime(2026, 1, 10, 2, 0), comment_deadline=date(2026, 1, 24),
                             contractor_position="agree", contractor_comment=None, settlement="维持")
FAILED_CHECK = SimpleNamespace(id=41, passed=False, contract=CONTRACT, record_id=51, checked_on=date(2025, 10, 16),
                               fields_differing=2)
PASSED_CHECK = SimpleNamespace(id=42, passed=True, contract=CONTRACT, record_id=52, checked_on=date(2025, 10, 16),
                               fields_differing=0)
APPEAL = SimpleNamespace(id=61, decision="overturned", decision_reason="邻居证实", contract=CONTRACT)
CORRECTION = SimpleNamespace(id=71, status="refused", decision_note="证明不足", contract=CONTRACT,
                             requested_by_id=OUR_STAFF.id)
PROPOSAL = SimpleNamespace(quarter="2025Q4", points_centi=-150)
REPORT = SimpleNamespace(contract=CONTRACT, reported_on=date(2026, 2, 12),
                         assignment=SimpleNamespace(id=91, number="RW20260212-000001", due_date=date(2026, 3, 5)))


def batch(status, uploaded_by_id=OUR_STAFF.id, **fields):
    return SimpleNamespace(id=81, status=status, uploaded_by_id=uploaded_by_id, filename="九月.xlsx", contract=CONTRACT,
                           rows_accepted=1234, message=fields.get("message", "文件有 3 处错误，未保存任何数据"))


def told(message):
    return [user.id for user in recipients(message.audience, EVERYONE)]


EVENTS = {
    "notice issued": (messages.notice_issued(NOTICE), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "notice overdue": (messages.notice_overdue(NOTICE), [SUPERVISOR.id, OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "notice escalated": (messages.notice_escalated(NOTICE, PROPOSAL), [ADMIN.id]),
    "review published": (messages.review_published(REVIEW), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "review commented": (messages.review_commented(REVIEW), [ADMIN.id, SUPERVISOR.id]),
    "review settled": (messages.review_settled(REVIEW), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "evaluation published": (messages.evaluation_published(EVALUATION), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "evaluation commented": (messages.evaluation_commented(EVALUATION), [ADMIN.id, SUPERVISOR.id]),
    "evaluation settled": (messages.evaluation_settled(EVALUATION), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "check failed": (messages.spot_check_result(FAILED_CHECK, date(2025, 10, 26)), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "check passed": (messages.spot_check_result(PASSED_CHECK, date(2025, 10, 26)), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "appeal decided": (messages.appeal_decided(APPEAL), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "correction decided": (messages.correction_decided(CORRECTION), [OUR_STAFF.id]),
    "import accepted": (messages.import_done(batch("accepted")), [OUR_STAFF.id]),
    "import rejected": (messages.import_done(batch("rejected")), [OUR_STAFF.id]),
    "import failed": (messages.import_done(batch("failed", message="文件无法读取")), [OUR_STAFF.id]),
    "import by a supervisor": (messages.import_done(batch("accepted", SUPERVISOR.id)), [SUPERVISOR.id]),
    "due soon": (messages.due_soon(OURS, 3, date(2026, 3, 2), date(2026, 3, 9), 7), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
    "re-assessment assigned": (messages.reassessment_assigned(REPORT), [OUR_STAFF.id, OUR_OTHER_STAFF.id]),
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_each_event_tells_exactly_its_audience_and_never_another_contractor(event):
    message, expected = EVENTS[event]
    assert told(message) == expected
    assert THEIR_STAFF.id not in told(message) and AUDITOR.id not in told(message)
    # Every role told is one the preferences page offers that kind to.
    assert {user.role for user in EVERYONE if user.id in expected} <= messages.ROLES_TOLD[message.kind]


def test_every_kind_is_told_by_some_event_and_offered_to_some_role():
    assert {message.kind for message, _ in EVENTS.values()} == set(NotificationKind)
    assert set(messages.ROLES_TOLD) == set(NotificationKind)


def test_bureau_audiences_follow_the_policy():
    assert messages.ROLES_TOLD[NotificationKind.NOTICE_ESCALATED] == roles_for(Action.HANDLE_ESCALATIONS)
    commented = messages.ROLES_TOLD[NotificationKind.REVIEW_COMMENTED]
    assert roles_for(Action.SETTLE_REVIEWS) | roles_for(Action.SCORE_REVIEWS) == commented
    uploads = messages.ROLES_TOLD[NotificationKind.IMPORT_FINISHED]
    assert uploads == roles_for(Action.ENTER_RECORDS) == messages.ROLES_TOLD[NotificationKind.IMPORT_FAILED]


def test_a_named_contractor_user_is_reached_only_within_the_events_contractor():
    moved = SimpleNamespace(id=OUR_STAFF.id, role="contractor", contractor_id=THEIRS)
    assert recipients(messages.correction_decided(CORRECTION).audience, [moved]) == []
    assert recipients(Audience(contractor_id=None, user_ids=(OUR_STAFF.id,)), [OUR_STAFF]) == []
    assert recipients(Audience(), EVERYONE) == []


def test_the_published_review_gives_the_window_end_as_a_county_date_and_the_score():
    message = EVENTS["review published"][0]
    assert message.kind == NotificationKind.REVIEW_PUBLISHED and message.link == "/reviews/21"
    assert message.title == "合同 GX-2025-001 的2025年第3季度考核结果已发布"
    assert "得分 86.50" in message.body and "2025年10月22日（北京时间）前确认或提出异议" in message.body
    assert "2026年1月24日" in EVENTS["evaluation published"][0].body and "得分 90.12" in EVENTS["evaluation published"][0].body
    # Published again after a recomputation: a new event, not the old one retold.
    again = messages.review_published(SimpleNamespace(**{**vars(REVIEW), "published_at": datetime(2025, 10, 9)}))
    assert again.key != message.key


def test_texts_name_the_outcome_in_chinese():
    assert EVENTS["review commented"][0].title.endswith("承接方提出异议") and "请管理员裁定" in EVENTS["review commented"][0].body
    assert EVENTS["evaluation commented"][0].title.endswith("承接方确认同意")
    assert "2025年11月1日（北京时间）前完成整改" in EVENTS["notice issued"][0].body
    reissued = messages.notice_issued(SimpleNamespace(**{**vars(NOTICE), "round": 2}))
    assert reissued.title == "收到整改通知〔2025〕整改第003号（第2轮）"
    assert "扣 1.5 分" in EVENTS["notice escalated"][0].body and "2025Q4" in EVENTS["notice escalated"][0].body
    failed, passed = EVENTS["check failed"][0], EVENTS["check passed"][0]
    assert "不合格" in failed.title and "2 项" in failed.body and "2025年10月26日（北京时间）前提出申诉" in failed.body
    assert failed.link == "/appeals/checks/41/new" and passed.link == "/corrections/records/52" and "合格" in passed.title
    assert EVENTS["appeal decided"][0].title == "抽查申诉已裁决：改判为合格"
    assert "整改通知已撤销" in EVENTS["appeal decided"][0].body
    assert EVENTS["correction decided"][0].title == "更正申请#71已驳回" and "证明不足" in EVENTS["correction decided"][0].body
    assert "1,234 条" in EVENTS["import accepted"][0].body
    assert EVENTS["import failed"][0].kind == NotificationKind.IMPORT_FAILED and "文件无法读取" in EVENTS["import failed"][0].body
    assert EVENTS["import rejected"][0].kind == NotificationKind.IMPORT_FINISHED


def test_an_import_still_running_or_from_the_command_line_tells_nobody():
    assert messages.import_done(batch("processing")) is None
    assert messages.import_done(batch("accepted", uploaded_by_id=None)) is None


def test_county_dates_read_as_chinese_dates():
    assert messages.county_date(date(2026, 1, 5)) == "2026年1月5日"


def test_the_bureaus_audience_is_that_of_the_events_county():
    for message in (messages.notice_escalated(NOTICE, PROPOSAL), messages.review_commented(REVIEW)):
        assert message.audience.roles and message.audience.county_id == CONTRACT.county_id
