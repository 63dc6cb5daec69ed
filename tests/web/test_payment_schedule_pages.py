"""付款计划 and 履约验收 pages: staff plan and conclude, the admin pays, a contractor reads its own
schedule and concluded acceptance only, other contractors get 404; refusals are in Chinese."""
from __future__ import annotations

import io
from datetime import date

from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from oversight.extensions import db
from oversight.models import ContractAcceptance, Installment, PaymentRecord


def _setting(factory):
    contractor = factory.contractor(name="赣县区仁和社会工作服务中心")
    contract = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    return {"contract": contract, "admin": factory.user("admin"), "supervisor": factory.user("supervisor"),
            "own": factory.user("contractor", contractor), "other": factory.user("contractor", factory.contractor()),
            "auditor": factory.user("auditor")}


def test_staff_plan_an_installment_the_admin_pays_it_and_the_finance_export_lists_it(client_for, factory):
    s = _setting(factory)
    contract = s["contract"]
    page = f"/payments/contracts/{contract.id}"
    supervisor = client_for(s["supervisor"])
    answer = supervisor.post(f"{page}/installments", {"title": "首期预付款", "kind": "advance", "condition": "date",
                                                       "amount_fen": "123,456.78", "due_on": "2025-01-15"},
                             token_from=page)
    assert answer.status_code == 302
    item = db.session.query(Installment).one()
    assert (item.amount_fen, item.due_on) == (12_345_678, date(2025, 1, 15))
    # Too much for the fixed part (1,200,000 × 70 % = 840,000 yuan): refused, the reason shown, nothing stored.
    refused = supervisor.post(f"{page}/installments", {"title": "进度款", "kind": "progress", "condition": "date",
                                                        "amount_fen": "800000", "due_on": "2025-06-30"},
                              token_from=page, follow_redirects=True)
    assert "超过合同固定部分 840,000.00 元" in refused.get_data(as_text=True)
    assert db.session.query(Installment).count() == 1
    assert supervisor.post(f"/payments/installments/{item.id}/pay", {"paid_on": "2025-01-20"},
                           token_from=page).status_code == 403

    admin = client_for(s["admin"])
    assert admin.post(f"/payments/installments/{item.id}/pay", {"paid_on": "2025-01-20"},
                      token_from=page).status_code == 302
    db.session.expire_all()
    assert db.session.query(PaymentRecord).one().amount_fen == 12_345_678
    shown = admin.get(page).get_data(as_text=True)
    assert "已支付" in shown and "123,456.78" in shown

    auditor = client_for(s["auditor"])
    export = auditor.get("/payments/export.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0][:7] == [contract.code, contract.title, "赣县区仁和社会工作服务中心", 1, "首期预付款", "预付款",
                           "约定日期已到"]
    assert rows[0][10] == 123456.78 and rows[0][12] == "已支付" and rows[-1][0] == "合计"
    assert auditor.post(f"/payments/installments/{item.id}/delete", token_from=page).status_code == 403


def test_a_contractor_reads_its_own_schedule_without_buttons_and_no_other(client_for, factory):
    s = _setting(factory)
    contract = s["contract"]
    client_for(s["supervisor"]).post(
        f"/payments/contracts/{contract.id}/installments",
        {"title": "首期预付款", "kind": "advance", "condition": "date", "amount_fen": "1000", "due_on": "2025-01-15"},
        token_from=f"/payments/contracts/{contract.id}")
    own = client_for(s["own"])
    page = own.get(f"/payments/contracts/{contract.id}").get_data(as_text=True)
    assert "首期预付款" in page and "可支付" in page and "登记付款" not in page and "添加付款分期" not in page
    assert own.get("/payments/export.xlsx").status_code == 403
    item = db.session.query(Installment).one()
    assert own.post(f"/payments/installments/{item.id}/hold", {"reason": "x"},
                    token_from="/payments/").status_code == 403
    assert client_for(s["other"]).get(f"/payments/contracts/{contract.id}").status_code == 404


def test_an_acceptance_refuses_a_team_without_recipients_then_concludes_and_prints(client_for, factory):
    s = _setting(factory)
    contract = s["contract"]
    supervisor = client_for(s["supervisor"])
    supervisor.post("/acceptance/open", {"contract_id": contract.id, "year": 2025}, token_from="/acceptance/")
    acceptance = db.session.query(ContractAcceptance).one()
    page = f"/acceptance/{acceptance.id}"
    supervisor.post(f"{page}/members", {"name": "李明", "role": "leader", "organisation": "县民政局"}, token_from=page)
    conclude = {"conclusion": "qualified", "opinion": "同意验收", "accepted_on": "2026-01-05"}
    refused = supervisor.post(f"{page}/conclude", conclude, token_from=page, follow_redirects=True)
    assert "验收小组中没有服务对象代表" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ContractAcceptance, acceptance.id).status == "draft"
    # A contractor does not see a draft acceptance at all.
    assert client_for(s["own"]).get(page).status_code == 404

    supervisor.post(f"{page}/members", {"name": "王芳", "role": "recipient", "organisation": "低保户代表"}, token_from=page)
    done = supervisor.post(f"{page}/conclude", conclude, token_from=page, follow_redirects=True).get_data(as_text=True)
    assert "已出具验收结论" in done and "合格" in done
    own = client_for(s["own"])
    assert "服务对象代表" in own.get(page).get_data(as_text=True)
    word = Document(io.BytesIO(own.get(f"{page}/document.docx").data))
    assert "验收结论：合格" in [p.text for p in word.paragraphs]
    pdf = own.get(f"{page}/document.pdf")
    assert pdf.mimetype == "application/pdf"
    assert "履约验收书" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert client_for(s["other"]).get(f"{page}/document.pdf").status_code == 404
    assert own.post(f"{page}/members", {"name": "x", "role": "other"}, token_from="/acceptance/").status_code == 403
