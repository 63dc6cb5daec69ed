"""Public disclosure in the Open Contracting Data Standard (OCDS 1.1 release package, SPEC section 9).

One release per contract whose term touches the year: the bureau as buyer and the contractor as
supplier (its unified social credit code under the scheme CN-USCC), tender, award and contract,
payments as `implementation.transactions`, the approved quarterly reviews and the annual evaluation
as `implementation.milestones`, and, through the Metrics extension, the KPI targets as
`agreedMetrics` and the results as `implementation.metrics[].observations`. A contract awarded
from a procurement project also carries the project's `planning` (budget line and amount) and
`tender` (method, award criteria, periods, lines, bidders as `tenderer` parties) and the award's
date; a project announced in the year and not yet awarded is a release of its own (planning, tender).

Nothing personal goes out: no subject, worker or contact person, no phone, no free text that
staff or contractors typed (comments, reasons, payment notes).

Validation uses the vendored schemas in `schema/`: the Metrics extension applied to the release
schema as a JSON merge patch, the package's `$ref` resolved to that local copy.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import Any

from flask import current_app
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy import select

from ..clock import COUNTY_TZ, to_county, utcnow
from ..domain.areas import bureau_name
from ..domain.periods import Quarter, quarters_of_year
from ..domain.scoring import DEFAULT_SCHEME, Scheme
from ..domain.vocabulary import ServiceType, label_of
from ..extensions import db
from ..models import (
    Area,
    AnnualEvaluation,
    Contract,
    ContractAcceptance,
    Installment,
    KpiScheme,
    LocalStandard,
    PaymentRecord,
    ProcurementProject,
    QuarterlyReview,
)
from ..services.areas import every_county_id
from . import estimate_text

SCHEMA_DIR = Path(__file__).with_name("schema")
RELEASE_SCHEMA_ID = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
METRICS_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/ocds_metrics_extension/"
                     "master/extension.json")
CREDIT_CODE_SCHEME = "CN-USCC"
CURRENCY = "CNY"
# OCDS method codes; the Chinese name of the method goes to procurementMethodDetails.
PROCUREMENT_METHODS = {"公开招标": "open", "竞争性磋商": "limited", "竞争性谈判": "limited", "询价": "limited",
                       "单一来源": "direct"}
UNITS = {"household_survey": "户", "self_care_assessment": "人", "care_visit": "人次"}


class NothingToPublish(LookupError):
    """No contract's term touches the year, so there is no release to publish."""


