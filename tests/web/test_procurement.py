"""The procurement pages: a 竞争性磋商 from set-up to award through the forms, who may see and
do what, and refused input that names what is wrong and changes nothing."""
import re
from datetime import date

from sqlalchemy import func, select

from oversight.domain.vocabulary import TenderStatus
from oversight.extensions import db
from oversight.models import Contract, Contractor, ProcurementProject, TenderBid, TenderScore

from tests.attachment_support import PDF
from tests.factories import valid_credit_code

PROJECT = {
    "code": "GXCS-2025-03", "title": "2025年自理能力评估服务", "budget_line": "特困人员供养服务（2025年预算）",
    "budget_fen": "300000", "procurement_method": "竞争性磋商", "price_points": "30", "term_start": "2025-01-01",
    "term_end": "2025-12-31", "performance_share": "30", "self_care_assessment_target": "400",
    "household_survey_target": "0", "care_visit_target": "0", "care_visits_per_month": "2",
}


def _text(response) -> str:
    return response.get_data(as_text=True)


def _project() -> ProcurementProject:
    return db.session.execute(select(ProcurementProject)).scalar_one()


def _fresh(project_id):
    db.session.expire_all()
    return db.session.get(ProcurementProject, project_id)


def test_a_consultation_runs_from_set_up_to_award_through_the_pages(factory, client_for):
    registered = factory.contractor("赣县区仁和社会工作服务中心")
    supervisor, admin = client_for(factory.user("supervisor")), client_for(factory.user("admin"))

    response = supervisor.post("/procurement/new", PROJECT, token_from="/procurement/new")
    assert response.status_code == 303
    project = _project()
    page = f"/procurement/{project.id}"
    for name, points, technical in (("评估方案", "50", "y"), ("人员配备", "20", "")):
        data = {"name": name, "max_points": points, **({"technical": technical} if technical else {})}
        assert supervisor.post(f"{page}/items", data, token_from=page).status_code == 303
    for name in ("专家甲", "专家乙"):
        supervisor.post(f"{page}/evaluators", {"name": name}, token_from=page)
    assert supervisor.post(f"{page}/announce", {"day": "2024-11-01"}, token_from=page).status_code == 303
    assert _fresh(project.id).status == TenderStatus.ANNOUNCED

    supervisor.post(f"{page}/bids", {"contractor_id": str(registered.id), "price_fen": "285000.00"}, token_from=page)
    new = {"contractor_id": "0", "name": "赣县区康宁社会工作服务社", "credit_code": valid_credit_code(7001),
           "contact_person": "刘洋", "contact_phone": "13907970021", "price_fen": "270000"}
    supervisor.post(f"{page}/bids", new, token_from=page)
    newcomer = db.session.execute(select(Contractor).where(Contractor.name == "赣县区康宁社会工作服务社")).scalar_one()
    assert _text(supervisor.get(page)).count("有效") >= 2
    supervisor.post(f"{page}/documents", {"attachments": [(__import__("io").BytesIO(PDF), "磋商文件.pdf")]},
                    token_from=page, content_type="multipart/form-data")
    assert "磋商文件.pdf" in _text(supervisor.get(page))
    assert supervisor.post(f"{page}/open", {"day": "2024-11-20"}, token_from=page).status_code == 303

    project = _fresh(project.id)
    bids = {bid.contractor_id: bid for bid in project.bids}
    items = {item.name: item for item in project.items}
    # 仁和: price (270000/285000)×30 = 28.421…, 方案 (45+44)/2 = 44.5, 人员 (18+18)/2 = 18 → 90.92
    # 康宁: price 30, 方案 (40+41)/2 = 40.5, 人员 (17+16)/2 = 16.5 → 87.00
    sheets = {"专家甲": {(registered.id, "评估方案"): "45", (registered.id, "人员配备"): "18",
                      (newcomer.id, "评估方案"): "40", (newcomer.id, "人员配备"): "17"},
              "专家乙": {(registered.id, "评估方案"): "44", (registered.id, "人员配备"): "18",
                      (newcomer.id, "评估方案"): "41", (newcomer.id, "人员配备"): "16"}}
    for member in project.evaluators:
        url = f"{page}/sheets/{member.id}"
        data = {f"s-{bids[c].id}-{items[i].id}": points for (c, i), points in sheets[member.name].items()}
        assert supervisor.post(url, data, token_from=url).status_code == 303

    ranking = _text(supervisor.get(f"{page}/ranking"))
    assert re.search(r"赣县区仁和社会工作服务中心.*?推荐中标.*?28\.42.*?44\.50.*?18\.00.*?90\.92", ranking, re.S)
    assert "87.00" in ranking
    assert supervisor.post(f"{page}/evaluate", {}, token_from=f"{page}/ranking").status_code == 303
    assert _fresh(project.id).status == TenderStatus.EVALUATED
    # A supervisor evaluates; only an admin awards.
    assert supervisor.post(f"{page}/award", {"contract_code": "X", "contract_title": "X", "day": "2024-12-01"},
                           token_from=f"{page}/ranking").status_code == 403
    response = admin.post(f"{page}/award", {"contract_code": "GX-HT-2025-03", "contract_title": PROJECT["title"],
                                            "day": "2024-12-01"}, token_from=f"{page}/ranking")
    assert response.status_code == 303
    contract = db.session.execute(select(Contract).where(Contract.code == "GX-HT-2025-03")).scalar_one()
    assert response.headers["Location"].endswith(f"/contracts/{contract.id}")
    assert "采购项目 <a href=\"/procurement/" in _text(admin.get(f"/contracts/{contract.id}"))
    assert (contract.contractor_id, contract.amount_fen, contract.procurement_method) == (registered.id, 28_500_000, "竞争性磋商")
    assert [(line.service_type, line.annual_target) for line in contract.service_lines] == [("self_care_assessment", 400)]
    assert _fresh(project.id).awarded_on == date(2024, 12, 1)


