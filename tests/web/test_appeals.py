"""Appeal pages: who files, who decides, who sees what."""
from datetime import date

import pytest
from sqlalchemy import select

from oversight.adapters.files import LocalFileStore
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.models import Appeal
from oversight.clock import utcnow
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.clock import local_day
from oversight.services.spot_checks import record_spot_check

from tests.checks_support import AFTER_Q3, add_records


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(factory, tmp_path):
    ours, theirs = factory.contractor(name="本方机构", workers=1), factory.contractor(name="他方机构")
    contract = factory.contract(ours, code="OURS-1")
    add_records(contract, {0: 6}, financial_assets_fen=300_000)
    draw = make_draws(SPOT_CHECK, Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="web").draws[0]
    checker = factory.user("supervisor")
    today = local_day(utcnow())
    check = record_spot_check(draw.items[0], checker=checker, method="入户复核", checked_on=today,
                              values={"household_size": 3, "survey_conclusion": "不符合"}, note=None, uploads=[],
                              store=LocalFileStore(tmp_path), today=today)
    db.session.commit()
    return {"check": check, "checker": checker, "other": factory.user("supervisor"),
            "auditor": factory.user("auditor"), "contractor_user": factory.user("contractor", ours),
            "other_user": factory.user("contractor", theirs)}


def file_appeal(client, check) -> Appeal:
    url = f"/appeals/checks/{check.id}/new"
    response = client.post(url, {"reason": "对象当日外出务工，调查结论无误"}, token_from=url)
    assert response.status_code == 302, text(response)
    return db.session.execute(select(Appeal)).scalar_one()


def test_the_contractor_lists_its_failed_check_and_files_an_appeal(client_for, world):
    contractor = client_for(world["contractor_user"])
    listing = text(contractor.get("/appeals/"))
    assert f"/appeals/checks/{world['check'].id}/new" in listing
    page = text(contractor.get(f"/appeals/checks/{world['check'].id}/new"))
    assert "调查结论" in page and "申诉期至" in page
    appeal = file_appeal(contractor, world["check"])
    assert appeal.status == "filed" and appeal.filed_by_id == world["contractor_user"].id
    detail = text(contractor.get(f"/appeals/{appeal.id}"))
    assert "对象当日外出务工" in detail and "提交裁决" not in detail


def test_another_contractor_never_learns_the_appeal_exists(client_for, world):
    appeal = file_appeal(client_for(world["contractor_user"]), world["check"])
    stranger = client_for(world["other_user"])
    assert stranger.get(f"/appeals/{appeal.id}").status_code == 404
    assert stranger.get(f"/appeals/checks/{world['check'].id}/new").status_code == 404
    assert f"/appeals/{appeal.id}" not in text(stranger.get("/appeals/"))
    url = f"/appeals/checks/{world['check'].id}/new"
    assert stranger.post(url, {"reason": "冒名申诉"}, token_from="/appeals/").status_code == 404


def test_the_checker_sees_why_they_cannot_decide_and_is_refused(client_for, world):
    appeal = file_appeal(client_for(world["contractor_user"]), world["check"])
    checker = client_for(world["checker"])
    page = text(checker.get(f"/appeals/{appeal.id}"))
    assert "录入该复检的监管人员不能裁决" in page
    assert "提交裁决" not in page and "安排复核" not in page
    checker.post(f"/appeals/{appeal.id}/decide", {"decision": "upheld", "reason": "维持"},
                 token_from=f"/appeals/{appeal.id}")
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "filed"


def test_a_second_supervisor_decides_and_others_may_not_post(client_for, world):
    appeal = file_appeal(client_for(world["contractor_user"]), world["check"])
    url = f"/appeals/{appeal.id}/decide"
    form = {"decision": "overturned", "reason": "提供了务工证明"}
    assert client_for(world["contractor_user"]).post(url, form, token_from="/appeals/").status_code == 403
    assert client_for(world["auditor"]).post(url, form, token_from="/appeals/").status_code == 403
    other = client_for(world["other"])
    page = text(other.get(f"/appeals/{appeal.id}"))
    assert "提交裁决" in page and "安排复核" in page
    assert other.post(url, form, token_from=f"/appeals/{appeal.id}").status_code == 302
    db.session.expire_all()
    decided = db.session.get(Appeal, appeal.id)
    assert (decided.status, decided.decision, decided.decided_by_id) == ("decided", "overturned", world["other"].id)
    assert "改判为合格" in text(client_for(world["contractor_user"]).get(f"/appeals/{appeal.id}"))


def test_the_ordered_recheck_is_entered_by_its_assignee_blind(client_for, world):
    appeal = file_appeal(client_for(world["contractor_user"]), world["check"])
    other = client_for(world["other"])
    other.post(f"/appeals/{appeal.id}/order-recheck", {"assignee_id": world["other"].id},
               token_from=f"/appeals/{appeal.id}")
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "recheck_ordered"
    assert "录入复核结果" not in text(client_for(world["checker"]).get(f"/appeals/{appeal.id}"))
    page = text(other.get(f"/appeals/{appeal.id}"))
    assert "录入复核结果" in page
    today = local_day(utcnow()).isoformat()
    response = other.post(f"/appeals/{appeal.id}/recheck", {"method": "入户复核", "checked_on": today,
                                                            "household_size": "3", "survey_conclusion": "符合"},
                          token_from=f"/appeals/{appeal.id}")
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Appeal, appeal.id)
    assert stored.status == "rechecked" and stored.recheck_passed and stored.recheck_by_id == world["other"].id
    assert date.fromisoformat(today) == stored.recheck_on


def test_an_appeal_carries_its_evidence_for_both_sides_and_nobody_else(client_for, world):
    import io

    from oversight.models import Attachment

    contractor = client_for(world["contractor_user"])
    url = f"/appeals/checks/{world['check'].id}/new"
    pdf = b"%PDF-1.7\n" + b"0" * 200
    response = contractor.post(url, {"reason": "村委会出具了证明", "attachments": [(io.BytesIO(pdf), "证明.pdf")]},
                               token_from=url, content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    appeal = db.session.execute(select(Appeal)).scalar_one()
    (attachment,) = db.session.execute(select(Attachment)).scalars().all()
    assert (attachment.owner_type, attachment.owner_id, attachment.filename) == ("appeal", appeal.id, "证明.pdf")
    for user in ("other", "contractor_user"):
        client = client_for(world[user])
        assert "证明.pdf" in text(client.get(f"/appeals/{appeal.id}"))
        assert client.get(f"/attachments/{attachment.id}").data == pdf
    assert client_for(world["other_user"]).get(f"/attachments/{attachment.id}").status_code == 404
    refused = contractor.post(f"/appeals/{appeal.id}/attachments",
                              {"attachments": [(io.BytesIO(b"MZ not a pdf"), "x.pdf")]},
                              token_from=f"/appeals/{appeal.id}", content_type="multipart/form-data",
                              follow_redirects=True)
    assert "x.pdf" in text(refused)
    assert len(db.session.execute(select(Attachment)).scalars().all()) == 1
