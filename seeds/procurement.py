"""The demo's procurement project: next year's household-survey purchase by 竞争性磋商, announced,
its bids opened and every committee member's sheet filled, waiting for the evaluation to be recorded."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from oversight.models import Contract, Contractor, User
from oversight.services import procurement

ITEMS = (("服务方案", Decimal(40), True), ("人员配备与培训", Decimal(20), True), ("类似项目业绩", Decimal(10), False))
MEMBERS = ("评审专家甲", "评审专家乙", "评审专家丙")


def add_procurement(survey: Contract, contractors: list[Contractor], supervisor: User, today: date,
                    rng: random.Random, prefix: str = "GXZC") -> None:
    """A project for the survey contract's next term, every demo contractor a bidder."""
    year = survey.term_end.year + 1
    target = next(line.annual_target for line in survey.service_lines)
    project = procurement.save_project(
        None, lines={"household_survey": (target, 1)}, code=f"{prefix}-{year}-001", title=f"{year}年家计调查服务采购",
        budget_line=f"社会救助服务购买（{year}年部门预算）", budget_fen=survey.amount_fen * 105 // 100 // 100 * 100,
        procurement_method="竞争性磋商", price_points=Decimal(30), term_start=date(year, 1, 1),
        term_end=date(year, 12, 31), performance_share_bp=3000, user=supervisor,
        county_id=survey.county_id)
    for name, points, technical in ITEMS:
        procurement.add_item(project, name=name, max_points=points, technical=technical)
    for name in MEMBERS:
        procurement.add_evaluator(project, name)
    procurement.announce(project, today - timedelta(days=25))
    for contractor in contractors:
        price = survey.amount_fen * rng.randrange(92, 104) // 100 // 100 * 100
        procurement.record_bid(project, contractor, price_fen=price)
    procurement.open_bids(project, today - timedelta(days=3))
    for member in project.evaluators:
        sheet = {}
        for bid in project.bids:
            for item in project.items:
                top = int(item.max_points_centi / 100)
                sheet[(bid.id, item.id)] = Decimal(rng.randrange(top * 6, top * 10 + 1, 5)) / 10
        procurement.save_sheet(project, member, sheet, supervisor)


def add_draft(care: Contract, supervisor: User, prefix: str = "GXZC") -> None:
    """A second project still being prepared (筹备中): next year's care services."""
    year = care.term_end.year + 1
    lines = {line.service_type: (line.annual_target, line.visits_per_month) for line in care.service_lines}
    project = procurement.save_project(
        None, lines=lines, code=f"{prefix}-{year}-002", title=f"{year}年特困人员照料护理服务采购",
        budget_line=f"特困人员供养服务（{year}年部门预算）", budget_fen=care.amount_fen // 100 * 100,
        procurement_method="公开招标", price_points=Decimal(20), term_start=date(year, 1, 1),
        term_end=date(year, 12, 31), performance_share_bp=3000, user=supervisor, county_id=care.county_id)
    procurement.add_item(project, name="照料护理服务方案", max_points=Decimal(50), technical=True)
    procurement.add_evaluator(project, "评审专家甲")
