"""Every access rule: ownership answers 404, roles answer 403, and no form works without CSRF."""
import pytest
from sqlalchemy import func, select

from oversight.extensions import db
from oversight.models import AuditEvent, Contract


@pytest.fixture
def world(factory):
    """Two contractors, each with a contract, a subject and an assignment, and a user each."""
    ours, theirs = factory.contractor(name="本方机构"), factory.contractor(name="他方机构")
    our_contract = factory.contract(ours, code="OURS-1")
    their_contract = factory.contract(theirs, code="THEIRS-1")
    our_assignment = factory.assignment(our_contract)
    their_assignment = factory.assignment(their_contract)
    return {
        "ours": ours, "theirs": theirs, "our_contract": our_contract, "their_contract": their_contract,
        "our_assignment": our_assignment, "their_assignment": their_assignment,
        "contractor_user": factory.user("contractor", ours),
        "auditor": factory.user("auditor"), "supervisor": factory.user("supervisor"), "admin": factory.user("admin"),
    }


def test_contractor_sees_its_own_records(client_for, world):
    client = client_for(world["contractor_user"])
    assert client.get(f"/contracts/{world['our_contract'].id}").status_code == 200
    assert client.get(f"/assignments/{world['our_assignment'].id}").status_code == 200
    assert client.get(f"/subjects/{world['our_assignment'].subject_id}").status_code == 200
    assert client.get(f"/contractors/{world['ours'].id}").status_code == 200


@pytest.mark.parametrize("url", [
    "/contracts/{their_contract.id}",
    "/assignments/{their_assignment.id}",
    "/subjects/{their_assignment.subject_id}",
    "/contractors/{theirs.id}",
    "/assignments/?contract={their_contract.id}",
    "/contracts/999999",
])
def test_contractor_gets_404_for_anything_of_another_contractor(client_for, world, url):
    client = client_for(world["contractor_user"])
    assert client.get(url.format(**world)).status_code == 404


def test_contractor_lists_show_only_its_own_records(client_for, world):
    client = client_for(world["contractor_user"])
    contracts = client.get("/contracts/").get_data(as_text=True)
    assert "OURS-1" in contracts and "THEIRS-1" not in contracts
    assignments = client.get("/assignments/").get_data(as_text=True)
    assert world["our_assignment"].number in assignments
    assert world["their_assignment"].number not in assignments
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "OURS-1" in dashboard and "THEIRS-1" not in dashboard


@pytest.mark.parametrize("url", ["/users/", "/audit/", "/imports/", "/contracts/new", "/contractors/new",
                                 "/assignments/new", "/subjects/new"])
def test_contractor_cannot_reach_bureau_pages(client_for, world, url):
    assert client_for(world["contractor_user"]).get(url).status_code == 403


def test_auditor_reads_everything(client_for, world):
    client = client_for(world["auditor"])
    for url in ("/contracts/", f"/contracts/{world['their_contract'].id}", "/assignments/", "/subjects/", "/audit/",
                "/audit/verify", f"/assignments/{world['our_assignment'].id}"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("url", ["/contractors/new", "/contracts/{our_contract.id}/edit",
                                 "/assignments/{our_assignment.id}/cancel", "/subjects/new", "/users/new"])
def test_auditor_cannot_change_anything(client_for, world, url):
    client = client_for(world["auditor"])
    before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    response = client.post(url.format(**world), {"code": "X", "title": "篡改", "name": "篡改"})
    assert response.status_code == 403
    after = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert after == before


def test_supervisor_cannot_manage_users_or_contracts(client_for, world):
    client = client_for(world["supervisor"])
    assert client.get("/users/").status_code == 403
    assert client.get("/contracts/new").status_code == 403
    assert client.get("/assignments/new").status_code == 200


def test_post_without_csrf_token_is_refused(app, client_for, world):
    client = client_for(world["admin"])
    with app.app_context():
        response = client.http.post(f"/assignments/{world['our_assignment'].id}/cancel", data={})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(type(world["our_assignment"]), world["our_assignment"].id).status == "assigned"


def test_post_with_csrf_token_works(client_for, world):
    client = client_for(world["admin"])
    response = client.post(f"/assignments/{world['our_assignment'].id}/cancel")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(world["our_assignment"]), world["our_assignment"].id).status == "cancelled"


def test_login_form_itself_requires_csrf(app, world):
    response = app.test_client().post("/login", data={"username": world["admin"].username, "password": "x"})
    assert response.status_code == 400


def test_contract_count_unchanged_by_refused_requests(client_for, world):
    client = client_for(world["contractor_user"])
    client.post("/contracts/new", {"code": "NEW"})
    assert db.session.execute(select(func.count()).select_from(Contract)).scalar_one() == 2
