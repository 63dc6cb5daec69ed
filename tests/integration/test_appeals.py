"""Appeals of failed spot checks: the window, a different supervisor, the second re-check, and
the KPI counting the final verdict."""
from datetime import date, datetime, timedelta

import pytest

from oversight.adapters.files import LocalFileStore
from oversight.domain.appeals import AppealRefused
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import RectificationNotice
from oversight.services import appeals, reviews
from oversight.services.check_results import contract_results
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.clock import local_day
from oversight.services.spot_checks import issue_notice, record_spot_check

from tests.checks_support import AFTER_Q3, add_records
from tests.performance_support import build_quarter

SAME = {"household_size": 3, "annual_income_fen": 2_400_000, "financial_assets_fen": 300_000,
        "survey_conclusion": "符合"}
WRONG = SAME | {"survey_conclusion": "不符合"}
RECORDED = datetime(2025, 10, 16, 2, 0)  # 10:00 in the county on 16 October


@pytest.fixture
def failed(factory, tmp_path):
    """A failed household-survey check recorded on 16 October by `checker`, and the people around it."""
    contractor = factory.contractor(workers=1)
    contract = factory.contract(contractor)
    add_records(contract, {0: 6}, financial_assets_fen=300_000)
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="s").draws[0]
    checker = factory.user("supervisor")
    check = record_spot_check(draw.items[0], checker=checker, method="入户复核", checked_on=date(2025, 10, 16),
                              values=WRONG, note=None, uploads=[], store=LocalFileStore(tmp_path),
                              today=date(2025, 10, 16))
    check.created_at = RECORDED
    db.session.commit()
    return {"check": check, "checker": checker, "other": factory.user("supervisor"), "admin": factory.user("admin"),
            "contractor_user": factory.user("contractor", contractor),
            "stranger": factory.user("contractor", factory.contractor())}


def test_a_contractor_appeals_within_the_window_of_working_days(failed):
    check, user = failed["check"], failed["contractor_user"]
    assert local_day(check.created_at) == date(2025, 10, 16)  # a Thursday: two weekends in ten working days
    assert appeals.appeal_window_closes(check, 10) == date(2025, 10, 30)
    with pytest.raises(AppealRefused, match="已于 2025-10-30 截止.*10 个工作日"):
        appeals.file_appeal(check, user, "调查时对象外出，邻居说法有误", date(2025, 10, 31), 10)
    with pytest.raises(AppealRefused, match="申诉理由"):
        appeals.file_appeal(check, user, "  ", date(2025, 10, 30), 10)
    with pytest.raises(AppealRefused, match="承接机构"):
        appeals.file_appeal(check, failed["stranger"], "别家机构", date(2025, 10, 20), 10)
    appeal = appeals.file_appeal(check, user, "调查时对象外出，邻居说法有误", date(2025, 10, 30), 10)
    db.session.commit()
    assert (appeal.status, appeal.contract_id, appeal.filed_by_id) == ("filed", check.contract_id, user.id)
    with pytest.raises(AppealRefused, match="不能重复申诉"):
        appeals.file_appeal(check, user, "再申诉一次", date(2025, 10, 20), 10)


def test_the_window_counts_the_county_day_of_a_utc_recording(failed):
    check = failed["check"]
    check.created_at = datetime(2025, 10, 15, 16, 0)  # already 16 October in the county
    assert appeals.appeal_window_closes(check, 3) == date(2025, 10, 21)  # Fri, Mon, Tue
    check.created_at = datetime(2025, 10, 15, 15, 59)
    assert appeals.appeal_window_closes(check, 3) == date(2025, 10, 20)  # Thu, Fri, Mon


def test_a_passed_check_cannot_be_appealed(failed, factory):
    check = failed["check"]
    check.passed = True
    with pytest.raises(AppealRefused, match="无需申诉"):
        appeals.file_appeal(check, failed["contractor_user"], "理由", date(2025, 10, 17), 10)


def test_only_a_supervisor_other_than_the_checker_orders_a_recheck_or_decides(failed):
    appeal = appeals.file_appeal(failed["check"], failed["contractor_user"], "对象当日在外务工", date(2025, 10, 17))
    checker, other = failed["checker"], failed["other"]
    assert "不能裁决" in appeals.may_decide(appeal, checker)
    assert appeals.may_decide(appeal, other) is None
    with pytest.raises(AppealRefused, match="另一名监管人员"):
        appeals.decide_appeal(appeal, checker, "upheld", "原结论无误")
    with pytest.raises(AppealRefused, match="另一名监管人员"):
        appeals.order_recheck(appeal, checker, other)
    with pytest.raises(AppealRefused, match="监管人员"):
        appeals.decide_appeal(appeal, failed["contractor_user"], "overturned", "自己改判")
    with pytest.raises(AppealRefused, match="原复检人以外"):
        appeals.order_recheck(appeal, other, checker)  # the re-check is not the checker's either
    with pytest.raises(AppealRefused, match="裁决理由"):
        appeals.decide_appeal(appeal, other, "upheld", " ")
    appeals.decide_appeal(appeal, other, "upheld", "邻里走访与入户结果一致，维持原结论")
    db.session.commit()
    assert (appeal.status, appeal.decision, appeal.final_passed, appeal.decided_by_id) == (
        "decided", "upheld", False, other.id)
    assert appeals.may_decide(appeal, other) == "申诉已裁决"
    with pytest.raises(AppealRefused, match="已裁决"):
        appeals.decide_appeal(appeal, failed["admin"], "overturned", "再改")


