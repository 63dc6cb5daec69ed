"""Pages through Flask's test client: each role's work, validation messages, masking, paging."""
import re
from datetime import date

from sqlalchemy import select

from oversight.extensions import db
from oversight.models import Assignment, AuditEvent, Contract, Contractor, Subject
from oversight.web.forms_common import RETYPE_MESSAGE
from tests.factories import valid_credit_code


def test_every_role_sees_its_dashboard(client_for, factory):
    contractor = factory.contractor()
    factory.contract(contractor)
    for user in (factory.user("admin"), factory.user("supervisor"), factory.user("auditor"),
                 factory.user("contractor", contractor)):
        page = client_for(user).get("/dashboard")
        assert page.status_code == 200
        assert "合同执行情况" in page.get_data(as_text=True)


def test_admin_registers_a_contractor_with_a_valid_credit_code(client_for, factory):
    client = client_for(factory.user("admin"))
    response = client.post("/contractors/new", {
        "name": "赣县区同心社会工作服务中心", "credit_code": valid_credit_code(777).lower(),
        "contact_person": "刘洋", "contact_phone": "13907971234"}, token_from="/contractors/new")
    assert response.status_code == 302
    contractor = db.session.execute(select(Contractor).where(Contractor.name == "赣县区同心社会工作服务中心")).scalar_one()
    assert contractor.credit_code == valid_credit_code(777)


def test_a_bad_credit_code_is_refused_with_the_reason(client_for, factory):
    client = client_for(factory.user("admin"))
    response = client.post("/contractors/new", {
        "name": "某机构", "credit_code": "91350100M000100Y4Z", "contact_person": "刘洋",
        "contact_phone": "12345"}, token_from="/contractors/new", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/contractors/new" and 'value="某机构"' in page
    assert "统一社会信用代码含有无效字符" in page and "手机号应为" in page
    assert db.session.execute(select(Contractor)).first() is None


def test_admin_creates_a_contract_with_service_lines(client_for, factory):
    contractor = factory.contractor()
    client = client_for(factory.user("admin"))
    response = client.post("/contracts/new", {
        "code": "GX-2026-001", "title": "2026年家计调查与照料服务", "contractor_id": contractor.id,
        "procurement_method": "竞争性磋商", "amount_fen": "1,234,567.89", "term_start": "2026-01-01",
        "term_end": "2026-12-31", "performance_share": "30", "sampling_kind": "share", "sampling_share": "5",
        "sampling_floor": "5", "sampling_aql": "2.5", "household_survey_target": "1200",
        "self_care_assessment_target": "0", "care_visit_target": "400", "care_visits_per_month": "2",
    }, token_from="/contracts/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    contract = db.session.execute(select(Contract).where(Contract.code == "GX-2026-001")).scalar_one()
    assert contract.amount_fen == 123456789
    assert contract.performance_share_bp == 3000
    assert {(line.service_type, line.annual_target, line.visits_per_month) for line in contract.service_lines} == {
        ("household_survey", 1200, 1), ("care_visit", 400, 2)}
    assert contract.sampling_rule == {"kind": "share", "share": "0.05", "floor": 5}


def test_contract_amount_with_three_decimals_is_refused(client_for, factory):
    contractor = factory.contractor()
    client = client_for(factory.user("admin"))
    response = client.post("/contracts/new", {
        "code": "GX-2026-002", "title": "t", "contractor_id": contractor.id, "procurement_method": "询价",
        "amount_fen": "100.123", "term_start": "2026-01-01", "term_end": "2026-12-31", "performance_share": "30",
        "sampling_kind": "share", "household_survey_target": "10"}, token_from="/contracts/new", follow_redirects=True)
    assert "最多两位小数" in response.get_data(as_text=True)


def test_subject_id_numbers_and_phones_are_masked_in_lists_and_pages(client_for, factory):
    subject = factory.subject(name="王秀英")
    client = client_for(factory.user("supervisor"))
    for url in ("/subjects/", f"/subjects/{subject.id}"):
        page = client.get(url).get_data(as_text=True)
        assert subject.id_number not in page and subject.masked_id_number in page
        assert subject.phone not in page


def test_revealing_the_full_id_number_is_audited(client_for, factory):
    subject = factory.subject()
    user = factory.user("supervisor")
    client = client_for(user)
    response = client.post(f"/subjects/{subject.id}/reveal", token_from=f"/subjects/{subject.id}")
    assert response.status_code == 303
    revealed = client.get(response.headers["Location"])
    assert subject.id_number in revealed.get_data(as_text=True) and subject.phone in revealed.get_data(as_text=True)
    assert revealed.headers["Cache-Control"] == "no-store"
    reloaded = client.get(f"/subjects/{subject.id}").get_data(as_text=True)
    assert subject.id_number not in reloaded and subject.masked_id_number in reloaded
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "view_personal_data")).scalar_one()
    assert event.actor == user.username and event.object_id == str(subject.id)


