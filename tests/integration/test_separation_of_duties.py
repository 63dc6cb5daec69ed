"""Whoever computed a draft neither settles nor approves it."""
from datetime import date

import pytest

from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.services import reviews
from oversight.services.reviews import ReviewError

from tests.performance_support import build_quarter

Q3 = Quarter(2025, 3)


@pytest.fixture
def setting(factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    build_quarter(contract, factory.user("supervisor"))
    return {"contract": contract, "drafter": factory.user("admin"), "other": factory.user("admin"),
            "contractor_user": factory.user("contractor", contractor)}


def drafted_by(setting, user):
    review = reviews.score_contract_quarter(setting["contract"], Q3, user=user).review
    db.session.commit()
    return review


def test_the_admin_who_computed_a_review_cannot_settle_it(setting):
    review = drafted_by(setting, setting["drafter"])
    assert review.computed_by_id == setting["drafter"].id
    reviews.publish(review, today=date(2025, 10, 8))
    reviews.comment(review, setting["contractor_user"], "disagree", "5户外出务工", date(2025, 10, 9))
    assert reviews.duty_blocker(review, setting["drafter"]) is not None
    assert reviews.duty_blocker(review, setting["other"]) is None
    with pytest.raises(ReviewError, match="本人计算的草稿"):
        reviews.settle(review, setting["drafter"], "酌情加分", "1")
    assert review.status == "disputed"
    reviews.settle(review, setting["other"], "酌情加分", "1")
    with pytest.raises(ReviewError, match="本人计算的草稿"):
        reviews.approve(review, setting["drafter"], date(2025, 10, 30))
    assert not review.locked
    reviews.approve(review, setting["other"], date(2025, 10, 30))
    assert review.locked and review.approved_by_id == setting["other"].id


def test_refreshing_a_draft_makes_the_refresher_its_drafter(setting):
    review = drafted_by(setting, setting["drafter"])
    again = reviews.score_contract_quarter(setting["contract"], Q3, user=setting["other"])
    assert again.action == "refreshed" and review.computed_by_id == setting["other"].id
    reviews.publish(review, today=date(2025, 10, 8), window_days=1)
    with pytest.raises(ReviewError, match="本人计算的草稿"):
        reviews.approve(review, setting["other"], date(2025, 10, 10))
    reviews.approve(review, setting["drafter"], date(2025, 10, 10))
    assert review.locked


def test_a_scheduled_draft_has_no_drafter_and_a_correction_has_its_author(setting):
    review = drafted_by(setting, None)
    assert review.computed_by_id is None
    reviews.publish(review, today=date(2025, 10, 8), window_days=1)
    reviews.approve(review, setting["drafter"], date(2025, 10, 10))
    new = reviews.correct(review, setting["other"], "补录记录")
    assert new.computed_by_id == setting["other"].id
    assert reviews.duty_blocker(new, setting["other"]) is not None
