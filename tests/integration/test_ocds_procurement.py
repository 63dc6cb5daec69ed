"""The OCDS package's planning, tender and award stages from procurement projects: still schema-valid."""
from datetime import date

from oversight.exports import ocds
from oversight.extensions import db
from oversight.services import procurement as svc

from tests.integration.test_procurement import fill_sheets, new_project, tender  # noqa: F401  (fixture)

TODAY = date(2026, 3, 1)


def _package():
    return ocds.build_package(2025, "https://oversight.example/exports/ocds/2025.json", today=TODAY)


def test_an_awarded_contract_carries_its_planning_tender_and_award(tender):  # noqa: F811
    project, bids = tender["project"], tender["bids"]
    project.announced_on = date(2025, 1, 5)  # so that the year's package is the project's year too
    fill_sheets(project, bids)
    svc.record_evaluation(project, None)
    contract = svc.award(project, contract_code="GX-HT-2025-07", contract_title=project.title, day=date(2025, 1, 20))
    db.session.commit()

    package = _package()
    assert ocds.validation_errors(package) == []
    [release] = package["releases"]
    assert release["tag"] == ["planning", "tender", "award", "contract", "implementation"]
    assert release["planning"]["budget"] == {"id": "GXZC-2025-07-budget", "description": project.budget_line,
                                             "amount": {"amount": 1100000, "currency": "CNY"}}
    tender_stage = release["tender"]
    assert tender_stage["status"] == "complete" and tender_stage["procurementMethod"] == "open"
    assert tender_stage["awardCriteria"] == "ratedCriteria"
    assert tender_stage["awardCriteriaDetails"].startswith("综合评分法：价格分 30 分")
    assert tender_stage["numberOfTenderers"] == 3
    assert tender_stage["tenderPeriod"]["startDate"] == "2025-01-05T00:00:00+08:00"
    assert tender_stage["awardPeriod"]["endDate"] == "2025-01-20T23:59:59+08:00"
    assert {(item["id"], item["quantity"]) for item in tender_stage["items"]} == {("household_survey", 1200), ("care_visit", 300)}
    roles = {party["name"]: party["roles"] for party in release["parties"]}
    winner = contract.contractor.name
    assert roles[winner] == ["supplier", "payee", "tenderer"]
    assert roles["甲社会工作服务社"] == ["tenderer"] and roles["乙社会工作服务中心"] == ["tenderer"]
    assert release["awards"][0]["date"] == "2025-01-20T00:00:00+08:00"
    assert release["awards"][0]["value"] == {"amount": 1000000, "currency": "CNY"}
    text = ocds.package_json(package)
    assert "李青" not in text and "13907970011" not in text  # bidders' contact persons and phones stay out
    assert "96000000" not in text and "960000" not in text  # a losing bid's price is not published


def test_a_project_in_tender_is_a_release_of_its_own(factory):
    project = new_project()
    svc.announce(project, date(2025, 2, 1))
    svc.record_bid(project, factory.contractor("赣县区阳光社会工作服务社"), price_fen=99_000_000)
    db.session.commit()
    package = _package()
    assert ocds.validation_errors(package) == []
    [release] = package["releases"]
    assert release["tag"] == ["planning", "tender"] and release["ocid"].endswith("-GXZC-2025-07")
    assert release["tender"]["status"] == "active" and release["tender"]["tenderPeriod"] == {
        "startDate": "2025-02-01T00:00:00+08:00"}
    assert [party["roles"] for party in release["parties"]] == [["buyer", "payer"], ["tenderer"]]
