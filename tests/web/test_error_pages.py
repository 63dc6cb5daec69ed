"""403 and 404 pages say why and what the user can do next: back to the dashboard or the list,
or log in as another user (and come back to the refused page)."""
from __future__ import annotations

import re

from tests.conftest import Client
from tests.factories import Factory


def _links(page: str) -> dict[str, str]:
    """The next-steps list's links, text → href."""
    steps = page[page.index('id="next-steps"'):]
    return {text: href for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', steps[:steps.index("</ul>")])}


def test_a_forbidden_page_names_the_role_and_leads_back(client_for, factory):
    auditor = factory.user("auditor")
    response = client_for(auditor).get("/users/")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert f"您当前以“{auditor.display_name}”（审计人员）登录" in page
    assert _links(page)["返回我的工作台"] == "/dashboard"
    assert "到用户列表查找" not in page  # the list itself is what the role may not use
    assert "退出并以其他用户身份登录" in page and 'name="next" value="/users/"' in page


def test_a_missing_record_points_to_its_list(client_for, factory):
    contract = factory.contract()
    client = client_for(factory.user("supervisor"))
    response = client.get(f"/contracts/{contract.id + 1000}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert _links(page) == {"返回我的工作台": "/dashboard", "到合同列表查找": "/contracts/"}


def test_a_contractor_is_told_the_record_may_belong_to_another(client_for, factory):
    theirs = factory.contract()
    mine = factory.contractor("赣县区阳光社会工作服务中心")
    page = client_for(factory.user("contractor", mine)).get(f"/contracts/{theirs.id}").get_data(as_text=True)
    assert "或它不属于赣县区阳光社会工作服务中心" in page
    assert theirs.code not in page


def test_logging_in_as_another_user_returns_to_the_refused_page(app, client_for, factory):
    client = client_for(factory.user("auditor"))
    refused = client.get("/users/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', refused.get_data(as_text=True)).group(1)
    out = client.post("/logout", {"csrf_token": token, "next": "/users/"})
    assert out.status_code == 302 and out.headers["Location"] == "/login?next=/users/"

    admin = factory.user("admin")
    login = client.csrf_token("/login?next=/users/")
    back = client._request("post", "/login?next=/users/", data={
        "username": admin.username, "password": Factory.PASSWORD, "csrf_token": login})
    assert back.headers["Location"] == "/users/"
    assert client.get("/users/").status_code == 200


def test_a_logout_never_sends_the_browser_off_site(client_for, factory):
    client = client_for(factory.user("supervisor"))
    out = client.post("/logout", {"next": "//evil.example/"})
    assert out.headers["Location"] == "/login"


def test_an_unknown_address_offers_the_login_to_a_visitor(app):
    page = Client(app).get("/no-such-page").get_data(as_text=True)
    assert _links(page) == {"登录": "/login?next=/no-such-page"}
