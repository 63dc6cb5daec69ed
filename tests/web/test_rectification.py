"""Rectification pages: rounds, escalation to the admin, the printable notice, the proposed deduction."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from oversight.adapters.files import LocalFileStore
from oversight.clock import county_today
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import ProposedDeduction, QuarterlyReview, RectificationNotice
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.spot_checks import issue_notice, record_spot_check

from tests.checks_support import AFTER_Q3, add_records
from tests.performance_support import build_quarter


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(factory, tmp_path):
    ours = factory.contractor(name="本方机构", workers=1)
    contract = factory.contract(ours)
    add_records(contract, {0: 6})
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="w").draws[0]
    supervisor = factory.user("supervisor")
    today = county_today()
    check = record_spot_check(draw.items[0], checker=supervisor, method="入户复核", checked_on=today,
                              values={"household_size": 3, "survey_conclusion": "不符合"}, note=None, uploads=[],
                              store=LocalFileStore(tmp_path), today=today)
    notice = issue_notice(check, deadline=today + timedelta(days=10), requirement="请更正", issuer=supervisor,
                          today=today)
    db.session.commit()
    return {"notice": notice, "contract": contract, "supervisor": supervisor, "admin": factory.user("admin"),
            "contractor_user": factory.user("contractor", ours),
            "other_user": factory.user("contractor", factory.contractor())}


def close_not_accepted(client, notice_id):
    url = f"/spot-checks/notices/{notice_id}"
    return client.post(f"{url}/close", {"outcome": "not_accepted", "closing_note": "材料不全"}, token_from=url)


def test_two_rounds_not_accepted_reach_the_admin(client_for, world):
    supervisor, admin = client_for(world["supervisor"]), client_for(world["admin"])
    first = world["notice"]
    response = close_not_accepted(supervisor, first.id)
    second = db.session.execute(select(RectificationNotice).where(RectificationNotice.round == 2)).scalar_one()
    assert response.headers["Location"].endswith(f"/spot-checks/notices/{second.id}")
    page = text(supervisor.get(f"/spot-checks/notices/{second.id}"))
    assert second.number in page and first.number in page and "第2轮" in page
    assert 'id="escalated-notices" href="/spot-checks/notices/?escalated=1">0<' in text(admin.get("/dashboard"))
    close_not_accepted(supervisor, second.id)
    assert db.session.execute(select(RectificationNotice).where(RectificationNotice.round == 3)).first() is None
    assert 'href="/spot-checks/notices/?escalated=1">1<' in text(admin.get("/dashboard"))
    assert second.number in text(admin.get("/spot-checks/notices/?escalated=1"))
    assert "经2轮整改仍不合格" in text(admin.get("/notifications/"))
    url = f"/spot-checks/notices/{second.id}"
    assert "记录处理意见" in text(admin.get(url))
    assert supervisor.post(f"{url}/escalation", {"escalation_note": "约谈"}, token_from=url).status_code == 403
    admin.post(f"{url}/escalation", {"escalation_note": "已约谈机构负责人"}, token_from=url)
    assert "已约谈机构负责人" in text(admin.get(url))
    assert 'href="/spot-checks/notices/?escalated=1">0<' in text(admin.get("/dashboard"))
    assert db.session.execute(select(ProposedDeduction)).scalar_one().notice_id == second.id


def test_the_printable_notice_is_the_owners_only(client_for, world):
    notice = world["notice"]
    own = client_for(world["contractor_user"])
    docx = own.get(f"/spot-checks/notices/{notice.id}/document.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    pdf = own.get(f"/spot-checks/notices/{notice.id}/document.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert client_for(world["other_user"]).get(f"/spot-checks/notices/{notice.id}/document.pdf").status_code == 404


def test_the_supervisor_confirms_a_proposed_deduction_on_the_draft(client_for, factory):
    contract = factory.contract(factory.contractor(), term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    supervisor = factory.user("supervisor")
    data = build_quarter(contract, supervisor)
    client = client_for(supervisor)
    client.post("/reviews/score", {"quarter": "2025Q3", "contract_id": contract.id}, token_from="/reviews/")
    review = db.session.execute(select(QuarterlyReview)).scalar_one()
    proposal = ProposedDeduction(contract_id=contract.id, quarter="2025Q3", notice_id=data.notices[2].id,
                                 points_centi=-200, reason="整改通知经2轮整改仍不合格", status="proposed")
    db.session.add(proposal)
    db.session.commit()
    url = f"/reviews/{review.id}"
    page = text(client.get(url))
    assert "整改扣分建议" in page and "确认扣分" in page
    assert client_for(factory.user("auditor")).post(f"{url}/deductions/{proposal.id}/confirm",
                                                    token_from="/dashboard").status_code == 403
    client.post(f"{url}/deductions/{proposal.id}/confirm", token_from=url)
    db.session.expire_all()
    assert str(db.session.get(QuarterlyReview, review.id).figures.total) == "56.35"
    assert db.session.get(ProposedDeduction, proposal.id).status == "confirmed"
