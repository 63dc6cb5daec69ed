"""移动端记录占比: a KPI input a scheme may weight — the share of the quarter's completed
assignments whose visit was recorded in the app. Schemes that do not weight it score, and
fingerprint, exactly as before; one that does counts it and goes stale when it changes."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update

from oversight.domain.periods import Quarter
from oversight.domain.scoring import DEFAULT_SCHEME, OPTIONAL_INDICATORS, Indicator
from oversight.extensions import db
from oversight.models import CompletionRecord
from oversight.services import reviews
from oversight.services.schemes import create_version, use_scheme

Q3 = Quarter(2025, 3)


@pytest.fixture
def quarter(factory):
    """A contract with five assignments due in 2025Q3: four completed (three by app visits, one
    from a log file), one still open."""
    contract = factory.contract(factory.contractor(), term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    records = []
    for n, source in enumerate(("app", "app", "upload", "app")):
        assignment = factory.assignment(contract, due_date=date(2025, 9, 30), status="completed")
        assignment.completed_at = datetime(2025, 8, 1 + n, 3)
        records.append(factory.record(assignment, service_date=date(2025, 8, 1 + n), source=source))
    factory.assignment(contract, due_date=date(2025, 9, 30))
    db.session.commit()
    return contract, records


def _app_scheme(user):
    weights = {"completion": Decimal(20)}
    indicators = [Indicator(i.key, i.name, weights.get(i.key, i.weight), i.full_at, i.zero_at, i.full_when_empty)
                  for i in DEFAULT_SCHEME.indicators] + list(OPTIONAL_INDICATORS)
    return create_version("app", "含移动端记录占比的方案", indicators, DEFAULT_SCHEME.bands,
                          {"优秀": Decimal(1), "良好": Decimal("0.9"), "合格": Decimal("0.7"), "不合格": Decimal(0)}, user)


def test_a_scheme_without_it_scores_and_fingerprints_as_before(factory, quarter):
    contract, records = quarter
    review = reviews.score_contract_quarter(contract, Q3).review
    db.session.commit()
    assert "app_share" not in review.figures.keys
    assert "app_share" not in review.evidence_fingerprint["sources"]
    figures, total, digest = review.figures.to_json(), review.total_centi, review.evidence_sha256
    # where the visits were recorded changes nothing for it
    db.session.execute(update(CompletionRecord).values(source="upload"))
    db.session.commit()
    assert not reviews.staleness(review).stale
    again = reviews.score_contract_quarter(contract, Q3).review
    assert (again.figures.to_json(), again.total_centi, again.evidence_sha256) == (figures, total, digest)


def test_a_scheme_weighting_it_counts_app_visits_and_goes_stale_when_one_changes(factory, quarter):
    contract, records = quarter
    scheme = _app_scheme(factory.user("admin"))
    use_scheme(contract, scheme.code)
    review = reviews.score_contract_quarter(contract, Q3).review
    db.session.commit()
    item = review.figures.indicator("app_share")
    assert (item.name, item.numerator, item.denominator) == ("移动端记录占比", 3, 4)
    assert sorted(item.counted_ids) == sorted(r.assignment_id for r in records if r.source == "app")
    assert sorted(item.record_ids) == sorted(r.assignment_id for r in records)
    # 3/4 = 75 %: (0.75 − 0.50) / (0.90 − 0.50) = 0.625 of its weight; without checks only completion
    # (20), timeliness (10), rectification (5, full when empty) and it (5) count: 5/40 of 100 = 12.50
    assert (item.value, item.weight, item.score) == (Decimal("0.7500"), Decimal(5), Decimal("7.81"))
    assert "app_share" in review.evidence_fingerprint["sources"]
    records[2].source = "app"
    db.session.commit()
    stale = reviews.staleness(review)
    assert stale.stale and any(change.key == "app_share" for change in stale.changes)


def test_the_scheme_form_offers_it_unticked(client_for, factory):
    admin = client_for(factory.user("admin"))
    page = admin.get("/schemes/new").get_data(as_text=True)
    assert 'value="app_share"' in page and "移动端记录占比" in page