def _opened(factory):
    from tests.integration.test_procurement import new_project
    from oversight.services import procurement as svc

    project = new_project(procurement_method="竞争性磋商")
    svc.announce(project, date(2024, 11, 1))
    a, b = factory.contractor(), factory.contractor()
    svc.record_bid(project, a, price_fen=100_000)
    svc.record_bid(project, b, price_fen=120_000)
    svc.open_bids(project, date(2024, 11, 20))
    db.session.commit()
    return project


def test_no_contractor_sees_a_project_or_its_bids_and_auditors_only_read(factory, client_for):
    project = _opened(factory)
    bidder = db.session.get(Contractor, project.bids[0].contractor_id)
    contractor = client_for(factory.user("contractor", bidder))
    for url in ("/procurement/", f"/procurement/{project.id}", f"/procurement/{project.id}/ranking",
                f"/procurement/{project.id}/sheets/{project.evaluators[0].id}"):
        assert contractor.get(url).status_code == 403
    assert "采购项目" not in _text(contractor.get("/dashboard"))
    auditor = client_for(factory.user("auditor"))
    assert auditor.get(f"/procurement/{project.id}").status_code == 200
    sheet = f"/procurement/{project.id}/sheets/{project.evaluators[0].id}"
    assert 'name="s-' not in _text(auditor.get(sheet))
    assert auditor.post(sheet, {}, token_from=sheet).status_code == 403


def test_a_score_beyond_the_items_points_is_refused_naming_the_bidder_and_item(factory, client_for):
    project = _opened(factory)
    supervisor = client_for(factory.user("supervisor"))
    member, item, bid = project.evaluators[0], project.items[2], project.bids[0]
    url = f"/procurement/{project.id}/sheets/{member.id}"
    response = supervisor.post(url, {f"s-{bid.id}-{item.id}": "12", f"s-{bid.id}-{project.items[0].id}": "30"},
                               token_from=url, follow_redirects=True)
    assert f"{bid.contractor.name}的“业绩与信誉”打 12 分，应在 0 至 10 分之间" in _text(response)
    assert db.session.execute(select(func.count()).select_from(TenderScore)).scalar() == 0
    response = supervisor.post(url, {f"s-{bid.id}-{item.id}": "九"}, token_from=url, follow_redirects=True)
    assert "“九”不是分数" in _text(response)


def test_a_bid_without_a_bidder_is_refused_saying_what_to_fill_in(factory, client_for):
    from tests.integration.test_procurement import new_project
    from oversight.services import procurement as svc

    project = new_project()
    svc.announce(project, date(2024, 11, 1))
    db.session.commit()
    supervisor = client_for(factory.user("supervisor"))
    page = f"/procurement/{project.id}"
    response = supervisor.post(f"{page}/bids", {"contractor_id": "0", "name": "新机构", "price_fen": "100"},
                               token_from=page, follow_redirects=True)
    assert "选择已登记的投标人，或填写新机构的新机构统一社会信用代码、新机构联系人、新机构联系电话" in _text(response)
    assert db.session.execute(select(func.count()).select_from(TenderBid)).scalar() == 0


def test_a_past_performance_item_is_prefilled_from_each_bidders_profile(factory, client_for):
    from oversight.clock import county_today
    from oversight.services import procurement as svc
    from oversight.services.contractor_profile import past_performance_for
    from tests.exports_support import make_evaluation, make_review
    from tests.integration.test_procurement import new_project

    veteran, newcomer = factory.contractor("赣县区老牌社会工作服务中心"), factory.contractor("赣县区新设社会工作服务社")
    contract = factory.contract(veteran, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    for quarter in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        make_review(contract, quarter)
    make_evaluation(contract, 2025, approver=factory.user("admin"))
    project = new_project(procurement_method="竞争性磋商")
    history_item = project.items[-1]  # 业绩与信誉, 10 points
    history_item.past_performance = True
    svc.announce(project, date(2024, 11, 1))
    old, new = (svc.record_bid(project, c, price_fen=100_000) for c in (veteran, newcomer))
    svc.open_bids(project, date(2024, 11, 20))
    db.session.commit()
    expected = past_performance_for(veteran.id, county_today(), 10).points
    assert expected is not None

    supervisor = client_for(factory.user("supervisor"))
    url = f"/procurement/{project.id}/sheets/{project.evaluators[0].id}"
    page = _text(supervisor.get(url))
    assert re.search(rf'name="s-{old.id}-{history_item.id}"[^>]*value="{expected.normalize():f}"', page)
    assert re.search(rf'name="s-{new.id}-{history_item.id}"[^>]*value=""', page)
    assert "履约档案：无已审定结果" in page and "（已预填，未保存）" in page
