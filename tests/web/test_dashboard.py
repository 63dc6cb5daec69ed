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
from tests.exports_support import GOOD_QUARTER, make_review


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


TODAY = date(2025, 10, 15)  # AFTER_Q3: the dashboard's "previous quarter" is 2025Q3


def _freeze(monkeypatch, day: date = TODAY) -> None:
    """The dashboard and every list it links to on the same county day."""
    for module in ("dashboard", "assignments", "spot_checks"):
        monkeypatch.setattr(f"oversight.web.{module}.routes.county_today", lambda: day)


def _linked_counts(page: str) -> list[tuple[str, int]]:
    """(href, number) of every linked count in the dashboard's tiles (before its first table)."""
    tiles = page[:page.index("<h2>")]
    return [(href.replace("&amp;", "&"), int(number))
            for href, number in re.findall(r'<div class="num"><a (?:id="[^"]+" )?href="([^"]+)">(\d+)</a></div>', tiles)]


def _listed(client, href: str) -> int:
    """The number of rows the linked list says it holds ("共 N 条")."""
    page = client.get(href).get_data(as_text=True)
    match = re.search(r"共 (\d+) 条", page)
    assert match, href
    return int(match.group(1))


def test_every_count_leads_to_a_list_of_as_many(client_for, factory, monkeypatch):
    _freeze(monkeypatch, date(2025, 10, 25))
    contract = factory.contract()
    for due, status in ((date(2025, 10, 24), "assigned"), (date(2025, 10, 11), "overdue"),
                        (date(2025, 10, 26), "assigned"), (date(2025, 11, 1), "assigned"),
                        (date(2025, 11, 2), "assigned"), (date(2025, 9, 1), "completed"),
                        (date(2025, 9, 2), "cancelled")):
        factory.assignment(contract, due_date=due, status=status)
    add_records(contract, {0: 10, 1: 10})
    supervisor = factory.user("supervisor")
    draw = make_draws("spot_check", Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="d").draws[0]
    assign_items(draw, [item.id for item in draw.items[:3]], supervisor)
    check = record_spot_check(draw.items[0], checker=supervisor, method="入户复核", checked_on=AFTER_Q3,
                              values={"household_size": 5, "annual_income_fen": 9_000_000, "survey_conclusion": "不符合"},
                              note=None, uploads=[], store=LocalFileStore("/nonexistent"), today=AFTER_Q3)
    issue_notice(check, deadline=date(2025, 10, 20), requirement="重新入户核实", issuer=supervisor, today=AFTER_Q3)
    db.session.commit()
    client = client_for(supervisor)
    page = client.get("/dashboard").get_data(as_text=True)

    counts = _linked_counts(page)
    by_label = dict(zip(["待完成", "7天内", "逾期", "已完成", "已取消"], [n for _, n in counts[:5]]))
    # 20 completed records' assignments + 1; 10-26 and 11-01 within 7 days; one marked, one open past due.
    assert by_label == {"待完成": 4, "7天内": 2, "逾期": 2, "已完成": 21, "已取消": 1}
    # The callback draws' page counts its own way (per draw); the unread count lists the unread.
    checked = [(href, number) for href, number in counts if href != "/callbacks/"]
    assert len(checked) == len(counts) - 1 == 11 and ("/notifications/?unread=1", 0) in checked
    for href, number in checked:
        assert _listed(client, href) == number, href
    progress = re.findall(r'<td class="num"><a href="(/assignments/\?[^"]+)">(\d+)</a></td>', page)
    assert len(progress) == 3
    for href, number in progress:
        assert _listed(client, href.replace("&amp;", "&")) == int(number), href


def test_the_count_of_checks_waiting_on_me_drops_when_i_record_one(client_for, factory, monkeypatch):
    _freeze(monkeypatch)
    contract = factory.contract()
    add_records(contract, {0: 10, 1: 10})
    supervisor = factory.user("supervisor")
    draw = make_draws("spot_check", Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="d").draws[0]
    assign_items(draw, [item.id for item in draw.items[:3]], supervisor)
    db.session.commit()
    client = client_for(supervisor)
    assert _stat(client.get("/dashboard").get_data(as_text=True), "待我复核的抽查") == 3

    url = f"/spot-checks/items/{draw.items[0].id}/recheck"
    done = client.post(url, {"method": "入户复核", "checked_on": "2025-10-15", "household_size": "3",
                             "annual_income_fen": "24000.00", "financial_assets_fen": "5000.00",
                             "survey_conclusion": "符合"}, token_from=url)
    assert done.status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)
    assert _stat(page, "待我复核的抽查") == 2
    assert "共 " + str(len(draw.items) - 1) + " 条待复核" in page
    listed = client.get("/spot-checks/?view=mine").get_data(as_text=True)
    assert listed.count("录入复检</a>") == 2


