"""Review, evaluation and scheme pages: each role's steps, visibility, locking through the routes, charts."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from oversight.clock import county_today
from oversight.extensions import db
from oversight.models import AnnualEvaluation, KpiScheme, PaymentRecord, QuarterlyReview
from oversight.services import callbacks, reviews
from oversight.services.schemes import ensure_default_scheme

from tests.performance_support import build_quarter, figures_with_total

PNG = b"\x89PNG\r\n\x1a\n"
TODAY = county_today()  # what the pages use


@pytest.fixture
def people(factory):
    contractor = factory.contractor()
    other = factory.contractor()
    return {
        "contract": factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31)),
        "other_contract": factory.contract(other, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31)),
        "admin": factory.user("admin"),
        "supervisor": factory.user("supervisor"),
        "contractor": factory.user("contractor", contractor),
        "other_contractor": factory.user("contractor", other),
        "auditor": factory.user("auditor"),
    }


def stored(review_id):
    db.session.expire_all()
    return db.session.get(QuarterlyReview, review_id)


def score_through_the_page(client, contract):
    response = client.post("/reviews/score", {"quarter": "2025Q3", "contract_id": contract.id}, token_from="/reviews/")
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.execute(select(QuarterlyReview).where(QuarterlyReview.contract_id == contract.id)).scalar_one()


def test_a_supervisor_scores_a_quarter_and_every_figure_links_to_its_records(client_for, people):
    data = build_quarter(people["contract"], people["supervisor"])
    client = client_for(people["supervisor"])
    review = score_through_the_page(client, people["contract"])
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "58.35" in page and "不合格" in page and "任务完成率" in page
    assert f"/reviews/{review.id}/indicators/completion?show=counted" in page
    records = client.get(f"/reviews/{review.id}/indicators/completion?show=not_counted").get_data(as_text=True)
    open_ones = [a for a in data.assignments if a.status == "assigned"]
    assert all(a.number in records for a in open_ones) and data.assignments[0].number not in records
    assert "共 5 条" in records
    checks = client.get(f"/reviews/{review.id}/indicators/spot_check_pass").get_data(as_text=True)
    assert "共 20 条" in checks and "不合格" in checks
    callbacks = client.get(f"/reviews/{review.id}/indicators/satisfaction").get_data(as_text=True)
    assert "非常不满意" in callbacks and data.callbacks[0].subject.name in callbacks
    assert client.get(f"/reviews/{review.id}/indicators/nope").status_code == 404


def test_manual_items_through_the_page(client_for, people):
    build_quarter(people["contract"], people["supervisor"])
    client = client_for(people["supervisor"])
    review = score_through_the_page(client, people["contract"])
    url = f"/reviews/{review.id}"
    client.post(f"{url}/items", {"points": "2.5", "reason": "培训台账完整"}, token_from=url)
    assert str(stored(review.id).figures.total) == "60.85"
    refused = client.post(f"{url}/items", {"points": "1", "reason": ""}, token_from=url, follow_redirects=True)
    assert "请写明理由" in refused.get_data(as_text=True)
    assert str(stored(review.id).figures.total) == "60.85"


def test_contractors_see_only_their_own_published_reviews(client_for, people):
    build_quarter(people["contract"], people["supervisor"])
    review = score_through_the_page(client_for(people["supervisor"]), people["contract"])
    mine, theirs = client_for(people["contractor"]), client_for(people["other_contractor"])
    assert mine.get(f"/reviews/{review.id}").status_code == 404  # a draft is not shown
    assert "58.35" not in mine.get("/reviews/").get_data(as_text=True)
    reviews.publish(stored(review.id), TODAY)
    db.session.commit()
    assert mine.get(f"/reviews/{review.id}").status_code == 200
    assert mine.get(f"/reviews/{review.id}/indicators/completion").status_code == 200
    assert mine.get(f"/reviews/{review.id}/breakdown.png").status_code == 200
    callbacks = mine.get(f"/reviews/{review.id}/indicators/satisfaction").get_data(as_text=True)
    assert "服务对象" not in callbacks  # who answered what is not the contractor's to know
    for url in (f"/reviews/{review.id}", f"/reviews/{review.id}/indicators/completion",
                f"/reviews/{review.id}/breakdown.png", f"/reviews/contracts/{people['contract'].id}/trend.png"):
        assert theirs.get(url).status_code == 404
    assert theirs.post(f"/reviews/{review.id}/comment", {"position": "agree"}).status_code == 404


def test_the_whole_workflow_through_the_pages(client_for, people):
    build_quarter(people["contract"], people["supervisor"])
    supervisor, admin, contractor = (client_for(people[k]) for k in ("supervisor", "admin", "contractor"))
    review = score_through_the_page(supervisor, people["contract"])
    url = f"/reviews/{review.id}"
    assert supervisor.post(f"{url}/approve", token_from=url).status_code == 403
    supervisor.post(f"{url}/publish", token_from=url)
    assert stored(review.id).status == "published"
    assert stored(review.id).comment_deadline == TODAY + timedelta(days=14)
    page = contractor.get(url).get_data(as_text=True)
    assert "对考核结果的意见" in page
    contractor.post(f"{url}/comment", {"position": "disagree", "comment": "5户对象外出务工，无法按期入户"}, token_from=url)
    assert stored(review.id).status == "disputed"
    refused = admin.post(f"{url}/approve", token_from=url, follow_redirects=True).get_data(as_text=True)
    assert "须先由管理员裁定" in refused
    admin.post(f"{url}/settle", {"decision": "外出证明属实，酌情加分", "adjustment": "1"}, token_from=url)
    assert stored(review.id).status == "settled" and str(stored(review.id).figures.total) == "59.35"
    admin.post(f"{url}/approve", token_from=url)
    assert stored(review.id).locked
    page = contractor.get(url).get_data(as_text=True)
    assert "外出证明属实" in page and "已审定锁定" in page


def test_no_route_changes_a_locked_review(client_for, people):
    build_quarter(people["contract"], people["supervisor"])
    review = score_through_the_page(client_for(people["supervisor"]), people["contract"])
    locked = stored(review.id)
    reviews.publish(locked, date(2025, 10, 1), window_days=1)
    reviews.approve(locked, people["admin"], date(2025, 10, 3))
    db.session.commit()
    before = (locked.figures, locked.total_centi, locked.status)
    supervisor, admin = client_for(people["supervisor"]), client_for(people["admin"])
    url = f"/reviews/{review.id}"
    for client, action, data in (
        (supervisor, "items", {"points": "5", "reason": "再加分"}),
        (supervisor, "refresh", {}),
        (supervisor, "publish", {}),
        (admin, "settle", {"decision": "改判", "adjustment": "5"}),
        (admin, "approve", {}),
    ):
        response = client.post(f"{url}/{action}", data, token_from=url, follow_redirects=True)
        assert "已审定锁定" in response.get_data(as_text=True)
    assert client_for(people["contractor"]).post(f"{url}/comment", {"position": "disagree", "comment": "x"},
                                                 token_from=url).status_code == 302
    after = stored(review.id)
    assert (after.figures, after.total_centi, after.status) == before
    corrected = supervisor.post(f"{url}/correct", {"reason": "补录5条记录"}, token_from=url)
    new = reviews.latest_revision(people["contract"].id, "2025Q3")
    assert corrected.headers["Location"].endswith(f"/reviews/{new.id}") and new.revision == 2
    assert stored(review.id).figures == before[0]


def test_auditors_read_but_change_nothing(client_for, people):
    build_quarter(people["contract"], people["supervisor"])
    review = score_through_the_page(client_for(people["supervisor"]), people["contract"])
    auditor = client_for(people["auditor"])
    assert auditor.get(f"/reviews/{review.id}").status_code == 200
    assert auditor.get("/reviews/compare?quarter=2025Q3").status_code == 200
    assert auditor.post(f"/reviews/{review.id}/publish", token_from=f"/reviews/{review.id}").status_code == 403
    assert stored(review.id).status == "draft"


def test_the_contract_page_warns_after_two_quarters_under_80(client_for, people):
    scheme = ensure_default_scheme()
    for quarter, total in (("2025Q2", 7950), ("2025Q3", 7800)):
        db.session.add(QuarterlyReview(contract_id=people["contract"].id, quarter=quarter, scheme_id=scheme.id,
                                       status="approved", locked=True, figures=figures_with_total(quarter, total),
                                       total_centi=total, rating="合格"))
    db.session.commit()
    for user in (people["supervisor"], people["contractor"]):
        page = client_for(user).get(f"/contracts/{people['contract'].id}").get_data(as_text=True)
        assert "连续两个季度考核得分低于80分" in page
    other = client_for(people["supervisor"]).get(f"/contracts/{people['other_contract'].id}").get_data(as_text=True)
    assert "连续两个季度" not in other


def test_charts_are_png(client_for, people):
    build_quarter(people["contract"], people["supervisor"])
    client = client_for(people["supervisor"])
    review = score_through_the_page(client, people["contract"])
    for url in (f"/reviews/{review.id}/breakdown.png", f"/reviews/{review.id}/rates.png",
                f"/reviews/contracts/{people['contract'].id}/trend.png", "/reviews/compare.png?quarter=2025Q3"):
        response = client.get(url)
        assert response.status_code == 200 and response.data.startswith(PNG), url


def approve_year(contract):
    scheme = ensure_default_scheme()
    for number, total, volume in ((1, 9200, 100), (2, 8500, 300), (3, 7800, 200), (4, 8800, 400)):
        db.session.add(QuarterlyReview(contract_id=contract.id, quarter=f"2025Q{number}", scheme_id=scheme.id,
                                       status="approved", locked=True, figures=figures_with_total(f"2025Q{number}", total, volume), total_centi=total,
                                       rating="-", completed_volume=volume))
    db.session.commit()


def test_the_annual_evaluation_through_the_pages(client_for, people):
    contract = people["contract"]
    approve_year(contract)
    admin, supervisor = client_for(people["admin"]), client_for(people["supervisor"])
    response = supervisor.post("/evaluations/compute", {"contract_id": contract.id, "year": "2025"},
                               token_from="/evaluations/")
    evaluation = db.session.execute(select(AnnualEvaluation)).scalar_one()
    url = f"/evaluations/{evaluation.id}"
    assert response.headers["Location"].endswith(url)
    admin.post(f"{url}/payments", {"paid_on": "2025-07-01", "amount_fen": "100,000.00", "kind": "performance",
                                   "year": "2025", "note": "预付"}, token_from=url)
    page = admin.get(url).get_data(as_text=True)
    # 1,200,000 × 30 % = 360,000 linked; 良好 (85.50) pays 90 % = 324,000; 100,000 advanced leaves 224,000
    assert "85.50" in page and "324,000.00" in page and "224,000.00" in page and "1,200,000.00" in page
    assert client_for(people["contractor"]).get(url).status_code == 404  # a draft is the bureau's
    admin.post(f"{url}/items", {"points": "5", "reason": "获评市级优秀社会工作服务机构"}, token_from=url)
    supervisor.post(f"{url}/publish", token_from=url)
    client_for(people["contractor"]).post(f"{url}/comment", {"position": "agree", "comment": ""}, token_from=url)
    admin.post(f"{url}/approve", token_from=url)
    db.session.expire_all()
    evaluation = db.session.get(AnnualEvaluation, evaluation.id)
    assert evaluation.locked and evaluation.rating == "优秀" and evaluation.payable_fen == 36_000_000
    assert client_for(people["contractor"]).get(url).status_code == 200
    assert client_for(people["other_contractor"]).get(url).status_code == 404
    refused = admin.post(f"{url}/items", {"points": "1", "reason": "再加"}, token_from=url, follow_redirects=True)
    assert "已审定锁定" in refused.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(PaymentRecord)).scalar() == 1


def test_an_admin_makes_a_new_scheme_version_and_a_used_one_stays(client_for, people):
    admin = client_for(people["admin"])
    assert "默认考核方案" in admin.get("/schemes/").get_data(as_text=True)
    base = ensure_default_scheme()
    form = admin.get(f"/schemes/new?base={base.id}").get_data(as_text=True)
    assert 'value="25.00"' in form or 'value="25"' in form
    data = {"code": "default", "name": "2026年考核方案"}
    weights = {"completion": "30", "timeliness": "10", "spot_check_pass": "25", "field_accuracy": "5",
               "satisfaction": "15", "authenticity": "10", "rectification": "5"}
    for i, (key, weight) in enumerate(weights.items()):
        data |= {f"indicators-{i}-key": key, f"indicators-{i}-included": "y", f"indicators-{i}-name": key,
                 f"indicators-{i}-weight": weight, f"indicators-{i}-full_at": "95", f"indicators-{i}-zero_at": "70"}
    for i, (rating, minimum, payout) in enumerate((("优秀", "90", "100"), ("良好", "80", "90"), ("合格", "60", "70"),
                                                   ("不合格", "0", "0"))):
        data |= {f"bands-{i}-rating": rating, f"bands-{i}-minimum": minimum, f"bands-{i}-payout": payout}
    bad = admin.post("/schemes/new", {**data, "indicators-0-weight": "35"}, token_from="/schemes/new")
    assert "各指标权重合计应为100，实际为105" in bad.get_data(as_text=True)
    assert admin.post("/schemes/new", data, token_from="/schemes/new").status_code == 302
    new = db.session.execute(select(KpiScheme).where(KpiScheme.version == 2)).scalar_one()
    assert new.definition["payout"]["合格"] == "0.7" and new.definition["indicators"][0]["weight"] == "30"
    assert db.session.get(KpiScheme, base.id).definition["indicators"][0]["weight"] == "25"
    assert client_for(people["supervisor"]).get("/schemes/new").status_code == 403


def test_stale_figures_are_refused_on_the_page_with_what_changed_and_recomputed(client_for, people):
    data = build_quarter(people["contract"], people["supervisor"])
    pending = data.callbacks[10]
    pending.status = "pending"
    db.session.commit()
    client = client_for(people["supervisor"])
    review = score_through_the_page(client, people["contract"])
    url = f"/reviews/{review.id}"
    assert "记录已变化" not in client.get(url).get_data(as_text=True)
    # The subject is reached after the draft was computed and says the visit never happened.
    callbacks.record_attempt(pending, callbacks.CONNECTED, people["supervisor"])
    callbacks.record_answers(pending, confirmed=False, satisfaction=2, attitude=None, complaint=None,
                             operator=people["supervisor"])
    db.session.commit()

    page = client.post(f"{url}/publish", token_from=url, follow_redirects=True).get_data(as_text=True)
    assert "记录已变化，请重新计算" in page
    assert f"服务真实率：新增1条（完成记录#{pending.record_id}）" in page
    assert 'id="stale-figures"' in page and f"/reviews/{review.id}/refresh" in page
    assert stored(review.id).status == "draft" and str(stored(review.id).figures.total) == "58.35"
    # The contractor sees no draft; the auditor sees the notice but no button.
    auditor_page = client_for(people["auditor"]).get(url).get_data(as_text=True)
    assert "记录已变化，请重新计算" in auditor_page and f"/reviews/{review.id}/refresh" not in auditor_page

    page = client.post(f"{url}/refresh", token_from=url, follow_redirects=True).get_data(as_text=True)
    assert "已按最新记录重新计算" in page and 'id="stale-figures"' not in page
    assert str(stored(review.id).figures.total) == "53.99"
    client.post(f"{url}/publish", token_from=url)
    assert stored(review.id).status == "published"


def test_the_lock_button_is_disabled_with_its_reason_when_the_evaluation_cannot_be_approved(client_for, people):
    contract = people["contract"]
    approve_year(contract)
    admin, supervisor = client_for(people["admin"]), client_for(people["supervisor"])
    supervisor.post("/evaluations/compute", {"contract_id": contract.id, "year": "2025"}, token_from="/evaluations/")
    evaluation = db.session.execute(select(AnnualEvaluation)).scalar_one()
    url = f"/evaluations/{evaluation.id}"
    approve_action = f'action="{url}/approve"'
    page = admin.get(url).get_data(as_text=True)
    assert approve_action not in page and "disabled" in page and "不能审定：草稿须先发布给承接方确认" in page
    supervisor.post(f"{url}/publish", token_from=url)
    client_for(people["contractor"]).post(f"{url}/comment", {"position": "agree", "comment": ""}, token_from=url)
    page = admin.get(url).get_data(as_text=True)
    assert approve_action in page and "不能审定" not in page
    # A payment recorded after publication: the figures are stale, and the page says so before any click.
    admin.post(f"{url}/payments", {"paid_on": "2025-07-01", "amount_fen": "1,000.00", "kind": "performance",
                                   "year": "2025", "note": ""}, token_from=url)
    page = admin.get(url).get_data(as_text=True)
    reason = re.search(r'id="approve-blocker">不能审定：([^<]+)<', page)
    assert approve_action not in page and reason and "付款" in reason.group(1)
    refused = admin.post(f"{url}/approve", token_from=url, follow_redirects=True).get_data(as_text=True)
    assert reason.group(1) in refused
    db.session.expire_all()
    assert not db.session.get(AnnualEvaluation, evaluation.id).locked
