"""The dashboard counts the work waiting on each side: checks and callbacks for the bureau,
rectification notices for both, unread notices for everyone."""
import re
from datetime import date

from oversight.adapters.files import LocalFileStore
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.services.draws import make_draws
from oversight.services.spot_checks import assign_items, issue_notice, record_spot_check
from tests.checks_support import AFTER_Q3, add_records


def _stat(page: str, label: str) -> int:
    match = re.search(r'<div class="num">(?:<a [^>]*>)?(\d+)(?:</a>)?</div><div class="label">' + re.escape(label), page)
    assert match, label
    return int(match.group(1))


def test_dashboards_count_pending_checks_and_overdue_notices(client_for, factory):
    contractor = factory.contractor(workers=2)
    contract = factory.contract(contractor)
    add_records(contract, {0: 10, 1: 10})
    supervisor = factory.user("supervisor")
    draw = make_draws("spot_check", Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="d").draws[0]
    assign_items(draw, [item.id for item in draw.items[:3]], supervisor)
    failing = draw.items[0]
    check = record_spot_check(failing, checker=supervisor, method="入户复核", checked_on=AFTER_Q3,
                              values={"household_size": 5, "annual_income_fen": 9_000_000,
                                      "survey_conclusion": "不符合"},
                              note=None, uploads=[], store=LocalFileStore("/nonexistent"), today=AFTER_Q3)
    issue_notice(check, deadline=date(2025, 10, 20), requirement="重新入户核实", issuer=supervisor, today=AFTER_Q3)
    db.session.commit()

    staff_page = client_for(supervisor).get("/dashboard").get_data(as_text=True)
    assert _stat(staff_page, "待我复核的抽查") == 2
    assert _stat(staff_page, "未结整改通知") == 1
    # The deadline (2025-10-20) has long passed by the real today.
    assert _stat(staff_page, "逾期整改通知") == 1

    contractor_page = client_for(factory.user("contractor", contractor)).get("/dashboard").get_data(as_text=True)
    assert _stat(contractor_page, "未结整改通知") == 1
    # A contractor never learns how many of its records were drawn.
    assert "待我复核的抽查" not in contractor_page and "电话回访" not in contractor_page

    other = factory.contractor()
    assert _stat(client_for(factory.user("contractor", other)).get("/dashboard").get_data(as_text=True),
                 "未结整改通知") == 0