def test_supervisor_and_admin_dashboards_warn_of_two_quarters_under_80(client_for, factory):
    weak, steady = factory.contract(), factory.contract()
    bad = GOOD_QUARTER | {"completion": (85, 100), "spot_check_pass": (7, 10)}
    for quarter in ("2025Q2", "2025Q3"):
        review = make_review(weak, quarter, counts=bad)
        assert review.total_centi < 8000
        make_review(steady, quarter)
    make_review(steady, "2025Q1", counts=bad)  # one weak quarter raises nothing
    for role in ("supervisor", "admin"):
        page = client_for(factory.user(role)).get("/dashboard").get_data(as_text=True)
        warnings = re.findall(r'class="flash danger standing-warning".*?</div>', page)
        assert len(warnings) == 1
        assert f'/contracts/{weak.id}">{weak.code}</a>' in warnings[0] and "2025Q2、2025Q3" in warnings[0]
    draft = factory.contract()
    for quarter in ("2025Q2", "2025Q3"):
        make_review(draft, quarter, counts=bad, status="draft")  # drafts are no results yet
    page = client_for(factory.user("supervisor")).get("/dashboard").get_data(as_text=True)
    assert draft.code not in "".join(re.findall(r'standing-warning.*?</div>', page))


def test_a_contractor_sees_its_workers_results_deadlines_and_comment_windows(client_for, factory, monkeypatch):
    _freeze(monkeypatch)
    contractor = factory.contractor(workers=2)
    contract = factory.contract(contractor)
    add_records(contract, {0: 10, 1: 10})
    supervisor = factory.user("supervisor")
    draw = make_draws("spot_check", Quarter(2025, 3), today=AFTER_Q3, contract_id=contract.id, seed="d").draws[0]
    checked = draw.items[0]
    check = record_spot_check(checked, checker=supervisor, method="入户复核", checked_on=AFTER_Q3,
                              values={"household_size": 5, "annual_income_fen": 9_000_000, "survey_conclusion": "不符合"},
                              note=None, uploads=[], store=LocalFileStore("/nonexistent"), today=AFTER_Q3)
    notice = issue_notice(check, deadline=date(2025, 10, 25), requirement="重新入户核实", issuer=supervisor,
                          today=AFTER_Q3)
    review = make_review(contract, "2025Q3", status="published")
    review.comment_deadline = date(2025, 10, 20)
    closed = make_review(contract, "2025Q2", status="published")
    closed.comment_deadline = date(2025, 10, 14)  # the window ended yesterday
    db.session.commit()
    worker = checked.record.worker

    page = client_for(factory.user("contractor", contractor)).get("/dashboard").get_data(as_text=True)

    results = page[page.index('class="worker-results"'):]
    results = results[:results.index("</table>")]
    # One record checked, its three compared fields all wrong: too few records for the minimum,
    # but the Wilson lower bound of 3 in 3 (43.9 %) passes the 30 % threshold on its own.
    assert f"{worker.worker_no} {worker.name}" in results and "3/3，95% CI 43.9%" in results
    assert "需定向复查" in results
    other = [w for w in contractor.workers if w.id != worker.id][0]
    assert any(item.record.worker_id == other.id for item in draw.items)
    assert other.worker_no not in results  # drawn, not yet checked: nothing tells which records were drawn
    notices = page[page.index('id="open-notices"'):]
    assert f'/spot-checks/notices/{notice.id}">{notice.number}</a>' in notices[:notices.index("</table>")]
    windows = page[page.index('id="comment-windows"'):]
    windows = windows[:windows.index("</table>")]
    assert "意见截止（北京时间）" in windows and "2025-10-20 24:00" in windows and "<td class=\"num\">5</td>" in windows
    assert f"/reviews/{review.id}" in windows and f"/reviews/{closed.id}" not in windows
    assert "待我复核的抽查" not in page


def test_years_of_contracts_list_those_being_worked_on_and_count_every_one(client_for, factory, monkeypatch):
    _freeze(monkeypatch)
    contractor = factory.contractor()
    old = factory.contract(contractor, term_start=date(2023, 1, 1), term_end=date(2023, 12, 31), code="GXMZ-2023-009")
    ended = factory.contract(contractor, term_start=date(2024, 7, 1), term_end=date(2025, 7, 31), code="GXMZ-2024-009")
    current = factory.contract(contractor, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31), code="GXMZ-2025-009")
    for contract, due in ((old, date(2023, 6, 30)), (ended, date(2025, 3, 31)), (current, date(2025, 9, 30))):
        factory.assignment(contract, factory.subject(), due_date=due, status="completed")
    db.session.commit()
    client = client_for(factory.user("supervisor"))

    page = client.get("/dashboard").get_data(as_text=True)
    table = page[page.index('id="contract-progress"'):]
    # In its term, and ended within about a quarter (its annual evaluation under way), not 2023's.
    assert "GXMZ-2025-009" in table and "GXMZ-2024-009" in table and "GXMZ-2023-009" not in table
    assert "另有 1 份服务期已结束的往年合同未列出" in page
    assert _stat(page, "已完成") == 3  # the counts keep every contract's

    every = client.get("/dashboard?contracts=all").get_data(as_text=True)
    assert "GXMZ-2023-009" in every[every.index('id="contract-progress"'):] and "另有" not in every
