"""Review, results, draw pages and the review sheet show the weighted estimate, its interval, the raw k/n and the
targeted figure apart, in Chinese."""
import io

import openpyxl
import pytest

from oversight.extensions import db
from oversight.services import reviews

from tests.estimates_support import Q3, weighted_quarter

LABELS = ("加权估计", "95% 置信区间", "样本 k/n", "定向抽查（不计入估计）")


@pytest.fixture
def weighted(factory):
    contract, supervisor, spot = weighted_quarter(factory)
    review = reviews.score_contract_quarter(contract, Q3).review
    db.session.commit()
    return contract, supervisor, spot, review


def test_the_review_page_shows_the_estimate_beside_the_raw_share(client_for, weighted):
    contract, supervisor, _, review = weighted
    page = client_for(supervisor).get(f"/reviews/{review.id}").get_data(as_text=True)
    section = page[page.index('id="review-estimates"'):]
    assert all(label in section for label in LABELS)
    # 87/95 = 91.6 % weighted, 9/11 = 81.8 % raw, targeted 1/5 = 20.0 %; fields 93/95 = 97.9 %, 42/44, 16/20.
    assert "91.6%" in section and "9/11（81.8%）" in section and "1/5（20.0%）" in section
    assert "97.9%" in section and "42/44（95.5%）" in section and "16/20（80.0%）" in section
    # The indicator table's value is the estimate: 91.58 %.
    assert "91.58%" in page


def test_the_results_and_draw_pages_show_the_estimate(client_for, weighted):
    contract, supervisor, spot, _ = weighted
    client = client_for(supervisor)
    results = client.get(f"/check-results/{contract.id}/{Q3}").get_data(as_text=True)
    section = results[results.index('id="results-estimates"'):]
    assert all(label in section for label in LABELS) and "91.6%" in section and "9/11（81.8%）" in section
    lots = results[results.index('id="lot-table"'):]
    assert "91.6%" in lots and "定向抽查（不计入估计）1/5" in lots
    draw_page = client.get(f"/draws/{spot.id}").get_data(as_text=True)
    section = draw_page[draw_page.index('id="draw-estimates"'):]
    assert all(label in section for label in LABELS) and "91.6%" in section and "1/5（20.0%）" in section


def test_the_review_sheet_lists_the_estimates(client_for, weighted):
    _, supervisor, _, review = weighted
    response = client_for(supervisor).get(f"/reviews/{review.id}/sheet.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["季度考核表"]
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]
    assert "抽查指标的加权估计（计入考核的指标值）" in cells and "定向抽查（不计入估计）" in cells
    assert "9/11（81.8%）" in cells and "1/5（20.0%）" in cells
    assert pytest.approx(0.915789, abs=1e-6) in cells  # 87/95, stored as a number formatted as a percentage
