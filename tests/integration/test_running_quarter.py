"""Scoring a quarter before it ends is a preview: only what is due by today counts, nothing is stored,
nothing can be published."""
import json
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import QuarterlyReview
from oversight.services import reviews
from oversight.services.reviews import PREVIEW_LABEL, ReviewError
from oversight.services.schemes import ensure_default_scheme

from tests.performance_support import build_quarter, figures_with_total

Q3 = Quarter(2025, 3)
MID_QUARTER = date(2025, 8, 15)


@pytest.fixture
def contract(factory):
    return factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))


def running(factory, contract):
    """10 assignments due on 20 July, all completed on time; 30 due on 10 September, not yet done."""
    for _ in range(10):
        factory.assignment(contract, due_date=date(2025, 7, 20), status="completed").completed_at = datetime(2025, 7, 18)
    for _ in range(30):
        factory.assignment(contract, due_date=date(2025, 9, 10), status="assigned")
    db.session.commit()


def stored_reviews():
    return db.session.execute(select(func.count()).select_from(QuarterlyReview)).scalar_one()


def test_not_yet_due_assignments_are_no_failures_in_the_preview(factory, contract):
    running(factory, contract)
    outcome = reviews.score_contract_quarter(contract, Q3, MID_QUARTER)
    db.session.commit()
    assert (outcome.action, outcome.review, outcome.reason) == ("preview", None, PREVIEW_LABEL)
    figures = outcome.preview.to_json()  # typed figures, as a review would store them
    items = {item["key"]: item for item in figures["indicators"]}
    # Due by 15 August: the 10 of 20 July, all done on time: 10/10 and 10/10. The 30 due in September are not
    # counted. Completion 25 and timeliness 10 plus rectification 5 (no notice due: full marks) carry all 100.
    assert (items["completion"]["numerator"], items["completion"]["denominator"]) == (10, 10)
    assert (items["timeliness"]["numerator"], items["timeliness"]["denominator"]) == (10, 10)
    assert figures["total"] == "100" and figures["rating"] == "优秀"
    assert figures["preview"] == {"label": PREVIEW_LABEL, "due_by": "2025-08-15"}
    assert stored_reviews() == 0
    # Once the quarter is over the September ones count: 10/40 = 0.25 completion, below the zero line.
    after = reviews.score_contract_quarter(contract, Q3, date(2025, 10, 2))
    db.session.commit()
    assert after.action == "created" and after.review.rating == "不合格"
    assert {i["key"]: i for i in after.review.figures.to_json()["indicators"]}["completion"]["denominator"] == 40


def test_a_preview_leaves_notices_not_yet_due_out(factory, contract):
    build_quarter(contract, factory.user("supervisor"))
    # On 20 August the 50 assignments due on 10 August count; the three notices, due on 30 August, do not.
    outcome = reviews.score_contract_quarter(contract, Q3, date(2025, 8, 20))
    preview = outcome.preview.to_json()
    items = {item["key"]: item for item in preview["indicators"]}
    assert items["rectification"]["denominator"] == 0 and items["rectification"]["score"] == "5.00"
    # 13.89 + 7.56 + 20.00 + 9.23 + 6.00 + 0.00 + 5.00 = 61.68 (the finished quarter: 58.35 with 2/3 notices)
    assert preview["total"] == "61.68"


def test_nothing_of_a_running_quarter_can_be_published(factory, contract):
    running(factory, contract)
    # A draft of the running quarter stored by an earlier version of the scoring stays as it was …
    draft = QuarterlyReview(contract_id=contract.id, quarter=str(Q3), scheme_id=ensure_default_scheme().id,
                            status="draft", figures=figures_with_total(str(Q3), 3750), total_centi=3750, rating="不合格")
    db.session.add(draft)
    db.session.commit()
    outcomes = reviews.score_quarter_reviews(Q3, today=MID_QUARTER)
    db.session.commit()
    assert [o.action for o in outcomes] == ["preview"] and outcomes[0].review is None
    db.session.refresh(draft)
    assert draft.total_centi == 3750 and stored_reviews() == 1
    # … and cannot be published before the quarter ends.
    with pytest.raises(ReviewError, match="尚未结束"):
        reviews.publish(draft, today=MID_QUARTER)
    assert draft.status == "draft"


def test_the_command_prints_the_labelled_preview_and_stores_nothing(app, factory, contract, monkeypatch):
    running(factory, contract)
    monkeypatch.setattr("oversight.commands.performance.county_today", lambda: MID_QUARTER)
    result = app.test_cli_runner().invoke(args=["score-quarter", "2025Q3"])
    assert result.exit_code == 0, result.output
    assert PREVIEW_LABEL in result.output and "100 分（优秀）" in result.output and "不合格" not in result.output
    as_json = json.loads(app.test_cli_runner().invoke(args=["score-quarter", "2025Q3", "--json"]).output)
    assert as_json["preview"] is True and as_json["label"] == PREVIEW_LABEL and as_json["reviews"] == []
    [preview] = as_json["previews"]
    assert (preview["contract"], preview["total"], preview["rating"], preview["due_by"]) == (
        contract.code, "100", "优秀", "2025-08-15")
    assert stored_reviews() == 0
