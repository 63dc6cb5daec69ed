"""A procurement project from set-up to award: bids, the committee's sheets, the recorded
evaluation, and the contract the award creates, which assignments and reviews then use."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from oversight.domain.periods import Quarter
from oversight.domain.vocabulary import TenderStatus
from oversight.extensions import db
from oversight.services.areas import home_county
from oversight.models import Assignment, AuditEvent, Contract, Contractor
from oversight.services import procurement as svc
from oversight.services import reviews
from oversight.services.assignments import issue_assignment
from oversight.services.attachments import Upload, attachments_of, may_see
from oversight.services.procurement import ProcurementError
from oversight.services.schemes import ensure_default_scheme

from tests.attachment_support import PDF as PDF_BYTES
from tests.factories import valid_credit_code
from tests.performance_support import build_quarter

# The worked example of tests/unit/test_tender_evaluation.py: 丙 wins with 280/3 = 93.33.
SHEET = {
    "甲": {"技术方案": ("36", "35", "37"), "服务团队": ("18", "17", "18"), "业绩与信誉": ("9", "8", "8")},
    "乙": {"技术方案": ("32", "33", "31"), "服务团队": ("16", "16", "17"), "业绩与信誉": ("8", "7", "7")},
    "丙": {"技术方案": ("38.5", "38", "37.5"), "服务团队": ("19", "19", "18.5"), "业绩与信誉": ("10", "9.5", "9")},
}
PRICES = {"甲": 96_000_000, "乙": 90_000_000, "丙": 100_000_000}


def new_project(**changes):
    fields = dict(lines={"household_survey": (1200, 1), "care_visit": (300, 2)}, code="GXZC-2025-07",
                  title="2025年家计调查及照料护理服务采购", budget_line="社会救助服务购买（2025年部门预算）",
                  budget_fen=110_000_000, procurement_method="公开招标", price_points=D(30),
                  term_start=date(2025, 1, 1), term_end=date(2025, 12, 31), performance_share_bp=3000,
                  county_id=home_county().id)
    fields.update(changes)
    project = svc.save_project(None, **fields)
    for name, points, technical in (("技术方案", D(40), True), ("服务团队", D(20), True), ("业绩与信誉", D(10), False)):
        svc.add_item(project, name=name, max_points=points, technical=technical)
    for name in ("专家A", "专家B", "专家C"):
        svc.add_evaluator(project, name)
    db.session.commit()
    return project


@pytest.fixture
def tender(factory):
    """An opened tender with the worked example's three bids, 丙 a registered contractor with workers."""
    project = new_project()
    svc.announce(project, date(2024, 11, 1))
    registered = factory.contractor("赣县区丙社会工作服务中心")
    bidders = {
        "甲": svc.new_bidder(project, name="甲社会工作服务社", credit_code=valid_credit_code(9001), contact_person="李青",
                            contact_phone="13907970011"),
        "乙": svc.new_bidder(project, name="乙社会工作服务中心", credit_code=valid_credit_code(9002), contact_person="王芳",
                            contact_phone="13907970012"),
        "丙": registered,
    }
    bids = {key: svc.record_bid(project, contractor, price_fen=PRICES[key]) for key, contractor in bidders.items()}
    svc.open_bids(project, date(2024, 11, 25))
    db.session.commit()
    return {"project": project, "bids": bids, "bidders": bidders}


def fill_sheets(project, bids, sheet=SHEET):
    items = {item.name: item for item in project.items}
    for index, member in enumerate(project.evaluators):
        svc.save_sheet(project, member, {(bids[key].id, items[name].id): D(points[index])
                                         for key, row in sheet.items() for name, points in row.items()}, None)
    db.session.commit()


def test_the_award_creates_the_contract_from_the_project_and_the_winning_bid(tender, factory):
    project, bids = tender["project"], tender["bids"]
    admin = factory.user("admin")
    fill_sheets(project, bids)
    result = svc.record_evaluation(project, admin)
    db.session.commit()
    assert result.winner == str(bids["丙"].id)
    stored = project.evaluation
    assert [(row["bid"], row["rank"], row["total"]) for row in stored["results"]] == [
        (str(bids["丙"].id), 1, "93.33"), (str(bids["甲"].id), 2, "90.13"), (str(bids["乙"].id), 3, "85.67")]
    assert stored["results"][0]["total_exact"] == "280/3"
    assert project.status == TenderStatus.EVALUATED

    contract = svc.award(project, contract_code="GX-HT-2025-07", contract_title=project.title, day=date(2024, 12, 2))
    db.session.commit()

    contract = db.session.get(Contract, contract.id)
    assert (contract.contractor_id, contract.amount_fen, contract.procurement_method) == (
        tender["bidders"]["丙"].id, 100_000_000, "公开招标")
    assert (contract.term_start, contract.term_end, contract.performance_share_bp) == (
        date(2025, 1, 1), date(2025, 12, 31), 3000)
    assert {(line.service_type, line.annual_target, line.visits_per_month) for line in contract.service_lines} == {
        ("household_survey", 1200, 1), ("care_visit", 300, 2)}
    assert project.status == TenderStatus.AWARDED and project.contract_id == contract.id
    assert bids["丙"].awarded and not bids["甲"].awarded
    assert svc.project_of_contract(contract.id) == project

    # The rest of the app takes the contract like any other: an assignment, a quarterly review.
    subject = factory.subject()
    assignment = issue_assignment(contract, subject, "household_survey", date(2025, 3, 10), None, today=date(2025, 3, 1))
    db.session.commit()
    assert db.session.get(Assignment, assignment.id).contract_id == contract.id
    ensure_default_scheme()
    build_quarter(contract, factory.user("supervisor"))
    outcome = reviews.score_contract_quarter(contract, Quarter(2025, 3), today=date(2025, 10, 10))
    db.session.commit()
    assert outcome.review is not None and outcome.review.contract_id == contract.id

    # Every step is in the audit log.
    logged = set(db.session.execute(select(AuditEvent.object_type)).scalars())
    assert {"ProcurementProject", "ProcurementLine", "TenderBid", "TenderScoringItem", "TenderEvaluator",
            "TenderScore", "Contract", "ServiceLine"} <= logged


