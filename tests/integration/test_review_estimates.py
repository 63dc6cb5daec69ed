"""The KPI's spot-check pass rate and field accuracy are the design-based estimates of a risk-weighted
draw, worked by hand; the raw k/n and the targeted stratum stay beside them."""
from fractions import Fraction

import pytest

from sqlalchemy import select

from oversight.extensions import db
from oversight.models import SpotCheck
from oversight.services import reviews
from oversight.services.check_results import contract_results

from tests.estimates_support import Q3, TODAY, weighted_quarter


@pytest.fixture
def weighted(factory):
    return weighted_quarter(factory)


def by_key(review):
    """The review's indicators as stored (the JSON its typed figures write)."""
    return {item["key"]: item for item in review.figures.to_json()["indicators"]}


def test_the_kpi_scores_the_stratum_weighted_estimate_and_shows_the_raw_share_beside_it(weighted):
    contract, supervisor, _ = weighted
    review = reviews.score_contract_quarter(contract, Q3).review
    db.session.commit()
    items = by_key(review)
    spot = items["spot_check_pass"]
    # Raw: 6 + 3 of the 6 + 5 random and flagged checks passed: 9/11 = 0.8182 (the targeted 5 apart).
    assert (spot["numerator"], spot["denominator"]) == (9, 11)
    # Estimate: (75 × 6/6 + 20 × 3/5) / 95 = (75 + 12) / 95 = 87/95 = 0.915789…
    assert spot["estimate"]["exact"] == "87/95" and spot["value"] == "0.9158"
    assert spot["estimate"]["sample"] == {"numerator": 9, "denominator": 11}
    assert spot["estimate"]["targeted"] == {"numerator": 1, "denominator": 5}
    assert spot["estimate"]["unequal"] and spot["estimate"]["population"] == 95
    assert float(spot["estimate"]["low"]) < 87 / 95 < float(spot["estimate"]["high"]) <= 1
    # … read back typed: the exact fraction the score was computed on.
    assert review.figures.indicator("spot_check_pass").estimate.exact == Fraction(87, 95)
    assert review.figures.indicator("completion").estimate is None
    # No callbacks: satisfaction (15) and authenticity (10) spread over the other 75 points; 25 × 100/75 = 33.33.
    # Score 33.33 × (87/95 − 0.70) / 0.25 = 33.33 × 0.863158 = 28.769 → 28.77 (on 9/11 it would be 33.33 × 0.4727
    # = 15.76).
    assert spot["effective_weight"] == "33.33" and spot["score"] == "28.77"
    fields = items["field_accuracy"]
    # Raw fields: random 6 × 4 = 24 matched of 24; flagged 5 × 4 = 20 compared, 2 differing: (24 + 18)/44.
    assert (fields["numerator"], fields["denominator"]) == (42, 44)
    # Estimate: (75 × 4 + 20 × 18/5) / (75 × 4 + 20 × 4) = (300 + 72) / 380 = 372/380 = 93/95 = 0.978947
    assert fields["estimate"]["exact"] == "93/95" and fields["value"] == "0.9789"
    # The targeted records' fields: 5 × 4 = 20 compared, 4 differing.
    assert fields["estimate"]["targeted"] == {"numerator": 16, "denominator": 20}
    # 10 × 100/75 = 13.33: 13.33 × (93/95 − 0.85) / 0.13 = 13.33 × 0.991903 = 13.222 → 13.22
    assert fields["effective_weight"] == "13.33" and fields["score"] == "13.22"

    # A manual item re-totals from the stored figures: the estimate is read back, the scores do not move.
    reviews.add_manual_item(review, "1", "培训台账完整", supervisor)
    db.session.commit()
    assert by_key(review)["spot_check_pass"]["score"] == "28.77"
    assert by_key(review)["field_accuracy"]["score"] == "13.22"

    # The results page shows the same estimates the review scored.
    results = contract_results(contract.id, Q3, TODAY)
    assert results.estimates["spot_check_pass"].exact == Fraction(87, 95)
    assert results.estimates["field_accuracy"].exact == Fraction(93, 95)
    (lot,) = results.lots
    assert lot.estimate.exact == Fraction(87, 95)


def test_a_targeted_verdict_changed_after_the_draft_makes_it_stale_though_the_estimate_stays(weighted):
    # The targeted k/n is shown beside the estimate, so its checks are in the fingerprint.
    contract, _, spot = weighted
    review = reviews.score_contract_quarter(contract, Q3).review
    db.session.commit()
    assert not reviews.staleness(review).stale
    targeted_items = [item.id for item in spot.items if item.stratum == "targeted"]
    targeted = db.session.execute(select(SpotCheck).where(SpotCheck.draw_item_id.in_(targeted_items),
                                                          SpotCheck.passed.is_(False))).scalars().first()
    targeted.passed = True  # corrected: the 2nd of the 5 targeted records passed after all
    db.session.commit()
    found = reviews.staleness(review)
    assert found.stale and [change.key for change in found.changes] == ["spot_check_pass"]
    assert f"完成记录#{targeted.record_id}" in found.message
    reviews.recompute(review, TODAY)
    db.session.commit()
    estimate = review.figures.indicator("spot_check_pass").estimate
    assert (estimate.targeted.numerator, estimate.targeted.denominator) == (2, 5)
    assert estimate.exact == Fraction(87, 95) and by_key(review)["spot_check_pass"]["score"] == "28.77"
    assert not reviews.staleness(review).stale
