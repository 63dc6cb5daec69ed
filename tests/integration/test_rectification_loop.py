"""The rectification loop: a response not accepted reissues the notice, the last round escalates
to the admins and proposes a deduction the supervisor confirms when scoring; numbers per year."""
from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oversight.adapters.files import LocalFileStore
from oversight.clock import replayed_at
from oversight.domain.periods import Quarter
from oversight.domain.rectification import RectificationError
from oversight.extensions import db
from oversight.models import Notification, ProposedDeduction, RectificationNotice
from oversight.services import rectification, reviews
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.rectification import RectificationRules
from oversight.services.spot_checks import (
    SpotCheckError,
    close_notice,
    issue_notice,
    notice_of,
    record_spot_check,
    respond_notice,
)

from tests.checks_support import AFTER_Q3, add_records
from tests.performance_support import build_quarter

WRONG = {"household_size": 3, "survey_conclusion": "不符合"}


@pytest.fixture
def failing(factory, tmp_path):
    """Three failed checks of one contract and the people of the loop."""
    contractor = factory.contractor(workers=1)
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    add_records(contract, {0: 6})
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="r").draws[0]
    supervisor = factory.user("supervisor")
    checks = [record_spot_check(item, checker=supervisor, method="入户复核", checked_on=date(2025, 10, 16),
                                values=WRONG, note=None, uploads=[], store=LocalFileStore(tmp_path),
                                today=date(2025, 10, 16)) for item in draw.items[:3]]
    db.session.commit()
    return {"contract": contract, "checks": checks, "supervisor": supervisor,
            "admins": [factory.user("admin"), factory.user("admin")],
            "contractor_user": factory.user("contractor", contractor)}


def issue(failing, check, today=date(2025, 10, 17)):
    with replayed_at(datetime(today.year, today.month, today.day, 2)):  # 10:00 in the county
        notice = issue_notice(check, deadline=date(2025, 11, 1), requirement="重新入户核实并更正调查结论",
                              issuer=failing["supervisor"], today=today)
    db.session.commit()
    return notice


def not_accepted(failing, notice, today, **kwargs):
    with replayed_at(datetime(today.year, today.month, today.day, 2)):
        respond_notice(notice, response="已重新入户", user=failing["contractor_user"])
        reissued = close_notice(notice, outcome="not_accepted", note="缺少佐证材料", user=failing["supervisor"],
                                today=today, **kwargs)
    db.session.commit()
    return reissued


def test_a_response_not_accepted_reissues_the_notice_with_a_new_deadline(failing):
    first = issue(failing, failing["checks"][0])
    second = not_accepted(failing, first, date(2025, 10, 25))
    assert (first.status, first.outcome, first.round) == ("closed", "not_accepted", 1)
    assert (second.status, second.round, second.previous_id) == ("open", 2, first.id)
    assert second.deadline == date(2025, 11, 14)  # 15 working days after the closing Saturday by default
    assert second.requirement == first.requirement and second.spot_check_id == first.spot_check_id
    assert notice_of(failing["checks"][0]).id == second.id
    assert [n.id for n in rectification.rounds_of(second)] == [first.id, second.id]
    chosen = not_accepted(failing, issue(failing, failing["checks"][1]), date(2025, 10, 25),
                          reissue_deadline=date(2025, 11, 30))
    assert chosen.deadline == date(2025, 11, 30)
    with pytest.raises(SpotCheckError, match="晚于今天"):
        not_accepted(failing, issue(failing, failing["checks"][2]), date(2025, 10, 25),
                     reissue_deadline=date(2025, 10, 25))


def test_after_the_last_round_the_notice_escalates_and_proposes_a_deduction(failing):
    first = issue(failing, failing["checks"][0])
    second = not_accepted(failing, first, date(2025, 10, 25))
    assert not_accepted(failing, second, date(2025, 11, 8)) is None
    assert second.escalated_at is not None and first.escalated_at is None
    assert db.session.execute(select(RectificationNotice).where(
        RectificationNotice.spot_check_id == first.spot_check_id)).scalars().all() == [first, second]
    notified = db.session.execute(select(Notification).where(Notification.kind == "notice_escalated")
                                  .order_by(Notification.user_id)).scalars().all()
    assert [n.user_id for n in notified] == [admin.id for admin in failing["admins"]]
    issued = db.session.execute(select(Notification.user_id, Notification.link).where(
        Notification.kind == "notice_issued").order_by(Notification.id)).all()
    assert issued == [(failing["contractor_user"].id, f"/spot-checks/notices/{n.id}") for n in (first, second)]
    assert second.number in notified[0].title and notified[0].link == f"/spot-checks/notices/{second.id}"
    (proposal,) = db.session.execute(select(ProposedDeduction)).scalars().all()
    assert (proposal.contract_id, proposal.quarter, proposal.notice_id, proposal.points_centi, proposal.status) == (
        failing["contract"].id, "2025Q4", second.id, -200, "proposed")
    assert rectification.escalated_notices() is not None
    assert db.session.execute(rectification.escalated_notices()).scalars().all() == [second]
    with pytest.raises(RectificationError, match="管理员"):
        rectification.handle_escalation(second, failing["supervisor"], "约谈")
    rectification.handle_escalation(second, failing["admins"][0], "已约谈承接机构负责人")
    assert db.session.execute(rectification.escalated_notices()).scalars().all() == []


