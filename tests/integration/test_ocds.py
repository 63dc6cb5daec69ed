"""The OCDS 1.1 release package: valid against the vendored schema with the Metrics extension, nothing personal."""
from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from oversight.exports import ocds
from oversight.extensions import db
from oversight.models import QuarterlyReview
from tests.exports_support import make_evaluation, make_payment, make_review

TODAY = date(2026, 3, 1)


@pytest.fixture
def published(factory):
    """A contract with records by named workers, four approved quarters, an approved evaluation, payments."""
    contractor = factory.contractor(name="梅林社会工作服务中心")
    contract = factory.contract(contractor, service_types=("household_survey", "care_visit"))
    subject = factory.subject(name="王秀英")
    record = factory.record(factory.assignment(contract, subject), remark="对象王秀英卧床")
    reviews = [make_review(contract, quarter, record_ids=(record.id,), comment="社工李四已整改" if n == 1 else None,
                           manual=[("-1", "李四迟到")] if n == 2 else ())
               for n, quarter in enumerate(("2025Q1", "2025Q2", "2025Q3", "2025Q4"))]
    make_payment(contract, date(2025, 3, 1), 30_000_000, "fixed", "转账给张敏")
    make_payment(contract, date(2025, 7, 15), 4_567_89, "performance")
    make_payment(contract, date(2026, 1, 10), 1_000_000, "fixed")
    evaluation = make_evaluation(contract, 2025, approver=factory.user("admin"))
    package = ocds.build_package(2025, "https://oversight.example/exports/ocds/2025.json", today=TODAY)
    return {"contract": contract, "subject": subject, "record": record, "reviews": reviews,
            "evaluation": evaluation, "package": package}


def test_package_is_valid_against_the_ocds_1_1_schema_with_the_metrics_extension(published):
    package = published["package"]
    assert ocds.validation_errors(package) == []
    assert package["version"] == "1.1" and package["extensions"] == [ocds.METRICS_EXTENSION]
    assert len(package["releases"]) == 1


def test_parties_name_the_bureau_as_buyer_and_the_contractor_by_its_credit_code(published):
    contractor = published["contract"].contractor
    release = published["package"]["releases"][0]
    buyer, supplier = release["parties"]
    assert buyer["roles"] == ["buyer", "payer"] and release["buyer"] == {"id": buyer["id"], "name": buyer["name"]}
    assert supplier["identifier"] == {"scheme": "CN-USCC", "id": contractor.credit_code, "legalName": contractor.name}
    assert supplier["roles"] == ["supplier", "payee"]
    assert release["awards"][0]["suppliers"] == [{"id": supplier["id"], "name": contractor.name}]
    assert release["tender"]["procurementMethod"] == "open"
    assert release["tender"]["procurementMethodDetails"] == "公开招标"


def test_payments_of_the_year_are_transactions(published):
    contract = published["package"]["releases"][0]["contracts"][0]
    transactions = contract["implementation"]["transactions"]
    assert [(t["date"][:10], t["value"]) for t in transactions] == [
        ("2025-03-01", {"amount": 300000, "currency": "CNY"}),
        ("2025-07-15", {"amount": 4567.89, "currency": "CNY"}),
    ]
    assert all(t["payee"]["id"].startswith("CN-USCC-") for t in transactions)


def test_reviews_and_the_evaluation_are_milestones(published):
    implementation = published["package"]["releases"][0]["contracts"][0]["implementation"]
    milestones = {m["id"]: m for m in implementation["milestones"]}
    assert list(milestones) == ["review-2025Q1", "review-2025Q2", "review-2025Q3", "review-2025Q4", "evaluation-2025",
                                "acceptance-2025"]
    assert all(m["type"] == "assessment" for m in milestones.values())
    assert all(m["status"] == "met" for key, m in milestones.items() if key != "acceptance-2025")
    assert milestones["acceptance-2025"]["status"] == "scheduled"  # no 履约验收 concluded yet
    evaluation = published["evaluation"]
    assert f"年度得分 {evaluation.figures.score} 分" in milestones["evaluation-2025"]["description"]