def test_evaluation_waits_for_every_sheet_and_names_the_missing_cell(tender):
    project, bids = tender["project"], tender["bids"]
    partial = {key: row for key, row in SHEET.items()}
    fill_sheets(project, bids, partial)
    items = {item.name: item for item in project.items}
    member = project.evaluators[1]
    svc.save_sheet(project, member, {(bids["甲"].id, items["服务团队"].id): None}, None)
    db.session.commit()
    with pytest.raises(ProcurementError, match="评分未完成：专家B—甲社会工作服务社—服务团队"):
        svc.record_evaluation(project, None)
    assert project.status == TenderStatus.OPENED


def test_a_score_beyond_the_items_points_is_refused_and_nothing_of_the_sheet_is_stored(tender):
    project, bids = tender["project"], tender["bids"]
    items = {item.name: item for item in project.items}
    member = project.evaluators[0]
    with pytest.raises(ProcurementError, match="业绩与信誉.*应在 0 至 10 分之间"):
        svc.save_sheet(project, member, {(bids["甲"].id, items["技术方案"].id): D(30),
                                         (bids["甲"].id, items["业绩与信誉"].id): D(11)}, None)
    db.session.rollback()
    assert svc.sheet_of(project, member) == {}


def test_a_tie_at_the_top_needs_the_committees_draw(tender):
    project, bids = tender["project"], tender["bids"]
    # 甲 and 乙 at the same price and the same scores: tied on everything.
    svc.record_bid(project, tender["bidders"]["甲"], price_fen=90_000_000)
    same = {name: ("39", "39", "39") if name == "技术方案" else ("19", "19", "19") if name == "服务团队" else
            ("9", "9", "9") for name in SHEET["甲"]}
    fill_sheets(project, bids, {"甲": same, "乙": same, "丙": SHEET["丙"]})
    with pytest.raises(ProcurementError, match="第一名并列，须先记录评标委员会的抽签结果"):
        svc.record_evaluation(project, None)
    db.session.rollback()
    svc.record_tie_decision(project, [bids["乙"].id, bids["甲"].id], "2024年11月25日评标委员会现场抽签，乙中签")
    result = svc.record_evaluation(project, None)
    assert result.winner == str(bids["乙"].id)


def test_an_open_tender_with_fewer_than_three_valid_bids_cannot_be_evaluated(tender):
    project, bids = tender["project"], tender["bids"]
    svc.record_bid(project, tender["bidders"]["乙"], price_fen=90_000_000, valid=False, invalid_reason="未提供资质证明")
    fill_sheets(project, bids, {key: row for key, row in SHEET.items() if key != "乙"})
    with pytest.raises(ProcurementError, match="公开招标须有至少 3 家有效投标（现有 2 家）"):
        svc.record_evaluation(project, None)


def test_the_steps_keep_their_order(factory):
    project = new_project(code="GXZC-2025-08")
    with pytest.raises(ProcurementError, match="不能登记投标"):
        svc.record_bid(project, factory.contractor(), price_fen=1)
    with pytest.raises(ProcurementError, match="不能开标"):
        svc.open_bids(project, date(2024, 11, 25))
    svc.remove_item(project, project.items[-1])
    with pytest.raises(ProcurementError, match="合计为 90 分，应为 100 分"):
        svc.announce(project, date(2024, 11, 1))
    with pytest.raises(ProcurementError, match="项目编号 GXZC-2025-08 已存在"):
        new_project(code="GXZC-2025-08")


def test_project_documents_are_kept_as_attachments_and_no_contractor_sees_them(tender, factory):
    project = tender["project"]
    supervisor = factory.user("supervisor")
    svc.attach_documents(project, [Upload("招标文件.pdf", PDF_BYTES)], supervisor)
    db.session.commit()
    [document] = attachments_of(project)
    assert document.filename == "招标文件.pdf" and document.stored_path.startswith("attachments/procurement_project/")
    assert may_see(project, supervisor)
    assert not may_see(project, factory.user("contractor", db.session.get(Contractor, tender["bidders"]["丙"].id)))


def test_a_cancelled_tender_takes_no_more_bids_scores_or_award(tender):
    project = tender["project"]
    with pytest.raises(ProcurementError, match="请写明终止理由"):
        svc.cancel(project, "  ")
    svc.cancel(project, "有效投标不足三家，依法废标")
    db.session.commit()
    assert (project.status, project.cancel_reason) == (TenderStatus.CANCELLED, "有效投标不足三家，依法废标")
    with pytest.raises(ProcurementError, match="项目已终止，不能登记投标"):
        svc.record_bid(project, tender["bidders"]["甲"], price_fen=1)
    with pytest.raises(ProcurementError, match="项目已终止，不能录入评分"):
        svc.save_sheet(project, project.evaluators[0], {}, None)
    with pytest.raises(ProcurementError, match="项目已终止，不能定标"):
        svc.award(project, contract_code="X", contract_title="X", day=date(2025, 1, 1))