class InvalidPackage(ValueError):
    """The package does not validate against the OCDS schema; `errors` lists where and why."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("OCDS 数据未通过模式校验：" + "；".join(errors[:5]))


# --- schema -----------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def package_validator() -> Draft4Validator:
    """A validator of release packages: OCDS 1.1 with the Metrics extension, no network needed."""
    release = merge_patch(_schema("release-schema.json"), _schema("metrics-extension-release-schema.json"))
    registry = Registry().with_resource(RELEASE_SCHEMA_ID, Resource.from_contents(release, DRAFT4))
    return Draft4Validator(_schema("release-package-schema.json"), registry=registry)


def validation_errors(package: dict) -> list[str]:
    """Every schema violation as "path: message" (empty when the package is valid)."""
    errors = sorted(package_validator().iter_errors(package), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(str(part) for part in error.absolute_path) or '(根)'}: {error.message}" for error in errors]


# --- values -----------------------------------------------------------------------------------


def _amount(fen: int) -> int | float:
    return fen // 100 if fen % 100 == 0 else float(Decimal(fen) / 100)


def _value(fen: int) -> dict:
    return {"amount": _amount(fen), "currency": CURRENCY}


def _local(day: date, end_of_day: bool = False) -> str:
    """A county day's start (or last second) with the county's offset, "2026-04-01T00:00:00+08:00"."""
    return datetime.combine(day, time(23, 59, 59) if end_of_day else time(), tzinfo=COUNTY_TZ).isoformat()


def _moment(moment: datetime) -> str:
    """A stored (UTC) timestamp in county time with its offset, "2026-04-01T07:30:00+08:00"."""
    return to_county(moment).replace(microsecond=0).isoformat()


def _number(text: Decimal | str) -> int | float:
    number = Decimal(str(text))
    return int(number) if number == number.to_integral_value() else float(number)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _quarter_period(quarter: Quarter) -> dict:
    return {"startDate": _local(quarter.start), "endDate": _local(quarter.end, end_of_day=True)}


def buyer_name(year: int, county_id: int | None = None) -> str:
    """The bureau's name: BUREAU_NAME from the configuration, else the county's (`county_id`; None:
    the install's when it has one) as the year's standards name it, or as its area is named."""
    configured = current_app.config.get("BUREAU_NAME")
    if configured:
        return configured
    if county_id is None:
        only = every_county_id()
        county_id = only[0] if len(only) == 1 else None
    if county_id is None:
        return "民政局"
    county = _county_name(year, county_id)
    return f"{county}民政局" if county else "民政局"


def _county_name(year: int, county_id: int) -> str | None:
    """The county as the year's standards name it, else as its area is named."""
    county = db.session.execute(select(LocalStandard.county).where(
        LocalStandard.year == year, LocalStandard.county_id == county_id)).scalar()
    return county or db.session.execute(select(Area.name).where(Area.id == county_id)).scalar()


def county_bureau_name(year: int, county_id: int) -> str:
    """The bureau of one county of the install by its own name, as it signs its own 公示: in a
    one-county install `buyer_name` (BUREAU_NAME, else the county's); among several counties
    BUREAU_NAME, one name for the install, names none of them, and each county's bureau is named
    from its area's place under its city (`domain.areas.bureau_name`: "赣州市赣县区民政局")."""
    if len(every_county_id()) < 2:
        return buyer_name(year, county_id)
    area = db.session.get(Area, county_id)
    city = area.parent.name if area is not None and area.parent is not None else None
    return bureau_name(_county_name(year, county_id) or "", city)


def _buyer_party(year: int, county_id: int) -> dict[str, Any]:
    name = buyer_name(year, county_id)
    credit_code = current_app.config.get("BUREAU_CREDIT_CODE")
    code = db.session.execute(select(Area.code).where(Area.id == county_id)).scalar()
    buyer: dict[str, Any] = {"id": f"{CREDIT_CODE_SCHEME}-{credit_code}" if credit_code else f"buyer-{code}",
                             "name": name}
    if credit_code:
        buyer["identifier"] = {"scheme": CREDIT_CODE_SCHEME, "id": credit_code, "legalName": name}
    buyer["roles"] = ["buyer", "payer"]
    return buyer


# --- the package ------------------------------------------------------------------------------


def _newest_approved(rows) -> list:
    """Per period, the newest approved revision (a later draft correction is not yet public)."""
    chosen: dict[Any, Any] = {}
    for row in rows:
        if row.status == "approved":
            chosen[getattr(row, "quarter", None) or getattr(row, "year", None)] = row
    return [chosen[key] for key in sorted(chosen)]


def _scheme(contract: Contract, reviews: list[QuarterlyReview]) -> Scheme:
    """The scheme the year was scored with, else the newest version of the contract's scheme."""
    if reviews:
        return Scheme.from_dict(reviews[-1].scheme.definition)
    stored = db.session.execute(
        select(KpiScheme.definition).where(KpiScheme.code == contract.kpi_scheme_code)
        .order_by(KpiScheme.version.desc()).limit(1)
    ).scalar()
    return Scheme.from_dict(stored) if stored else DEFAULT_SCHEME


def _agreed_metrics(contract: Contract, scheme: Scheme, year: int) -> list[dict]:
    bands = "，".join(f"{band.rating} ≥ {band.minimum}" for band in scheme.bands)
    passing = min((band.minimum for band in scheme.bands if band.minimum > 0), default=None)
    score = {"id": "quarterly-score", "title": "季度考核得分",
             "description": f"考核方案“{scheme.name}”（第{scheme.version}版），满分100分；评级：{bands}。"}
    if passing is not None:
        score["observations"] = [{"id": "quarterly-score-target", "measure": _number(passing),
                                  "unit": {"name": "分"}, "notes": "最低一档以上的分数线"}]
    metrics = [score]
    for indicator in scheme.indicators:
        metrics.append({
            "id": f"kpi-{indicator.key}",
            "title": indicator.name,
            "description": (f"权重 {indicator.weight} 分；指标值不低于 {_percent(indicator.full_at)} 得满分，"
                            f"不高于 {_percent(indicator.zero_at)} 得零分，其间按线性计分。"),
            "observations": [{"id": f"kpi-{indicator.key}-target", "measure": _number(indicator.full_at),
                              "unit": {"name": "比率"}, "notes": "满分线"}],
        })
    for line in contract.service_lines:
        metrics.append({
            "id": f"volume-{line.service_type}",
            "title": f"{label_of(ServiceType, line.service_type)}年度服务量",
            "observations": [{"id": f"volume-{line.service_type}-{year}-target", "measure": line.annual_target,
                              "unit": {"name": UNITS[line.service_type]},
                              "period": {"startDate": _local(date(year, 1, 1)),
                                         "endDate": _local(date(year, 12, 31), end_of_day=True)}}],
        })
    return metrics


def _review_milestone_id(quarter: str) -> str:
    return f"review-{quarter}"


def _milestones(contract: Contract, year: int, reviews: list[QuarterlyReview],
                evaluation: AnnualEvaluation | None) -> list[dict]:
    by_quarter = {review.quarter: review for review in reviews}
    milestones = []
    for quarter in quarters_of_year(year):
        if not (contract.term_start <= quarter.end and contract.term_end >= quarter.start):
            continue
        review = by_quarter.get(str(quarter))
        milestone = {"id": _review_milestone_id(str(quarter)), "title": f"{quarter} 季度考核", "type": "assessment",
                     "code": "quarterlyReview", "dueDate": _local(quarter.end, end_of_day=True)}
        if review is None:
            milestone["status"] = "scheduled"
        else:
            milestone.update(status="met", dateMet=_moment(review.approved_at), dateModified=_moment(review.approved_at),
                             description=f"审定得分 {review.figures.total} 分，评级“{review.rating}”"
                                         f"（第 {review.revision} 版）")
        milestones.append(milestone)
    year_end = _local(date(year, 12, 31), end_of_day=True)
    milestone = {"id": f"evaluation-{year}", "title": f"{year}年度绩效评价", "type": "assessment",
                 "code": "annualEvaluation", "dueDate": year_end}
    if evaluation is None:
        milestone["status"] = "scheduled"
    else:
        payment = evaluation.figures.payment
        milestone.update(
            status="met", dateMet=_moment(evaluation.approved_at), dateModified=_moment(evaluation.approved_at),
            description=(f"年度得分 {evaluation.figures.score} 分，评级“{evaluation.rating}”；绩效挂钩部分"
                         f"应付 {_amount(payment.payable_fen)} 元，扣减 {_amount(payment.withheld_fen)} 元"),
        )
    milestones.append(milestone)
    return milestones


def _results(contract: Contract, reviews: list[QuarterlyReview], evaluation: AnnualEvaluation | None) -> list[dict]:
    if not reviews:
        return []
    metrics: dict[str, dict] = {}

    def observe(metric_id: str, title: str, observation: dict) -> None:
        metrics.setdefault(metric_id, {"id": metric_id, "title": title, "observations": []})
        metrics[metric_id]["observations"].append(observation)

    for review in reviews:
        quarter = Quarter.parse(review.quarter)
        common = {"period": _quarter_period(quarter), "dimensions": {"quarter": review.quarter},
                  "relatedImplementationMilestone": {"id": _review_milestone_id(review.quarter),
                                                     "title": f"{review.quarter} 季度考核"}}
        observe("quarterly-score", "季度考核得分", {
            "id": f"quarterly-score-{review.quarter}", "measure": _number(review.figures.total),
            "unit": {"name": "分"}, "notes": f"评级“{review.rating}”", **common})
        observe("completed-volume", "完成服务量", {
            "id": f"completed-volume-{review.quarter}", "measure": review.completed_volume,
            "unit": {"name": "次"}, **common})
        for indicator in review.figures.indicators:
            observation = {"id": f"kpi-{indicator.key}-{review.quarter}", **common}
            if indicator.no_data:
                observation["notes"] = "本季度无数据，权重已按比例分摊至其他指标"
            elif indicator.value is None:
                observation["notes"] = f"本季度无此类事项，按满分计，得 {indicator.score} 分"
            else:
                weighted = "" if indicator.estimate is None else f"；{estimate_text.summary(indicator.estimate)}"
                observation.update(
                    measure=_number(indicator.value), unit={"name": "比率"},
                    notes=(f"{indicator.numerator}/{indicator.denominator}，得 {indicator.score} 分"
                           f"（实际权重 {indicator.effective_weight} 分）{weighted}"))
            observe(f"kpi-{indicator.key}", indicator.name, observation)
    if evaluation is not None:
        year = evaluation.year
        observe("annual-score", "年度绩效评价得分", {
            "id": f"annual-score-{year}", "measure": _number(evaluation.figures.score), "unit": {"name": "分"},
            "notes": f"评级“{evaluation.rating}”",
            "period": {"startDate": _local(date(year, 1, 1)), "endDate": _local(date(year, 12, 31), end_of_day=True)},
            "relatedImplementationMilestone": {"id": f"evaluation-{year}", "title": f"{year}年度绩效评价"},
        })
    return list(metrics.values())


# --- implementation: the payment schedule and the 履约验收 (issue 15) ----------------------------

_INSTALLMENT_MILESTONE_STATUS = {"pending": "scheduled", "payable": "scheduled", "paid": "met", "withheld": "notMet"}


def _installment_due(installment: Installment) -> date | None:
    if installment.due_on is not None:
        return installment.due_on
    return date(installment.year, 12, 31) if installment.year is not None else None


def _installments_of_year(contract: Contract, year: int) -> list[Installment]:
    """The installments that fall in the year: by the year they settle, else by their agreed day."""
    rows = db.session.execute(select(Installment).where(Installment.contract_id == contract.id)
                              .order_by(Installment.sequence, Installment.id)).scalars()
    return [row for row in rows if (row.year if row.year is not None else _installment_due(row).year) == year]


def installment_milestones(contract: Contract, year: int, today: date) -> list[dict]:
    """One `financing` milestone per installment of the year: met once paid, notMet while 暂扣."""
    from ..services.installments import state_of

    milestones = []
    for installment in _installments_of_year(contract, year):
        state = state_of(installment, today)
        due = _installment_due(installment)
        amount = "未定" if state.due_fen is None else f"{_amount(state.due_fen)} 元"
        description = f"{installment.kind_label}，支付条件：{installment.condition_label}；应付 {amount}"
        if state.withheld_fen:
            description += f"，暂扣/扣减 {_amount(state.withheld_fen)} 元"
        milestone = {"id": f"installment-{installment.sequence}", "title": installment.title, "type": "financing",
                     "code": f"installment.{installment.kind}", "status": _INSTALLMENT_MILESTONE_STATUS[state.status],
                     "description": f"{description}（{state.status_label}）"}
        if due is not None:
            milestone["dueDate"] = _local(due, end_of_day=True)
        if installment.paid_on is not None:
            milestone["dateMet"] = _local(installment.paid_on)
        milestones.append(milestone)
    return milestones


def acceptance_milestone(contract: Contract, year: int) -> dict:
    """The year's 履约验收 as an `assessment` milestone: met (合格/基本合格), notMet (不合格) or scheduled."""
    acceptance = db.session.execute(select(ContractAcceptance).where(
        ContractAcceptance.contract_id == contract.id, ContractAcceptance.year == year)).scalar()
    milestone = {"id": f"acceptance-{year}", "title": f"{year}年度履约验收", "type": "assessment",
                 "code": "acceptance", "dueDate": _local(date(year, 12, 31), end_of_day=True), "status": "scheduled"}
    if acceptance is not None and acceptance.concluded:
        milestone.update(status="notMet" if acceptance.conclusion == "unqualified" else "met",
                         dateMet=_local(acceptance.accepted_on), dateModified=_moment(acceptance.concluded_at),
                         description=f"验收结论：{acceptance.conclusion_label}")
    return milestone


def installment_transactions(contract: Contract, year: int, payer: dict, payee: dict) -> list[dict]:
    """Each paid installment of the year, as a transaction: one that settles a year (the acceptance's,
    the evaluation's) goes with that year's release, even when paid early in the next; any other
    with the year it was paid in."""
    rows = db.session.execute(select(Installment).where(
        Installment.contract_id == contract.id, Installment.paid_on.is_not(None))
        .order_by(Installment.paid_on, Installment.sequence)).scalars()
    return [{"id": f"installment-{row.sequence}-payment", "date": _local(row.paid_on), "value": _value(row.paid_fen),
             "payer": payer, "payee": payee}
            for row in rows if (row.year if row.year is not None else row.paid_on.year) == year]


def add_implementation_stage(implementation: dict, contract: Contract, year: int, payer: dict, payee: dict,
                             today: date) -> None:
    """Put the payment schedule and the acceptance into a release's `implementation`: milestones for
    the installments and the acceptance; paid installments as transactions in place of the
    payment records they made."""
    paid = {f"payment-{payment_id}" for payment_id in db.session.execute(
        select(Installment.payment_id).where(Installment.contract_id == contract.id,
                                             Installment.payment_id.is_not(None))).scalars()}
    implementation["transactions"] = [row for row in implementation["transactions"] if row["id"] not in paid]
    implementation["transactions"] += installment_transactions(contract, year, payer, payee)
    implementation["milestones"] += [*installment_milestones(contract, year, today), acceptance_milestone(contract, year)]


def _release(contract: Contract, year: int, published: str, buyer_party: dict, today: date) -> dict:
    buyer = {"id": buyer_party["id"], "name": buyer_party["name"]}
    contractor = contract.contractor
    supplier = {"id": f"{CREDIT_CODE_SCHEME}-{contractor.credit_code}", "name": contractor.name}
    reviews = _newest_approved(db.session.execute(
        select(QuarterlyReview).where(QuarterlyReview.contract_id == contract.id,
                                      QuarterlyReview.quarter.like(f"{year:04d}Q_"))
        .order_by(QuarterlyReview.quarter, QuarterlyReview.revision)).scalars())
    evaluations = _newest_approved(db.session.execute(
        select(AnnualEvaluation).where(AnnualEvaluation.contract_id == contract.id, AnnualEvaluation.year == year)
        .order_by(AnnualEvaluation.revision)).scalars())
    evaluation = evaluations[-1] if evaluations else None
    payments = db.session.execute(
        select(PaymentRecord).where(PaymentRecord.contract_id == contract.id,
                                    PaymentRecord.paid_on.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(PaymentRecord.paid_on, PaymentRecord.id)).scalars().all()
    period = {"startDate": _local(contract.term_start), "endDate": _local(contract.term_end, end_of_day=True)}
    items = [{"id": line.service_type, "description": label_of(ServiceType, line.service_type),
              "quantity": line.annual_target, "unit": {"name": UNITS[line.service_type]}}
             for line in contract.service_lines]
    award_id = f"{contract.code}-award"
    implementation: dict[str, Any] = {
        "transactions": [{"id": f"payment-{payment.id}", "date": _local(payment.paid_on),
                          "value": _value(payment.amount_fen), "payer": buyer, "payee": supplier}
                         for payment in payments],
        "milestones": _milestones(contract, year, reviews, evaluation),
    }
    add_implementation_stage(implementation, contract, year, buyer, supplier, today)
    results = _results(contract, reviews, evaluation)
    if results:
        implementation["metrics"] = results
    lots = {"items": items} if items else {}
    release = {
        "ocid": f"{current_app.config['OCDS_OCID_PREFIX']}-{contract.code}",
        "id": f"{contract.code}-{year}",
        "date": published,
        "tag": ["award", "contract", "implementation"],
        "initiationType": "tender",
        "language": "zh",
        "parties": [
            buyer_party,
            {**supplier, "identifier": {"scheme": CREDIT_CODE_SCHEME, "id": contractor.credit_code,
                                        "legalName": contractor.name}, "roles": ["supplier", "payee"]},
        ],
        "buyer": buyer,
        "tender": {"id": f"{contract.code}-tender", "title": contract.title, "status": "complete",
                   "procurementMethod": PROCUREMENT_METHODS.get(contract.procurement_method),
                   "procurementMethodDetails": contract.procurement_method, "mainProcurementCategory": "services",
                   "value": _value(contract.amount_fen), "contractPeriod": period, **lots},
        "awards": [{"id": award_id, "title": contract.title, "status": "active", "suppliers": [supplier],
                    "value": _value(contract.amount_fen), "contractPeriod": period, **lots}],
        "contracts": [{
            "id": contract.code, "awardID": award_id, "title": contract.title,
            "status": "active" if contract.term_end >= today else "terminated",
            "period": period, "value": _value(contract.amount_fen), **lots,
            "agreedMetrics": _agreed_metrics(contract, _scheme(contract, reviews), year),
            "implementation": implementation,
        }],
    }
    project = db.session.execute(
        select(ProcurementProject).where(ProcurementProject.contract_id == contract.id)).scalar_one_or_none()
    if project is not None:
        add_procurement_stages(release, project)
    return release


# --- planning, tender and award from the procurement project (issue 15) ----------------------


def _tenderer(bid) -> dict:
    contractor = bid.contractor
    return {"id": f"{CREDIT_CODE_SCHEME}-{contractor.credit_code}", "name": contractor.name}


def _award_criteria(project: ProcurementProject) -> str:
    price = Decimal(project.price_points_centi) / 100
    items = "、".join(f"{item.name} {(Decimal(item.max_points_centi) / 100).normalize():f} 分" for item in project.items)
    return (f"综合评分法：价格分 {price.normalize():f} 分（低价优先法，评标基准价为最低有效报价）"
            + (f"；{items}" if items else ""))


def planning_stage(project: ProcurementProject) -> dict:
    """OCDS `planning`: the budget line and amount the purchase is funded from."""
    return {"budget": {"id": f"{project.code}-budget", "description": project.budget_line,
                       "amount": _value(project.budget_fen)}}


def tender_stage(project: ProcurementProject) -> dict:
    """OCDS `tender`: method, award criteria, announcement to bid opening, the lines and the bidders
    (organisations by their credit codes; no bid prices but the winner's, no contact person)."""
    period = {"startDate": _local(project.term_start), "endDate": _local(project.term_end, end_of_day=True)}
    status = {"cancelled": "cancelled", "awarded": "complete"}.get(project.status, "active")
    if project.status == "draft":
        status = "planning"
    tender: dict[str, Any] = {
        "id": project.code, "title": project.title, "status": status,
        "procurementMethod": PROCUREMENT_METHODS.get(project.procurement_method),
        "procurementMethodDetails": project.procurement_method, "mainProcurementCategory": "services",
        "awardCriteria": "ratedCriteria", "awardCriteriaDetails": _award_criteria(project),
        "value": _value(project.budget_fen), "contractPeriod": period,
        "items": [{"id": line.service_type, "description": label_of(ServiceType, line.service_type),
                   "quantity": line.annual_target, "unit": {"name": UNITS[line.service_type]}}
                  for line in project.lines],
        "numberOfTenderers": len(project.bids),
        "tenderers": [_tenderer(bid) for bid in project.bids],
    }
    if project.announced_on is not None:
        tender["tenderPeriod"] = {"startDate": _local(project.announced_on)}
        if project.bid_opening_on is not None:
            tender["tenderPeriod"]["endDate"] = _local(project.bid_opening_on)
    if project.bid_opening_on is not None:
        tender["awardPeriod"] = {"startDate": _local(project.bid_opening_on)}
        if project.awarded_on is not None:
            tender["awardPeriod"]["endDate"] = _local(project.awarded_on, end_of_day=True)
    return tender


def tenderer_parties(project: ProcurementProject) -> list[dict]:
    """Every bidder as a party with the role `tenderer` (the winner's entry is the supplier's)."""
    return [{**_tenderer(bid), "identifier": {"scheme": CREDIT_CODE_SCHEME, "id": bid.contractor.credit_code,
                                              "legalName": bid.contractor.name}, "roles": ["tenderer"]}
            for bid in project.bids]


def add_procurement_stages(release: dict, project: ProcurementProject) -> None:
    """A contract's release gains its project's planning and tender, and the award's date."""
    release["tag"] = ["planning", "tender", *release["tag"]]
    release["planning"] = planning_stage(project)
    release["tender"] = tender_stage(project)
    by_id = {party["id"]: party for party in release["parties"]}
    for party in tenderer_parties(project):
        if party["id"] in by_id:
            by_id[party["id"]]["roles"] = [*by_id[party["id"]]["roles"], "tenderer"]
        else:
            release["parties"].append(party)
    if project.awarded_on is not None:
        for award in release["awards"]:
            award["date"] = _local(project.awarded_on)


def tender_releases(year: int, published: str, buyer_of: Callable[[int], dict],
                    county_ids: list[int] | None = None) -> list[dict]:
    """A release (planning and tender) for each project announced in the year and not yet awarded
    (of `county_ids`, None: all), its county's bureau as buyer."""
    stmt = select(ProcurementProject).where(
        ProcurementProject.contract_id.is_(None),
        ProcurementProject.announced_on.between(date(year, 1, 1), date(year, 12, 31))).order_by(ProcurementProject.code)
    if county_ids is not None:
        stmt = stmt.where(ProcurementProject.county_id.in_(county_ids))
    releases = []
    for project in db.session.execute(stmt).scalars():
        buyer_party = buyer_of(project.county_id)
        releases.append({
            "ocid": f"{current_app.config['OCDS_OCID_PREFIX']}-{project.code}",
            "id": f"{project.code}-{year}-tender", "date": published, "tag": ["planning", "tender"],
            "initiationType": "tender", "language": "zh", "parties": [buyer_party, *tenderer_parties(project)],
            "buyer": {"id": buyer_party["id"], "name": buyer_party["name"]}, "planning": planning_stage(project),
            "tender": tender_stage(project)})
    return releases


def build_package(year: int, uri: str, *, today: date, county_ids: list[int] | None = None) -> dict:
    """The year's OCDS release package (of the contracts and projects of `county_ids`, None: all),
    validated (InvalidPackage otherwise); each release's buyer is its county's bureau."""
    stmt = select(Contract).where(Contract.term_start <= date(year, 12, 31), Contract.term_end >= date(year, 1, 1))
    if county_ids is not None:
        stmt = stmt.where(Contract.county_id.in_(county_ids))
    contracts = db.session.execute(stmt.order_by(Contract.code)).scalars().all()
    buyers: dict[int, dict] = {}

    def buyer_of(county_id: int) -> dict:
        if county_id not in buyers:
            buyers[county_id] = _buyer_party(year, county_id)
        return buyers[county_id]

    counties = sorted({contract.county_id for contract in contracts} | set(county_ids or []))
    name = buyer_name(year, counties[0] if len(counties) == 1 else None)
    credit_code = current_app.config.get("BUREAU_CREDIT_CODE")
    published = _moment(utcnow())
    package = {
        "uri": uri,
        "version": "1.1",
        "extensions": [METRICS_EXTENSION],
        "publishedDate": published,
        "publisher": {"name": name, **({"scheme": CREDIT_CODE_SCHEME, "uid": credit_code} if credit_code else {})},
        "releases": [_release(contract, year, published, buyer_of(contract.county_id), today)
                     for contract in contracts]
        + tender_releases(year, published, buyer_of, county_ids),
    }
    if not package["releases"]:
        raise NothingToPublish(f"{year}年没有在服务期内的合同，无可发布的数据")
    errors = validation_errors(package)
    if errors:
        raise InvalidPackage(errors)
    return package


def package_json(package: dict) -> str:
    """The package as UTF-8 JSON text, Chinese kept readable."""
    return json.dumps(package, ensure_ascii=False, indent=2)
