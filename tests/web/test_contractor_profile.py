"""The contractor profile (履约档案) on the demo county: its figures against the stored records, the
page for whoever may read it (a contractor its own only), and its .xlsx and PDF exports."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from oversight.clock import local_day
from oversight.extensions import db
from oversight.models import (
    AnnualEvaluation,
    Appeal,
    AuditEvent,
    Callback,
    Complaint,
    Contract,
    Contractor,
    DrawItem,
    QuarterlyReview,
    RectificationNotice,
    SamplingDraw,
    SpotCheck,
    User,
)
from oversight.services.appeals import appealable_checks, decide_appeal, file_appeal
from oversight.services.check_results import quarter_check_figures
from oversight.services.contractor_profile import contractor_profile, past_performance_for
from oversight.services.evaluations import approve_evaluation, publish_evaluation
from seeds.demo import build_demo
from tests.conftest import Client
from tests.demo_support import Databases

TODAY = date(2026, 5, 20)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("profile"))
    app = databases.app("profile")
    with app.app_context():
        build_demo("small", 7, TODAY)
        db.engine.dispose()
    yield app
    databases.drop()


def _user(name: str) -> User:
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


def _final_passed(check: SpotCheck) -> bool:
    appeal = db.session.execute(select(Appeal).where(Appeal.spot_check_id == check.id,
                                                     Appeal.status == "decided")).scalar()
    return check.passed if appeal is None else appeal.final_passed


def _random_checks(contract_id: int, quarter: str) -> list[SpotCheck]:
    return list(db.session.execute(
        select(SpotCheck).join(DrawItem, SpotCheck.draw_item_id == DrawItem.id)
        .join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
        .where(SamplingDraw.contract_id == contract_id, SamplingDraw.quarter == quarter,
               SamplingDraw.purpose == "spot_check", DrawItem.stratum != "targeted")).scalars())


def _answered_calls(contract_id: int, quarters: list[str]) -> list[Callback]:
    return list(db.session.execute(
        select(Callback).join(DrawItem, Callback.draw_item_id == DrawItem.id)
        .join(SamplingDraw, DrawItem.draw_id == SamplingDraw.id)
        .where(SamplingDraw.contract_id == contract_id, SamplingDraw.quarter.in_(quarters),
               Callback.status == "answered")).scalars())


def _newest_published(contract_id: int) -> dict[str, QuarterlyReview]:
    newest: dict[str, QuarterlyReview] = {}
    for review in db.session.execute(select(QuarterlyReview).where(QuarterlyReview.contract_id == contract_id,
                                                                   QuarterlyReview.status != "draft")).scalars():
        if review.quarter not in newest or review.revision > newest[review.quarter].revision:
            newest[review.quarter] = review
    return newest


def assert_profile_matches_the_records(contractor: Contractor) -> None:
    profile = contractor_profile(contractor, TODAY)
    contracts = db.session.execute(select(Contract).where(Contract.contractor_id == contractor.id)).scalars().all()
    assert {line.contract.id for line in profile.contracts} == {c.id for c in contracts} and contracts
    for line in profile.contracts:
        contract = line.contract
        reviews = _newest_published(contract.id)
        assert [year.year for year in line.years] == list(range(contract.term_start.year, TODAY.year + 1))
        for year in line.years:
            year_checked = year_passed = 0
            for quarter in year.quarters:
                review = reviews.get(str(quarter.quarter))
                assert quarter.review is review  # the newest published revision; drafts never
                if review is not None:
                    assert quarter.total == Decimal(review.total_centi) / 100
                checks = _random_checks(contract.id, str(quarter.quarter))
                passed = sum(_final_passed(check) for check in checks)
                assert (quarter.spot_check.sample.numerator, quarter.spot_check.sample.denominator) == (
                    passed, len(checks))
                # The same design-based estimate the review pages show for the quarter.
                shown = quarter_check_figures(contract.id, quarter.quarter, lots=False)["estimates"]["spot_check_pass"]
                assert shown["exact"] == (None if quarter.spot_check.exact is None else str(quarter.spot_check.exact))
                if quarter.spot_check.has_data:
                    assert quarter.spot_check.low <= quarter.spot_check.value <= quarter.spot_check.high
                year_checked, year_passed = year_checked + len(checks), year_passed + passed
            assert (year.spot_check.sample.numerator, year.spot_check.sample.denominator) == (year_passed, year_checked)
            calls = _answered_calls(contract.id, [str(q.quarter) for q in year.quarters])
            assert year.complaints.callbacks_answered == len(calls)
            assert year.complaints.satisfaction.numerator == sum(call.satisfaction >= 3 for call in calls)
            notices = db.session.execute(select(RectificationNotice).where(
                RectificationNotice.contract_id == contract.id, RectificationNotice.year == year.year)).scalars().all()
            assert year.rectifications.rounds == len(notices)
            assert year.rectifications.notices == sum(n.previous_id is None for n in notices)
            assert year.rectifications.accepted == sum(n.outcome == "accepted" for n in notices)
            complaints = [c for c in db.session.execute(select(Complaint).where(
                Complaint.contract_id == contract.id)).scalars() if local_day(c.created_at).year == year.year]
            assert year.complaints.total == len(complaints)
            published = db.session.execute(select(AnnualEvaluation).where(
                AnnualEvaluation.contract_id == contract.id, AnnualEvaluation.year == year.year,
                AnnualEvaluation.status != "draft").order_by(AnnualEvaluation.revision.desc())).scalars().first()
            assert year.evaluation is published


def test_the_profile_holds_every_contract_year_as_the_records_give_it(demo):
    with demo.app_context():
        contractors = db.session.execute(select(Contractor)).scalars().all()
        for contractor in contractors:
            assert_profile_matches_the_records(contractor)
        profile = contractor_profile(contractors[0], TODAY)
        year = profile.contracts[0].years[0]
        # The demo has published (approved) reviews and draft evaluations: these count nothing yet.
        assert any(q.review is not None for q in year.quarters) and year.evaluation is None
        assert sum(y.spot_check.sample.denominator for line in profile.contracts for y in line.years) > 0
        # The past-performance score: the mean of approved quarterly totals of each contract-year.
        approved = [q.total for line in profile.contracts for y in line.years for q in y.quarters if q.approved]
        per_year = [sum(totals) / len(totals) for line in profile.contracts for y in line.years
                    if (totals := [q.total for q in y.quarters if q.approved])]
        score = profile.past_performance(10)
        assert approved and score.history_score == sum(per_year) / len(per_year)
        assert score.points == (score.history_score / 10).quantize(Decimal("0.01"))
        assert past_performance_for(contractors[0].id, TODAY, 10) == score  # what a tender's item calls


def test_the_page_is_for_the_bureau_auditors_and_the_contractor_itself_only(demo):
    with demo.app_context():
        own = _user("renhe").contractor_id
        other = db.session.execute(select(Contractor.id).where(Contractor.id != own)).scalar()
        name = db.session.get(Contractor, own).name
    for username in ("admin", "supervisor", "auditor", "renhe"):
        client = Client(demo)
        assert client.login(username, f"demo-{username}").status_code == 302
        page = client.get(f"/contractors/{own}/profile")
        assert page.status_code == 200, username
        text = page.get_data(as_text=True)
        assert name in text and "履约档案" in text and "过往履约得分" in text and "95% 置信区间" in text
        expected = 404 if username == "renhe" else 200
        assert client.get(f"/contractors/{other}/profile").status_code == expected
        assert client.get(f"/contractors/{other}/profile.xlsx").status_code == expected
        assert client.get(f"/contractors/{other}/profile.pdf").status_code == expected
    assert Client(demo).get(f"/contractors/{own}/profile").status_code == 302  # to log-in
    assert Client(demo).get(f"/contractors/{own}/profile.pdf").status_code == 302


def test_the_exports_carry_the_pages_figures_and_are_logged(demo):
    client = Client(demo)
    assert client.login("supervisor", "demo-supervisor").status_code == 302
    with demo.app_context():
        contractor = db.session.execute(select(Contractor).order_by(Contractor.id)).scalars().first()
        profile = contractor_profile(contractor, TODAY)
        approved = [(line.contract.code, str(q.quarter), f"{q.total:.2f}", q.review.rating)
                    for line in profile.contracts for y in line.years for q in y.quarters if q.approved]
        contractor_id, name = contractor.id, contractor.name
        logged_before = db.session.execute(select(func.max(AuditEvent.id))).scalar()
    workbook = client.get(f"/contractors/{contractor_id}/profile.xlsx")
    assert workbook.status_code == 200 and "spreadsheetml" in workbook.headers["Content-Type"]
    book = openpyxl.load_workbook(io.BytesIO(workbook.data), read_only=True)
    assert book.sheetnames == ["合同", "年度", "季度", "过往履约得分"]
    rows = [row for row in book["季度"].iter_rows(values_only=True)]
    assert rows[0][0] == f"{name} 履约档案"
    for code, quarter, total, rating in approved:
        assert any(row[:4] == (code, quarter, total, rating) for row in rows), (code, quarter)
    pdf = client.get(f"/contractors/{contractor_id}/profile.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert b"/FontFile2" in pdf.data  # the CJK font embedded
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert name in text and "过往履约得分" in text and approved[0][2] in text
    with demo.app_context():
        kinds = [event.changes.get("format") for event in db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "export", AuditEvent.object_type == "ContractorProfile",
            AuditEvent.object_id == str(contractor_id), AuditEvent.id > logged_before)).scalars()]
    assert sorted(kinds) == ["pdf", "xlsx"]


def test_a_decided_appeal_and_an_approved_evaluation_enter_the_profile(demo):
    """Runs last: it changes the demo."""
    with demo.app_context():
        contractor_user, admin = _user("renhe"), _user("admin")
        contractor = db.session.get(Contractor, contractor_user.contractor_id)
        check = next(check for check in db.session.execute(appealable_checks(select(Contract.id).where(
            Contract.contractor_id == contractor.id))).scalars() if check.draw_item.stratum != "targeted")
        quarter = check.draw_item.draw.quarter
        before = contractor_profile(contractor, TODAY)
        line = next(line for line in before.contracts if line.contract.id == check.contract_id)
        year_before = next(y for y in line.years if str(y.year) == quarter[:4])
        quarter_before = next(q for q in year_before.quarters if str(q.quarter) == quarter)
        appeal = file_appeal(check, contractor_user, "复检当日服务对象外出，由邻居代答", local_day(check.created_at))
        decide_appeal(appeal, admin, "overturned", "复核确认服务属实")
        db.session.commit()

        after = contractor_profile(contractor, TODAY)
        line = next(line for line in after.contracts if line.contract.id == check.contract_id)
        year_after = next(y for y in line.years if str(y.year) == quarter[:4])
        quarter_after = next(q for q in year_after.quarters if str(q.quarter) == quarter)
        assert quarter_after.spot_check.sample.numerator == quarter_before.spot_check.sample.numerator + 1
        assert quarter_after.spot_check.sample.denominator == quarter_before.spot_check.sample.denominator
        assert (year_after.appeals.filed, year_after.appeals.overturned, year_after.appeals.pending) == (
            year_before.appeals.filed + 1, year_before.appeals.overturned + 1, year_before.appeals.pending)

        # The 2025 evaluation, once approved, is the year's score for the past-performance item.
        evaluation = db.session.execute(select(AnnualEvaluation).where(
            AnnualEvaluation.contract_id == line.contract.id, AnnualEvaluation.year == 2025)).scalar_one()
        publish_evaluation(evaluation, date(2026, 1, 10), window_days=7)
        approve_evaluation(evaluation, admin, date(2026, 1, 20))
        db.session.commit()
        profile = contractor_profile(contractor, TODAY)
        year = next(y for line in profile.contracts for y in line.years
                    if line.contract.id == evaluation.contract_id and y.year == 2025)
        assert year.evaluation.id == evaluation.id and year.evaluation_approved
        result = next(r for r in profile.past_performance(10).years if r.year == 2025)
        assert result.annual_score == Decimal(evaluation.score_centi) / 100 and result.basis == "年度评价（已审定）"
        assert_profile_matches_the_records(contractor)