def test_subject_form_refuses_a_bad_id_number(client_for, factory):
    client = client_for(factory.user("supervisor"))
    response = client.post("/subjects/new", {
        "kind": "household", "name": "李四", "id_number": "110105194912310021", "township": "梅林镇",
        "village": "梅林村", "category": "低保"}, token_from="/subjects/new")
    assert response.status_code == 303 and response.headers["Location"] == "/subjects/new"
    page = client.get("/subjects/new").get_data(as_text=True)
    # The form comes back as typed, with its error, from a GET: Back and reload post nothing. The
    # ID number is typed again: it never waits in the (signed, readable) session cookie.
    assert "身份证号校验位错误" in page and 'value="李四"' in page and "110105194912310021" not in page
    assert RETYPE_MESSAGE in page
    assert "身份证号校验位错误" not in client.get("/subjects/new").get_data(as_text=True)
    assert db.session.execute(select(Subject)).first() is None


def test_supervisor_issues_an_assignment_by_id_number(client_for, factory):
    contract = factory.contract(term_start=date(2025, 1, 1), term_end=date(2030, 12, 31))
    subject = factory.subject("household")
    client = client_for(factory.user("supervisor"))
    response = client.post("/assignments/new", {
        "contract_id": contract.id, "service_type": "household_survey", "subject_id_number": subject.id_number,
        "due_date": "2030-06-30", "number": ""}, token_from="/assignments/new")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已派发" in page and subject.name in page


def test_assignment_for_a_service_the_contract_lacks_is_refused(client_for, factory):
    contract = factory.contract(service_types=("household_survey",))
    person = factory.subject("person")
    client = client_for(factory.user("supervisor"))
    response = client.post("/assignments/new", {
        "contract_id": contract.id, "service_type": "care_visit", "subject_id_number": person.id_number,
        "due_date": "2025-06-30"}, token_from="/assignments/new")
    assert response.status_code == 303
    page = client.get("/assignments/new").get_data(as_text=True)
    assert "该合同不包含所选服务" in page
    assert db.session.execute(select(Assignment)).first() is None


def test_the_issuing_form_offers_only_the_chosen_contracts_services(client_for, factory):
    surveys = factory.contract(service_types=("household_survey",))
    care = factory.contract(service_types=("self_care_assessment", "care_visit"))
    client = client_for(factory.user("supervisor"))
    offered = re.compile(r'<select[^>]*id="service_type"[^>]*>(.*?)</select>', re.S)
    for contract, services in ((surveys, ["家计调查"]), (care, ["自理能力评估", "照料护理"])):
        page = client.get(f"/assignments/new?contract={contract.id}").get_data(as_text=True)
        assert re.findall(r">([^<]+)</option>", offered.search(page).group(1)) == services
        listed = re.search(rf'value="{contract.id}" data-services="([^"]*)"|data-services="([^"]*)"[^>]*value="{contract.id}"',
                           page)
        assert set(" ".join(filter(None, listed.groups())).split()) == set(contract.service_types)


def test_assignment_list_filters_and_pages(client_for, factory):
    contract = factory.contract(service_types=("household_survey", "care_visit"))
    meilin = [factory.assignment(contract, factory.subject("household", township="梅林镇"),
                                 due_date=date(2025, 3, 10)) for _ in range(55)]
    other = factory.assignment(contract, factory.subject("household", township="江口镇"), due_date=date(2025, 3, 11))
    care = factory.assignment(contract, factory.subject("person", township="茅店镇"), service_type="care_visit",
                              due_date=date(2025, 4, 2), status="completed")
    client = client_for(factory.user("supervisor"))

    first = client.get("/assignments/?township=梅林镇").get_data(as_text=True)
    assert "第 1 / 2 页，共 55 条" in first and other.number not in first
    second = client.get("/assignments/?township=梅林镇&page=2").get_data(as_text=True)
    assert second.count("RW20250101-") == 5

    by_month = client.get("/assignments/?due_month=2025-04").get_data(as_text=True)
    assert care.number in by_month and meilin[0].number not in by_month
    by_status = client.get("/assignments/?status=completed&service_type=care_visit").get_data(as_text=True)
    assert care.number in by_status and other.number not in by_status
    by_contract = client.get(f"/assignments/?contract={contract.id}&township=江口镇").get_data(as_text=True)
    assert other.number in by_contract and "共 1 条" in by_contract


def test_admin_creates_a_contractor_user_who_then_logs_in(app, client_for, factory):
    from tests.conftest import Client

    contractor = factory.contractor()
    client = client_for(factory.user("admin"))
    response = client.post("/users/new", {"username": "tongxin01", "display_name": "陈静", "role": "contractor",
                                          "contractor_id": contractor.id, "password": "s3cret-pass"},
                           token_from="/users/new")
    assert response.status_code == 302
    assert Client(app).login("tongxin01", "s3cret-pass").status_code == 302


def test_a_credit_code_already_registered_is_refused_but_a_contractor_keeps_its_own(client_for, factory):
    first, second = factory.contractor(name="甲机构"), factory.contractor(name="乙机构")
    client = client_for(factory.user("admin"))
    form = {"name": "乙机构", "credit_code": first.credit_code, "contact_person": "刘洋", "contact_phone": "13907971234"}
    url = f"/contractors/{second.id}/edit"
    assert "该统一社会信用代码已登记" in client.post(url, form, token_from=url, follow_redirects=True).get_data(as_text=True)
    form["credit_code"] = second.credit_code
    assert client.post(url, form, token_from=url).status_code == 302