def test_kpi_targets_are_agreed_metrics_and_results_are_observations(published):
    contract = published["package"]["releases"][0]["contracts"][0]
    agreed = {metric["id"]: metric for metric in contract["agreedMetrics"]}
    assert agreed["kpi-completion"]["observations"][0]["measure"] == 0.98
    assert agreed["volume-household_survey"]["observations"][0]["measure"] == 100
    results = {metric["id"]: metric for metric in contract["implementation"]["metrics"]}
    completion = results["kpi-completion"]["observations"]
    assert [o["dimensions"]["quarter"] for o in completion] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert completion[0]["measure"] == 0.98 and completion[0]["relatedImplementationMilestone"]["id"] == "review-2025Q1"
    assert [o["measure"] for o in results["quarterly-score"]["observations"]] == [
        float(review.figures.total) for review in published["reviews"]]
    assert results["annual-score"]["observations"][0]["measure"] == float(published["evaluation"].figures.score)
    rectification = results["kpi-rectification"]["observations"][0]
    assert "measure" not in rectification and "无此类事项" in rectification["notes"]


def test_no_personal_data_goes_out(published):
    text = json.dumps(published["package"], ensure_ascii=False)
    subject, contract = published["subject"], published["contract"]
    worker = published["record"].worker
    personal = [subject.name, subject.id_number, subject.masked_id_number, subject.phone, worker.name,
                worker.worker_no, contract.contractor.contact_person, contract.contractor.contact_phone,
                "李四", "张敏", "卧床"]
    assert [value for value in personal if value in text] == []


def test_unapproved_quarters_are_scheduled_and_a_draft_correction_is_not_published(factory):
    contract = factory.contract()
    make_review(contract, "2025Q1")
    make_review(contract, "2025Q1", status="draft", revision=2)
    make_review(contract, "2025Q2", status="published")
    package = ocds.build_package(2025, "https://oversight.example/ocds.json", today=TODAY)
    implementation = package["releases"][0]["contracts"][0]["implementation"]
    statuses = {m["id"]: m["status"] for m in implementation["milestones"]}
    assert statuses == {"review-2025Q1": "met", "review-2025Q2": "scheduled", "review-2025Q3": "scheduled",
                        "review-2025Q4": "scheduled", "evaluation-2025": "scheduled", "acceptance-2025": "scheduled"}
    assert "第 1 版" in implementation["milestones"][0]["description"]
    assert [o["id"] for o in implementation["metrics"][0]["observations"]] == ["quarterly-score-2025Q1"]
    assert db.session.query(QuarterlyReview).count() == 3


def test_a_year_without_contracts_has_nothing_to_publish(app):
    with pytest.raises(ocds.NothingToPublish):
        ocds.build_package(2019, "https://oversight.example/ocds.json", today=TODAY)


def test_the_validator_applies_the_metrics_extension_and_the_core_rules(published):
    package = published["package"]
    broken = copy.deepcopy(package)
    broken["releases"][0]["contracts"][0]["agreedMetrics"][0].pop("id")
    assert ocds.validation_errors(broken) == ["releases/0/contracts/0/agreedMetrics/0: 'id' is a required property"]
    broken = copy.deepcopy(package)
    broken["releases"][0]["contracts"][0]["implementation"]["milestones"][0]["status"] = "done"
    broken["releases"][0]["contracts"][0]["value"]["currency"] = "RMB"
    del broken["publisher"]
    assert len(ocds.validation_errors(broken)) == 3
    assert ocds.package_validator().schema["id"].endswith("/1__1__5/release-package-schema.json")


def test_export_ocds_command_writes_a_valid_package(app, tmp_path, published):
    out = tmp_path / "ocds-2025.json"
    result = app.test_cli_runner().invoke(args=["export-ocds", "--year", "2025", "--out", str(out)])
    assert result.exit_code == 0, result.output
    package = json.loads(out.read_text(encoding="utf-8"))
    assert ocds.validation_errors(package) == []
    assert package["releases"][0]["ocid"].endswith(published["contract"].code)
    empty = app.test_cli_runner().invoke(args=["export-ocds", "--year", "2019", "--out", str(tmp_path / "e.json")])
    assert empty.exit_code != 0 and "无可发布的数据" in empty.output