def test_a_second_recheck_is_recorded_and_compared_before_the_decision(failed):
    appeal = appeals.file_appeal(failed["check"], failed["contractor_user"], "对象当日在外务工", date(2025, 10, 17))
    other, admin = failed["other"], failed["admin"]
    appeals.order_recheck(appeal, admin, other)
    assert (appeal.status, appeal.recheck_assigned_to_id) == ("recheck_ordered", other.id)
    with pytest.raises(AppealRefused, match="先录入复核结果"):
        appeals.decide_appeal(appeal, admin, "overturned", "未复核先改判")
    with pytest.raises(AppealRefused, match="原复检人以外"):
        appeals.record_recheck(appeal, failed["checker"], method="入户复核", checked_on=date(2025, 10, 20),
                               values=SAME, note=None, today=date(2025, 10, 20))
    with pytest.raises(AppealRefused, match="不能早于原复检日期"):
        appeals.record_recheck(appeal, other, method="入户复核", checked_on=date(2025, 10, 15), values=SAME,
                               note=None, today=date(2025, 10, 20))
    appeals.record_recheck(appeal, other, method="入户复核", checked_on=date(2025, 10, 20), values=SAME,
                           note="对象在家，核实结论为符合", today=date(2025, 10, 20))
    assert appeal.status == "rechecked" and appeal.recheck_passed
    assert (appeal.recheck_fields_compared, appeal.recheck_fields_differing) == (4, 0)
    assert appeal.recheck_comparison["reason"] == "合格"
    appeals.decide_appeal(appeal, admin, "overturned", "复核结论为符合，原复检有误")
    db.session.commit()
    assert appeal.final_passed and appeal.decision == "overturned"
    # The original check stays as it was recorded.
    assert not failed["check"].passed and failed["check"].fields_differing == 1


def test_an_overturned_check_withdraws_its_notice(failed):
    check = failed["check"]
    notice = issue_notice(check, deadline=date(2025, 11, 5), requirement="重新入户核实", issuer=failed["checker"],
                          today=date(2025, 10, 17))
    appeal = appeals.file_appeal(check, failed["contractor_user"], "结论有误", date(2025, 10, 17))
    appeals.decide_appeal(appeal, failed["other"], "overturned", "提供了收入证明")
    db.session.commit()
    stored = db.session.get(RectificationNotice, notice.id)
    assert (stored.status, stored.outcome) == ("closed", "withdrawn")
    assert "提供了收入证明" in stored.closing_note


@pytest.fixture
def quarter(factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    checker = factory.user("supervisor")
    data = build_quarter(contract, checker)
    return {"contract": contract, "data": data, "checker": checker, "other": factory.user("supervisor"),
            "contractor_user": factory.user("contractor", contractor)}


def _indicators(contract):
    outcome = reviews.score_contract_quarter(contract, Quarter(2025, 3))
    return {item.key: item for item in outcome.review.figures.indicators}


def test_the_kpi_counts_the_final_verdict_and_the_rechecks_fields(quarter):
    contract, data = quarter["contract"], quarter["data"]
    failed = data.checks[0]  # a random-stratum failure, 1 of its 10 fields differing, its notice closed on time
    before = _indicators(contract)
    assert (before["spot_check_pass"].numerator, before["spot_check_pass"].denominator) == (18, 20)
    assert (before["field_accuracy"].numerator, before["field_accuracy"].denominator) == (194, 200)
    assert (before["rectification"].numerator, before["rectification"].denominator) == (2, 3)

    today = local_day(failed.created_at)
    appeal = appeals.file_appeal(failed, quarter["contractor_user"], "对象当日在外务工", today)
    appeals.order_recheck(appeal, quarter["other"], quarter["other"])
    appeals.record_recheck(appeal, quarter["other"], method="入户复核", checked_on=failed.checked_on + timedelta(days=1),
                           values={"household_size": 3, "annual_income_fen": 2_400_000,
                                   "financial_assets_fen": 500_000, "survey_conclusion": "符合"},
                           note=None, today=today + timedelta(days=30))
    undecided = _indicators(contract)
    assert undecided["spot_check_pass"].numerator == 18  # a re-check alone decides nothing
    appeals.decide_appeal(appeal, quarter["other"], "overturned", "复核无误")
    db.session.commit()

    after = _indicators(contract)
    assert (after["spot_check_pass"].numerator, after["spot_check_pass"].denominator) == (19, 20)
    assert failed.record_id in after["spot_check_pass"].counted_ids
    # The re-check compared 4 fields, none differing, in place of the original 10 with 1 differing.
    assert (after["field_accuracy"].numerator, after["field_accuracy"].denominator) == (189, 194)
    # Its notice is withdrawn: 1 of the 2 notices left closed by the deadline.
    assert (after["rectification"].numerator, after["rectification"].denominator) == (1, 2)
    # The check-results page counts the same verdict.
    results = contract_results(contract.id, Quarter(2025, 3), today)
    assert (results.overall.passed.numerator, results.overall.passed.denominator) == (19, 20)


def test_an_upheld_appeal_leaves_the_kpi_as_it_was(quarter):
    contract, failed = quarter["contract"], quarter["data"].checks[4]
    appeal = appeals.file_appeal(failed, quarter["contractor_user"], "理由", local_day(failed.created_at))
    appeals.decide_appeal(appeal, quarter["other"], "upheld", "维持")
    db.session.commit()
    items = _indicators(contract)
    assert items["spot_check_pass"].numerator == 18 and items["field_accuracy"].numerator == 194
