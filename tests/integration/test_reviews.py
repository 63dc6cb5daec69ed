"""Quarterly reviews against hand-computed quarters, the comment-window workflow, locking and revisions."""
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from oversight.domain.figures import ReviewFigures
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Assignment, KpiScheme, QuarterlyReview, ReviewManualItem
from oversight.models.performance import LockedRecordChange
from oversight.services import reviews
from oversight.services.reviews import ReviewError, ReviewLocked
from oversight.services.schemes import ensure_default_scheme

from tests.performance_support import build_quarter, figures_with_total

Q3 = Quarter(2025, 3)
D = Decimal


@pytest.fixture
def setting(factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    return {
        "contract": contract,
        "supervisor": factory.user("supervisor"),
        "admin": factory.user("admin"),
        "contractor_user": factory.user("contractor", contractor),
    }


def scored(contract):
    outcome = reviews.score_contract_quarter(contract, Q3)
    db.session.commit()
    return outcome.review


def by_key(review):
    return {item.key: item for item in review.figures.indicators}


def test_a_quarter_scores_to_the_hand_computed_figures(setting):
    data = build_quarter(setting["contract"], setting["supervisor"])
    review = scored(setting["contract"])
    items = by_key(review)
    # completion 45/50 = 0.90: 25 × (0.90 − 0.80)/(0.98 − 0.80) = 25 × 5/9 = 13.888… → 13.89
    assert (items["completion"].numerator, items["completion"].denominator) == (45, 50)
    assert str(items["completion"].value) == "0.9000" and str(items["completion"].score) == "13.89"
    # timeliness 40/45: 10 × (8/9 − 0.70)/0.25 = 10 × 68/90 = 7.5555… → 7.56
    assert (items["timeliness"].numerator, items["timeliness"].denominator) == (40, 45)
    assert str(items["timeliness"].score) == "7.56"
    # spot checks 18/20 (the targeted one left out): 25 × (0.90 − 0.70)/0.25 = 20.00
    assert (items["spot_check_pass"].numerator, items["spot_check_pass"].denominator) == (18, 20)
    assert str(items["spot_check_pass"].score) == "20.00"
    # fields 194/200 = 0.97: 10 × (0.97 − 0.85)/0.13 = 10 × 12/13 = 9.2307… → 9.23
    assert (items["field_accuracy"].numerator, items["field_accuracy"].denominator) == (194, 200)
    assert str(items["field_accuracy"].score) == "9.23"
    # satisfaction 8/10 (levels ≥ 3): 15 × (0.80 − 0.70)/0.25 = 6.00; authenticity 9/10 is the zero line
    assert (items["satisfaction"].numerator, str(items["satisfaction"].score)) == (8, "6.00")
    assert (items["authenticity"].numerator, str(items["authenticity"].score)) == (9, "0.00")
    # rectification 2/3: 5 × (2/3 − 0.5)/0.5 = 5/3 → 1.67
    assert (items["rectification"].numerator, items["rectification"].denominator) == (2, 3)
    assert str(items["rectification"].score) == "1.67"
    assert str(review.figures.total) == "58.35" and review.total_centi == 5835
    assert review.rating == "不合格"
    assert review.completed_volume == 45 and review.status == "draft"
    # Every figure carries the records behind it.
    assert list(items["completion"].record_ids) == sorted(a.id for a in data.assignments)
    assert set(items["completion"].counted_ids) == {a.id for a in data.assignments if a.status == "completed"}
    # Spot checks and callbacks name the completion records checked; the targeted check is left out.
    assert list(items["spot_check_pass"].record_ids) == sorted(check.record.id for check in data.checks[:20])
    assert set(items["spot_check_pass"].counted_ids) == {c.record.id for c in data.checks[:20] if c.passed}
    assert list(items["satisfaction"].record_ids) == sorted(callback.record_id for callback in data.callbacks[:10])
    assert items["field_accuracy"].counted_ids is None
    assert list(items["rectification"].record_ids) == [notice.id for notice in data.notices]


def test_the_figures_follow_the_format_the_exports_read(setting):
    build_quarter(setting["contract"], setting["supervisor"])
    typed = scored(setting["contract"]).figures
    figures = typed.to_json()  # the stored JSON
    assert figures["quarter"] == "2025Q3"
    assert figures["scheme"] == {"code": "default", "version": 1, "name": "默认考核方案"}
    assert {"manual_items", "manual_total", "indicator_total", "total", "rating", "completed_volume",
            "no_data_keys"} <= set(figures)
    for item in figures["indicators"]:
        assert {"key", "name", "value", "numerator", "denominator", "weight", "effective_weight", "score",
                "no_data", "record_ids", "note"} <= set(item)
        for key in ("weight", "effective_weight", "score"):
            assert isinstance(item[key], str)
    assert json.loads(json.dumps(figures)) == figures
    assert ReviewFigures.from_json(json.loads(json.dumps(figures))) == typed


def test_indicators_without_data_spread_their_weight_visibly(setting):
    build_quarter(setting["contract"], setting["supervisor"], with_checks=False)
    review = scored(setting["contract"])
    items = by_key(review)
    assert review.figures.no_data_keys == ("spot_check_pass", "field_accuracy", "satisfaction", "authenticity")
    # 25 + 10 + 5 = 40 points with data: completion 62.5, timeliness 25, rectification (none due: full) 12.5
    assert [str(items[k].effective_weight) for k in ("completion", "timeliness", "rectification")] == \
        ["62.50", "25.00", "12.50"]
    assert str(items["spot_check_pass"].effective_weight) == "0.00" and items["spot_check_pass"].no_data
    assert "权重已按比例分摊" in items["satisfaction"].note
    # 62.5 × 5/9 = 34.722… → 34.72; 25 × 68/90 = 18.888… → 18.89; 12.50
    assert [str(items[k].score) for k in ("completion", "timeliness", "rectification")] == ["34.72", "18.89", "12.50"]
    assert str(review.figures.total) == "66.11" and review.rating == "合格"


def test_manual_items_add_signed_points_with_reasons(setting):
    build_quarter(setting["contract"], setting["supervisor"])
    review = scored(setting["contract"])
    reviews.add_manual_item(review, "2.5", "培训台账完整", setting["supervisor"])
    reviews.add_manual_item(review, "-0.5", "一名社工未持证上岗", setting["supervisor"])
    db.session.commit()
    # 58.35 + 2.5 − 0.5 = 60.35: now 合格
    assert str(review.figures.manual_total) == "2.00" and str(review.figures.total) == "60.35"
    assert review.rating == "合格" and review.total_centi == 6035
    assert [item.reason for item in review.figures.manual_items] == ["培训台账完整", "一名社工未持证上岗"]
    with pytest.raises(ReviewError, match="理由"):
        reviews.add_manual_item(review, "1", "  ", setting["supervisor"])
    with pytest.raises(ReviewError, match="两位小数"):
        reviews.add_manual_item(review, "1.005", "多一位", setting["supervisor"])
    reviews.remove_manual_item(review, review.manual_items[0].id)
    db.session.commit()
    assert str(review.figures.total) == "57.85" and review.rating == "不合格"


def test_rescoring_a_draft_follows_the_records(setting):
    data = build_quarter(setting["contract"], setting["supervisor"])
    review = scored(setting["contract"])
    for assignment in data.assignments[45:]:
        assignment.status, assignment.completed_at = "completed", datetime(2025, 8, 1)
    db.session.commit()
    again = reviews.score_contract_quarter(setting["contract"], Q3)
    assert again.action == "refreshed" and again.review.id == review.id
    assert by_key(review)["completion"].numerator == 50


def test_the_comment_window_workflow_from_draft_to_locked(setting):
    build_quarter(setting["contract"], setting["supervisor"])
    review = scored(setting["contract"])
    with pytest.raises(ReviewError, match="先发布"):
        reviews.approve(review, setting["admin"], date(2025, 10, 10))
    with pytest.raises(ReviewError, match="尚未结束"):
        reviews.publish(review, today=date(2025, 9, 30))
    reviews.publish(review, today=date(2025, 10, 8))
    assert review.status == "published" and review.comment_deadline == date(2025, 10, 22)
    with pytest.raises(ReviewError, match="意见期至 2025-10-22"):
        reviews.approve(review, setting["admin"], date(2025, 10, 9))
    with pytest.raises(ReviewError, match="写明理由"):
        reviews.comment(review, setting["contractor_user"], "disagree", " ", date(2025, 10, 9))
    with pytest.raises(ReviewError, match="承接机构"):
        reviews.comment(review, setting["supervisor"], "agree", "", date(2025, 10, 9))
    reviews.comment(review, setting["contractor_user"], "disagree", "第三季度有5户因对象外出无法入户", date(2025, 10, 22))
    assert review.status == "disputed" and review.contractor_position == "disagree"
    with pytest.raises(ReviewError, match="裁定"):
        reviews.approve(review, setting["admin"], date(2025, 10, 30))
    reviews.settle(review, setting["admin"], "外出对象已提供证明，酌情加分", "1.5")
    assert review.status == "settled" and str(review.figures.total) == "59.85"
    assert [item.to_json() for item in review.figures.manual_items] == [{"points": "1.50", "reason": "复核裁定：外出对象已提供证明，酌情加分"}]
    reviews.approve(review, setting["admin"], date(2025, 10, 30))
    db.session.commit()
    assert review.status == "approved" and review.locked and review.approved_by_id == setting["admin"].id


def test_comments_after_the_window_are_refused_and_silence_counts_as_agreement(setting):
    build_quarter(setting["contract"], setting["supervisor"])
    review = scored(setting["contract"])
    reviews.publish(review, today=date(2025, 10, 8), window_days=7)
    with pytest.raises(ReviewError, match="已于 2025-10-15 截止"):
        reviews.comment(review, setting["contractor_user"], "disagree", "太晚了", date(2025, 10, 16))
    assert reviews.approval_blocker(review, date(2025, 10, 15)) is not None
    reviews.approve(review, setting["admin"], date(2025, 10, 16))
    assert review.status == "approved" and review.contractor_position is None


def locked_review(setting):
    build_quarter(setting["contract"], setting["supervisor"])
    review = scored(setting["contract"])
    reviews.add_manual_item(review, "1", "资料齐全", setting["supervisor"])
    reviews.publish(review, today=date(2025, 10, 8))
    reviews.comment(review, setting["contractor_user"], "agree", "", date(2025, 10, 9))
    reviews.approve(review, setting["admin"], date(2025, 10, 9))
    db.session.commit()
    return review


def test_every_service_refuses_a_locked_review(setting):
    review = locked_review(setting)
    before = review.figures
    for attempt in (
        lambda: reviews.add_manual_item(review, "5", "再加分", setting["supervisor"]),
        lambda: reviews.remove_manual_item(review, review.manual_items[0].id),
        lambda: reviews.publish(review, today=date(2025, 11, 1)),
        lambda: reviews.comment(review, setting["contractor_user"], "disagree", "改主意", date(2025, 10, 10)),
        lambda: reviews.settle(review, setting["admin"], "改判", "5"),
        lambda: reviews.approve(review, setting["admin"], date(2025, 11, 1)),
    ):
        with pytest.raises(ReviewLocked):
            attempt()
    db.session.rollback()
    assert db.session.get(QuarterlyReview, review.id).figures == before


def test_the_database_refuses_any_change_to_a_locked_review(setting):
    review = locked_review(setting)
    review.total_centi = 10000
    with pytest.raises(LockedRecordChange):
        db.session.flush()
    db.session.rollback()
    review.locked = False
    with pytest.raises(LockedRecordChange):
        db.session.flush()
    db.session.rollback()
    db.session.add(ReviewManualItem(review_id=review.id, points_centi=500, reason="绕过服务", created_by_id=setting["admin"].id))
    with pytest.raises(LockedRecordChange):
        db.session.flush()
    db.session.rollback()
    db.session.delete(review.manual_items[0])
    with pytest.raises(LockedRecordChange):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(LockedRecordChange):
        db.session.execute(db.update(QuarterlyReview).values(total_centi=10000))
    db.session.rollback()
    assert db.session.execute(select(QuarterlyReview.total_centi)).scalar_one() == 5935


def test_the_score_command_leaves_a_locked_review_as_it_was(app, setting):
    review = locked_review(setting)
    db.session.execute(db.update(Assignment).where(Assignment.status == "assigned")
                       .values(status="completed", completed_at=datetime(2025, 8, 1)))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["score-quarter", "2025Q3", "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["reviews"][0]["status"] == "approved" and output["reviews"][0]["total"] == "59.35"
    db.session.expire_all()
    stored = db.session.get(QuarterlyReview, review.id)
    assert stored.total_centi == 5935 and by_key(stored)["completion"].numerator == 45


def test_a_correction_is_a_new_revision_and_the_old_one_stays(setting):
    review = locked_review(setting)
    with pytest.raises(ReviewError, match="更正原因"):
        reviews.correct(review, setting["supervisor"], "")
    db.session.execute(db.update(Assignment).where(Assignment.status == "assigned")
                       .values(status="completed", completed_at=datetime(2025, 8, 1)))
    new = reviews.correct(review, setting["supervisor"], "5户补录完成记录")
    db.session.commit()
    assert (new.revision, new.status, new.supersedes_id, new.locked) == (2, "draft", review.id, False)
    assert by_key(new)["completion"].numerator == 50
    assert [(item.points_centi, item.reason) for item in new.manual_items] == [(100, "资料齐全")]
    assert by_key(db.session.get(QuarterlyReview, review.id))["completion"].numerator == 45
    with pytest.raises(ReviewError, match="更新的修订版本"):
        reviews.correct(review, setting["supervisor"], "再改一次")
    assert reviews.latest_revision(setting["contract"].id, "2025Q3").id == new.id
    # The contractor keeps seeing the approved revision until the new one is published.
    assert [r.id for r in reviews.contract_reviews(setting["contract"].id, published_only=True)] == [review.id]


def test_two_consecutive_quarters_under_80_raise_the_warning(setting, factory):
    contract = setting["contract"]

    def review(quarter, total, status="approved"):
        row = QuarterlyReview(contract_id=contract.id, quarter=quarter, scheme_id=ensure_default_scheme().id,
                              status=status, figures=figures_with_total(quarter, total), total_centi=total,
                              rating="-")
        db.session.add(row)
        db.session.commit()

    review("2025Q1", 7990)
    review("2025Q2", 8000)
    review("2025Q3", 7500)
    assert not reviews.contract_standing(contract.id).below_threshold
    review("2025Q4", 7999, status="draft")  # a draft is not a result yet
    assert not reviews.contract_standing(contract.id).below_threshold
    draft = reviews.latest_revision(contract.id, "2025Q4")
    draft.status = "published"
    db.session.commit()
    standing = reviews.contract_standing(contract.id)
    assert standing.below_threshold and standing.quarters == ("2025Q3", "2025Q4")


def test_the_command_scores_every_contract_in_term_as_json(app, setting, factory):
    build_quarter(setting["contract"], setting["supervisor"])
    factory.contract(term_start=date(2026, 1, 1), term_end=date(2026, 12, 31))  # not in term
    idle = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))  # nothing to score
    result = app.test_cli_runner().invoke(args=["score-quarter", "2025q3", "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert output["quarter"] == "2025Q3"
    [row] = output["reviews"]
    assert (row["contract"], row["scheme"], row["total"], row["rating"], row["status"]) == (
        setting["contract"].code, "default v1", "58.35", "不合格", "draft")
    assert row["indicators"][0] == {"key": "completion", "value": "0.9000", "numerator": 45, "denominator": 50,
                                    "score": "13.89", "weight": "25"}
    assert output["skipped"] == [{"contract": idle.code, "reason": "本季度各项指标均无数据，无法评分"}]
    again = app.test_cli_runner().invoke(args=["score-quarter", "2025Q3", "--contract", setting["contract"].code])
    assert "已重新计算草稿" in again.output
    assert db.session.execute(select(func.count()).select_from(QuarterlyReview)).scalar() == 1
    missing = app.test_cli_runner().invoke(args=["score-quarter", "2025Q3", "--contract", "NOPE"])
    assert missing.exit_code != 0 and "不存在" in missing.output
    bad = app.test_cli_runner().invoke(args=["score-quarter", "2025-3"])
    assert bad.exit_code != 0 and "2025Q3" in bad.output


def test_the_default_scheme_is_seeded_once_and_a_used_version_never_changes(setting):
    first = ensure_default_scheme()
    assert ensure_default_scheme().id == first.id
    assert db.session.execute(select(func.count()).select_from(KpiScheme)).scalar() == 1
    first.name = "改个名字"
    with pytest.raises(LockedRecordChange):
        db.session.flush()
    db.session.rollback()


def test_a_contract_scored_by_another_scheme_uses_its_newest_version(setting):
    from oversight.domain.scoring import Band, Indicator, SchemeError
    from oversight.services.schemes import SchemeMissing, create_version, use_scheme

    build_quarter(setting["contract"], setting["supervisor"])
    with pytest.raises(SchemeMissing):
        use_scheme(setting["contract"], "lite")
    bands = [Band("达标", D(60)), Band("不达标", D(0))]
    with pytest.raises(SchemeError, match="权重合计应为100"):
        create_version("lite", "简化方案", [Indicator("completion", "任务完成率", D(90), D("0.98"), D("0.80"))],
                       bands, {"达标": D(1), "不达标": D(0)}, setting["admin"])
    lite = create_version("lite", "简化方案", [
        Indicator("completion", "任务完成率", D(80), D("0.98"), D("0.80")),
        Indicator("spot_check_pass", "抽查合格率", D(20), D("1"), D("0.50")),
    ], bands, {"达标": D(1), "不达标": D(0)}, setting["admin"])
    use_scheme(setting["contract"], "lite")
    review = scored(setting["contract"])
    # 80 × 5/9 = 44.444… → 44.44; spot checks 18/20: 20 × (0.9 − 0.5)/0.5 = 16.00
    assert [(i.key, str(i.score)) for i in review.figures.indicators] == [("completion", "44.44"),
                                                                             ("spot_check_pass", "16.00")]
    assert str(review.figures.total) == "60.44" and review.rating == "达标" and review.scheme_id == lite.id


def test_timeliness_counts_the_county_day_of_a_utc_completion(setting, factory):
    contract = setting["contract"]
    due = date(2025, 8, 10)
    # 15:59 UTC is 23:59 in the county on the due date; 16:00 UTC is already the next day there.
    for moment in (datetime(2025, 8, 10, 15, 59), datetime(2025, 8, 10, 16, 0)):
        factory.assignment(contract, due_date=due, status="completed").completed_at = moment
    db.session.commit()
    timeliness = by_key(scored(contract))["timeliness"]
    assert (timeliness.numerator, timeliness.denominator) == (1, 2)
