"""The pages keep a draft's author from settling or approving it, and say why."""
from datetime import date

from sqlalchemy import select

from oversight.extensions import db
from oversight.models import QuarterlyReview
from oversight.services import reviews

from tests.performance_support import build_quarter, figures_with_total


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_drafting_admin_sees_the_reason_instead_of_the_settle_and_approve_buttons(client_for, factory):
    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    build_quarter(contract, factory.user("supervisor"))
    drafter, other = factory.user("admin"), factory.user("admin")
    client = client_for(drafter)
    client.post("/reviews/score", {"quarter": "2025Q3", "contract_id": contract.id}, token_from="/reviews/")
    review = db.session.execute(select(QuarterlyReview)).scalar_one()
    assert review.computed_by_id == drafter.id
    reviews.publish(review, today=date(2025, 10, 8))
    reviews.comment(review, factory.user("contractor", contractor), "disagree", "有异议", date(2025, 10, 9))
    db.session.commit()
    url = f"/reviews/{review.id}"
    page = text(client.get(url))
    assert "本人计算的草稿不能由本人裁定或审定" in page and 'name="decision"' not in page
    refused = client.post(f"{url}/settle", {"decision": "自己裁定", "adjustment": ""}, token_from=url,
                          follow_redirects=True)
    assert "本人计算的草稿" in text(refused)
    db.session.expire_all()
    assert db.session.get(QuarterlyReview, review.id).status == "disputed"
    second = client_for(other)
    assert 'name="decision"' in text(second.get(url))
    second.post(f"{url}/settle", {"decision": "酌情维持", "adjustment": ""}, token_from=url)
    page = text(client.get(url))
    assert "审定并锁定" not in page and "本人计算的草稿" in page
    refused = client.post(f"{url}/approve", token_from=url, follow_redirects=True)
    db.session.expire_all()
    assert not db.session.get(QuarterlyReview, review.id).locked
    assert "审定并锁定" in text(second.get(url))


def test_evaluation_pages_take_each_step_and_show_payments_as_undecided_until_approved(client_for, factory):
    from oversight.models import AnnualEvaluation
    from oversight.services.schemes import ensure_default_scheme

    contractor = factory.contractor()
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    scheme = ensure_default_scheme()
    for number in range(1, 5):
        db.session.add(QuarterlyReview(contract_id=contract.id, quarter=f"2025Q{number}", scheme_id=scheme.id,
                                       status="approved", locked=True,
                                       figures=figures_with_total(f"2025Q{number}", 8550, 100), total_centi=8550, rating="-",
                                       completed_volume=100))
    db.session.commit()
    drafter_user, other_user = factory.user("admin"), factory.user("admin")
    contractor_user = factory.user("contractor", contractor)
    drafter, other, own = client_for(drafter_user), client_for(other_user), client_for(contractor_user)
    drafter.post("/evaluations/compute", {"contract_id": contract.id, "year": "2025"}, token_from="/evaluations/")
    evaluation = db.session.execute(select(AnnualEvaluation)).scalar_one()
    url = f"/evaluations/{evaluation.id}"
    assert own.get(url).status_code == 404
    assert url not in text(own.get("/evaluations/"))
    page = text(drafter.get(url))
    assert "未定" in page and "测算 324,000.00 元" in page
    assert own.post(f"{url}/publish", token_from="/evaluations/").status_code == 403
    drafter.post(f"{url}/publish", token_from=url)
    page = text(own.get(url))
    assert "对年度评价的意见" in page and "未定" in page
    assert url in text(own.get("/evaluations/"))
    own.post(f"{url}/comment", {"position": "disagree", "comment": "第三季度材料已补齐"}, token_from=url)
    page = text(drafter.get(url))
    assert "本人计算的草稿不能由本人裁定或审定" in page and 'name="decision"' not in page
    drafter.post(f"{url}/settle", {"decision": "自己裁定", "adjustment": ""}, token_from=url)
    db.session.expire_all()
    assert db.session.get(AnnualEvaluation, evaluation.id).status == "disputed"
    other.post(f"{url}/settle", {"decision": "维持评分", "adjustment": ""}, token_from=url)
    drafter.post(f"{url}/approve", token_from=url)
    db.session.expire_all()
    assert not db.session.get(AnnualEvaluation, evaluation.id).locked
    other.post(f"{url}/approve", token_from=url)
    db.session.expire_all()
    assert db.session.get(AnnualEvaluation, evaluation.id).locked
    page = text(own.get(url))
    assert "324,000.00 元" in page and "测算" not in page and "维持评分" in page
