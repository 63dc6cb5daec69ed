"""The OCDS implementation stage of the payment schedule and the 履约验收: installments and the
acceptance as milestones, paid installments as transactions; the package still schema-valid."""
from datetime import date

from oversight.exports import ocds
from oversight.extensions import db
from oversight.services import acceptances, installments
from tests.exports_support import make_evaluation, make_review

TODAY = date(2026, 3, 1)
URI = "https://oversight.example/ocds.json"


def test_installments_and_the_acceptance_are_milestones_and_paid_installments_transactions(factory):
    admin = factory.user("admin")
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    for quarter in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        make_review(contract, quarter)
    evaluation = make_evaluation(contract, 2025, approver=factory.user("admin"))
    advance = installments.add_installment(contract, title="首期预付款", kind="advance", condition="date",
                                           amount_fen=12_345_67, share_bp=None, year=None, due_on=date(2025, 1, 15),
                                           user=admin)
    installments.pay_installment(advance, date(2025, 1, 20), admin, TODAY)
    installments.add_installment(contract, title="验收后进度款", kind="progress", condition="acceptance",
                                 amount_fen=None, share_bp=1000, year=2025, due_on=None, user=admin)
    share = installments.add_installment(contract, title="2025年度履约绩效款", kind="performance",
                                         condition="evaluation", amount_fen=None, share_bp=None, year=2025,
                                         due_on=None, user=admin)
    installments.pay_installment(share, date(2026, 1, 25), admin, TODAY)
    acceptance = acceptances.open_acceptance(contract, 2025, admin)
    acceptances.add_member(acceptance, "李明", "leader", "县民政局")
    acceptances.add_member(acceptance, "王芳", "recipient", None)
    acceptances.conclude(acceptance, conclusion="unqualified", opinion="未达目标", accepted_on=date(2026, 1, 5),
                         user=admin, today=TODAY)
    db.session.commit()

    package = ocds.build_package(2025, URI, today=TODAY)
    assert ocds.validation_errors(package) == []
    implementation = package["releases"][0]["contracts"][0]["implementation"]
    milestones = {m["id"]: m for m in implementation["milestones"]}
    assert [(m["type"], m["status"]) for key, m in milestones.items() if key.startswith(("installment", "acceptance"))] == [
        ("financing", "met"), ("financing", "notMet"), ("financing", "met"), ("assessment", "notMet")]
    assert milestones["installment-1"]["dateMet"].startswith("2025-01-20")
    assert milestones["installment-2"]["description"].startswith("进度款") and "暂扣" in milestones["installment-2"]["description"]
    payable = evaluation.figures.payment.remaining_fen
    assert f"应付 {ocds._amount(payable)} 元" in milestones["installment-3"]["description"]
    assert milestones["acceptance-2025"]["description"] == "验收结论：不合格"
    # The advance paid in 2025 is one transaction, named by its installment, not twice; the 2025
    # performance share paid in January 2026 goes with the year it settles.
    assert [(t["id"], t["date"][:10], t["value"]["amount"]) for t in implementation["transactions"]] == [
        ("installment-1-payment", "2025-01-20", 12345.67),
        ("installment-3-payment", "2026-01-25", ocds._amount(payable))]