def test_the_number_of_rounds_is_a_setting(failing):
    one_round = RectificationRules(max_rounds=1, deduction_points="-1.5")
    assert not_accepted(failing, issue(failing, failing["checks"][0]), date(2025, 10, 25), rules=one_round) is None
    assert db.session.execute(select(ProposedDeduction.points_centi)).scalar_one() == -150


def test_notices_are_numbered_per_county_year_and_the_number_is_unique(failing):
    notices = [issue(failing, check) for check in failing["checks"][:2]]
    assert [n.number for n in notices] == ["〔2025〕整改第001号", "〔2025〕整改第002号"]
    reissued = not_accepted(failing, notices[0], date(2025, 10, 25))
    assert reissued.number == "〔2025〕整改第003号"
    # 16:30 UTC on 31 December is already 2026 in the county: the count starts again.
    late = RectificationNotice(spot_check_id=failing["checks"][2].id, contract_id=failing["contract"].id,
                               issued_by_id=failing["supervisor"].id, deadline=date(2026, 1, 20), requirement="x",
                               issued_at=datetime(2025, 12, 31, 16, 30))
    db.session.add(late)
    db.session.commit()
    assert (late.year, late.sequence, late.number) == (2026, 1, "〔2026〕整改第001号")
    db.session.add(RectificationNotice(spot_check_id=failing["checks"][2].id, contract_id=failing["contract"].id,
                                       issued_by_id=failing["supervisor"].id, deadline=date(2026, 1, 20),
                                       requirement="x", year=2026, sequence=1, number="〔2026〕整改第001号"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_number_prefix_is_a_setting(app, failing):
    app.config["NOTICE_NUMBER_PREFIX"] = "赣县民"
    assert issue(failing, failing["checks"][0]).number == "赣县民〔2025〕整改第001号"


def test_the_supervisor_confirms_or_dismisses_the_proposed_deduction_when_scoring(factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    supervisor = factory.user("supervisor")
    data = build_quarter(contract, supervisor)
    review = reviews.score_contract_quarter(contract, Quarter(2025, 3), user=supervisor).review
    db.session.commit()
    assert str(review.figures.total) == "58.35"
    proposals = [ProposedDeduction(contract_id=contract.id, quarter="2025Q3", notice_id=notice.id,
                                   points_centi=-200, reason=f"整改通知{notice.number}经2轮整改仍不合格")
                 for notice in data.notices[:2]]
    db.session.add_all(proposals)
    db.session.commit()
    assert rectification.proposals_for(review) == proposals
    rectification.confirm_deduction(proposals[0], review, supervisor)
    db.session.commit()
    assert str(review.figures.total) == "56.35" and proposals[0].status == "confirmed"
    assert review.manual_items[-1].id == proposals[0].review_item_id
    assert review.manual_items[-1].reason == proposals[0].reason
    with pytest.raises(RectificationError, match="已处理"):
        rectification.confirm_deduction(proposals[0], review, supervisor)
    with pytest.raises(RectificationError, match="理由"):
        rectification.dismiss_deduction(proposals[1], review, supervisor, " ")
    rectification.dismiss_deduction(proposals[1], review, supervisor, "承接机构已另行整改到位")
    assert proposals[1].status == "dismissed" and str(review.figures.total) == "56.35"
    other = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    stray = ProposedDeduction(contract_id=other.id, quarter="2025Q3", notice_id=data.notices[2].id,
                              points_centi=-200, reason="别的合同", status="proposed")
    db.session.add(stray)
    with pytest.raises(RectificationError, match="不属于"):
        rectification.confirm_deduction(stray, review, supervisor)
