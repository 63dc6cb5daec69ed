"""The page action on a running quarter shows a labelled preview and stores nothing."""
from datetime import date, datetime

from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import QuarterlyReview
from oversight.services.reviews import PREVIEW_LABEL


def test_scoring_the_running_quarter_from_the_page_shows_a_labelled_preview(client_for, factory, monkeypatch):
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    done = factory.assignment(contract, due_date=date(2025, 7, 20), status="completed")
    done.completed_at = datetime(2025, 7, 18)
    for _ in range(3):
        factory.assignment(contract, due_date=date(2025, 9, 10), status="assigned")  # not yet due
    db.session.commit()
    monkeypatch.setattr("oversight.web.reviews.routes.county_today", lambda: date(2025, 8, 15))
    client = client_for(factory.user("supervisor"))
    response = client.post("/reviews/score", {"quarter": "2025Q3", "contract_id": contract.id},
                           token_from="/reviews/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="preview-label">{PREVIEW_LABEL}<' in page
    assert "只计截至 2025-08-15（含）已到期的任务" in page
    # 1 due, 1 done: 100 % completion, full marks; the three due in September are no failures.
    assert "预览得分 100" in page and "不合格" not in page
    assert db.session.execute(select(func.count()).select_from(QuarterlyReview)).scalar_one() == 0
