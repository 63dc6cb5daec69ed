"""The steps reviews and evaluations share: the comment window, a comment's outcome, approval."""
from datetime import date
from types import SimpleNamespace

import pytest

from oversight.domain.review_steps import StepRefused, approval_blocker, comment_outcome, window_open

DEADLINE = date(2026, 4, 15)


def _record(status):
    return SimpleNamespace(status=status, comment_deadline=DEADLINE if status != "draft" else None)


def test_the_window_is_open_to_the_deadline_inclusive_and_only_while_published():
    assert window_open(_record("published"), DEADLINE)
    assert not window_open(_record("published"), date(2026, 4, 16))
    assert not window_open(_record("agreed"), date(2026, 4, 1))


def test_a_comment_agrees_or_disputes_with_its_text_trimmed():
    assert comment_outcome(_record("published"), DEADLINE, "agree", "  ") == ("agreed", None)
    assert comment_outcome(_record("published"), DEADLINE, "disagree", " 抽查样本有误 ") == ("disputed", "抽查样本有误")


@pytest.mark.parametrize(("today", "position", "text", "reason"), [
    (date(2026, 4, 16), "agree", "", "意见期已于 2026-04-15 截止，视为同意"),
    (DEADLINE, "maybe", "", "请选择同意或不同意"),
    (DEADLINE, "disagree", "   ", "不同意时必须写明理由"),
])
def test_a_comment_is_refused_with_its_reason(today, position, text, reason):
    with pytest.raises(StepRefused, match=reason):
        comment_outcome(_record("published"), today, position, text)


@pytest.mark.parametrize(("status", "today", "blocker"), [
    ("agreed", DEADLINE, None),
    ("settled", DEADLINE, None),
    ("published", date(2026, 4, 16), None),
    ("published", DEADLINE, "承接方意见期至 2026-04-15，承接方同意或期满后方可审定"),
    ("draft", DEADLINE, "草稿须先发布给承接方确认"),
    ("disputed", DEADLINE, "承接方有异议，须先由管理员裁定"),
    ("approved", DEADLINE, "已审定"),
])
def test_approval_waits_for_agreement_the_deadline_or_a_settlement(status, today, blocker):
    assert approval_blocker(_record(status), today) == blocker
