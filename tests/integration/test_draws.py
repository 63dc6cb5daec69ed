"""Stored draws: frozen population, recorded seed, stratified sample, verification, the CLI."""
import hashlib
import json

import pytest
from sqlalchemy import select, update

from oversight.services.areas import home_county
from oversight.domain.periods import Quarter
from oversight.domain.sampling import DrawParams, PopulationItem, draw_sample, population_sha256
from oversight.extensions import db
from oversight.models import AuditEvent, Callback, Complaint, LocalStandard, SamplingDraw
from oversight.services.draws import (
    CALLBACK,
    SPOT_CHECK,
    DrawError,
    make_draws,
    spot_check_population,
    verify_stored_draw,
)

from tests.checks_support import AFTER_Q3, add_records, workers_of

Q3 = Quarter(2025, 3)


def draw_one(contract, purpose=SPOT_CHECK, **kwargs):
    outcome = make_draws(purpose, Q3, today=AFTER_Q3, contract_id=contract.id, **kwargs)
    db.session.commit()
    assert len(outcome.draws) == 1, outcome.skipped
    return outcome.draws[0]


def test_a_spot_check_draw_freezes_the_population_records_the_seed_and_checks_every_worker(factory):
    contract = factory.contract(factory.contractor(workers=4))
    records = add_records(contract, {0: 60, 1: 25, 2: 10, 3: 5})
    add_records(contract, {0: 3}, first_day=AFTER_Q3)  # next quarter: not in the population

    draw = draw_one(contract, seed="2025Q3-抽查")

    ids = [record.id for record in records]
    assert [row[0] for row in draw.population] == ids
    assert draw.population_sha256 == hashlib.sha256("\n".join(map(str, sorted(ids))).encode()).hexdigest()
    assert draw.seed == "2025Q3-抽查"
    assert draw.plan["kind"] == "share" and draw.plan["n"] == 5
    # Five workers' worth of floor is raised to one record per worker at least.
    drawn_workers = {row[1] for row in draw.population if row[0] in {item.record_id for item in draw.items}}
    assert drawn_workers == {worker.worker_no for worker in workers_of(contract)}
    assert draw.strata["random"] == {"population": 100, "sample": len(draw.items)}
    assert all(item.stratum == "random" for item in draw.items)


def test_the_stored_sample_is_the_domain_draw_of_the_stored_population(factory):
    contract = factory.contract(factory.contractor(workers=3))
    add_records(contract, {0: 30, 1: 20, 2: 12}, flagged={1, 7, 33, 50})
    draw = draw_one(contract, seed="fixed", risk_weighted=True)
    population = [PopulationItem(*row) for row in draw.population]
    expected = draw_sample(population, DrawParams(risk_weighted=True), "fixed")
    assert [(item.record_id, item.stratum) for item in draw.items] == [item.key for item in expected.items]
    assert draw.strata["flagged"]["population"] == 4


def test_the_same_seed_and_population_give_the_same_sample_on_every_database_and_run(factory):
    """Record ids restart at 1 for every test on SQLite and PostgreSQL alike: this pinned
    sample is what the documented algorithm gives for records 1–62, whatever the database."""
    contract = factory.contract(factory.contractor(workers=3))
    records = add_records(contract, {0: 30, 1: 20, 2: 12})
    assert [record.id for record in records] == list(range(1, 63))
    draw = draw_one(contract, seed="pinned-seed")
    assert draw.population_sha256 == population_sha256(range(1, 63))
    assert [item.record_id for item in draw.items] == PINNED_SAMPLE


PINNED_SAMPLE = [21, 22, 44, 49, 61]  # workers 2 + 2 + 1, smallest keys each


def test_the_county_share_and_floor_apply_when_the_contract_rule_leaves_them_out(factory):
    contract = factory.contract(factory.contractor(workers=1))
    contract.sampling_rule = {"kind": "share"}
    db.session.add(LocalStandard(county_id=home_county().id, year=2025, county="赣县区", poverty_line_fen=75000, care_allowance_tier1_fen=1,
                                 care_allowance_tier2_fen=1, care_allowance_tier3_fen=1, spot_check_share_bp=1000,
                                 spot_check_floor=3))
    db.session.commit()
    add_records(contract, {0: 80})
    assert draw_one(contract).plan["n"] == 8


def test_an_iso2859_contract_draws_its_plan_and_records_the_acceptance_number(factory):
    contract = factory.contract(factory.contractor(workers=2))
    contract.sampling_rule = {"kind": "iso2859", "aql": "2.5"}
    db.session.commit()
    add_records(contract, {0: 40, 1: 20})
    draw = draw_one(contract)
    # Lot 60 → letter E, whose cell at AQL 2.5 points down to F: n 20, Ac 1, Re 2.
    assert (draw.plan["code_letter"], draw.plan["plan_letter"]) == ("E", "F")
    assert (draw.plan["n"], draw.plan["ac"], draw.plan["re"]) == (20, 1, 2)
    assert len(draw.items) == 20


def test_a_contract_with_an_invalid_rule_is_refused_with_the_reason(factory):
    contract = factory.contract(code="GX-BAD-AQL")
    contract.sampling_rule = {"kind": "iso2859", "aql": "3"}
    db.session.commit()
    add_records(contract, {0: 10})
    with pytest.raises(DrawError, match="GX-BAD-AQL 的抽样规则无效：AQL 3 不在"):
        make_draws(SPOT_CHECK, Q3, today=AFTER_Q3, contract_id=contract.id)


def test_complaints_put_the_workers_latest_records_in_a_targeted_stratum(factory):
    contract = factory.contract(factory.contractor(workers=2))
    records = add_records(contract, {0: 40, 1: 40})
    worker = workers_of(contract)[1]
    complaint = Complaint(source="walk_in", contract_id=contract.id, worker_id=worker.id, text="服务态度差")
    db.session.add(complaint)
    db.session.commit()

    draw = draw_one(contract)

    targeted = [item.record_id for item in draw.items if item.stratum == "targeted"]
    theirs = sorted((r for r in records if r.worker_id == worker.id), key=lambda r: (r.service_date, r.id))
    assert sorted(targeted) == sorted(r.id for r in theirs[-5:])
    assert draw.strata["targeted"] == {"population": 5, "sample": 5}
    assert draw.plan["lot_size"] == 75
    db.session.refresh(complaint)
    assert (complaint.status, complaint.targeted_draw_id) == ("targeted", draw.id)
    # The complaint is used up: it targets no later draw.
    population, used = spot_check_population(contract.id, "household_survey", Q3, [])
    assert not any(item.targeted for item in population) and used == []


def test_a_callback_draw_samples_served_subjects_and_opens_a_call_list(factory):
    contract = factory.contract(factory.contractor(workers=2), service_types=("care_visit",))
    add_records(contract, {0: 30, 1: 20}, service_type="care_visit", visits_per_subject=3)
    draw = draw_one(contract, CALLBACK)
    assert len(draw.population) == 50  # one per subject, not per visit
    assert draw.plan["n"] == 5  # 10 % by default
    callbacks = db.session.execute(select(Callback).order_by(Callback.id)).scalars().all()
    assert [c.record_id for c in callbacks] == [item.record_id for item in draw.items]
    assert all(c.status == "pending" and c.contract_id == contract.id for c in callbacks)
    # Each subject's latest visit of the quarter stands for it.
    assert all(c.record.service_date == max(r.service_date for r in db.session.execute(
        select(type(c.record)).where(type(c.record).assignment_id == c.record.assignment_id)).scalars())
        for c in callbacks)


def test_a_quarter_is_drawn_once_and_only_when_it_is_over(factory):
    contract = factory.contract()
    add_records(contract, {0: 10})
    with pytest.raises(DrawError, match="尚未结束"):
        make_draws(SPOT_CHECK, Q3, today=Q3.end, contract_id=contract.id)
    first = draw_one(contract)
    again = make_draws(SPOT_CHECK, Q3, today=AFTER_Q3, contract_id=contract.id)
    assert again.draws == [] and f"抽样 #{first.id}" in again.skipped[0].reason


def test_a_scope_without_records_is_skipped_with_the_reason(factory):
    contract = factory.contract(service_types=("household_survey", "care_visit"))
    add_records(contract, {0: 10})
    outcome = make_draws(SPOT_CHECK, Q3, today=AFTER_Q3, contract_id=contract.id)
    assert [d.service_type for d in outcome.draws] == ["household_survey"]
    assert [(s.service_type, s.reason) for s in outcome.skipped] == [("care_visit", "2025Q3 没有照料护理服务记录")]


def test_the_seed_and_population_hash_are_in_the_audit_log_of_the_draw(factory):
    contract = factory.contract()
    add_records(contract, {0: 10})
    draw = draw_one(contract, seed="audited")
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.object_type == "SamplingDraw", AuditEvent.object_id == str(draw.id))).scalar_one()
    assert event.changes["seed"] == "audited"
    assert event.changes["population_sha256"] == draw.population_sha256


def test_verification_matches_an_untouched_draw(factory):
    contract = factory.contract(factory.contractor(workers=2))
    add_records(contract, {0: 30, 1: 30}, flagged={3, 4, 5})
    draw = draw_one(contract, risk_weighted=True)
    check = verify_stored_draw(draw)
    assert check.matches, check.messages


@pytest.mark.parametrize("tamper", ["seed", "population", "items"])
def test_verification_detects_a_changed_seed_population_or_sample(factory, tamper):
    contract = factory.contract(factory.contractor(workers=2))
    add_records(contract, {0: 30, 1: 30})
    draw = draw_one(contract, seed="original")
    table = SamplingDraw.__table__
    if tamper == "seed":
        db.session.execute(update(table).where(table.c.id == draw.id).values(seed="chosen-later"))
    elif tamper == "population":
        kept = [row for row in draw.population if row[0] != draw.population[0][0]]
        db.session.execute(update(table).where(table.c.id == draw.id).values(population=kept))
    else:
        item = draw.items[0]
        item.record_id = next(row[0] for row in draw.population
                              if row[0] not in {i.record_id for i in draw.items})
    db.session.commit()
    db.session.expire_all()
    check = verify_stored_draw(db.session.get(SamplingDraw, draw.id))
    assert not check.matches
    if tamper == "seed":
        assert "随机种子与审计日志中抽样时的记录不一致" in check.messages
    if tamper == "population":
        assert not check.result.population_matches


def test_records_added_to_the_quarter_after_the_draw_are_reported_without_failing_it(factory):
    contract = factory.contract()
    add_records(contract, {0: 10})
    draw = draw_one(contract)
    late = add_records(contract, {0: 2})
    check = verify_stored_draw(draw)
    assert check.matches
    assert check.added_since == tuple(r.id for r in late)
    assert any("新增 2 条" in message for message in check.messages)


def test_the_draw_command_prints_json_and_verify_draw_exits_by_the_result(app, factory):
    contract = factory.contract(code="GX-CLI-1", service_types=("household_survey", "care_visit"))
    add_records(contract, {0: 12, 1: 8})
    add_records(contract, {0: 4}, service_type="care_visit")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["draw", "--purpose", "spot-check", "--quarter", "2025Q3", "--contract",
                                 "GX-CLI-1", "--seed", "cli-seed", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [(d["contract"], d["service_type"], d["purpose"]) for d in payload["draws"]] == [
        ("GX-CLI-1", "care_visit", "spot-check"), ("GX-CLI-1", "household_survey", "spot-check")]
    first = payload["draws"][1]
    assert set(first) == {"id", "contract", "service_type", "purpose", "plan", "seed", "population_size",
                          "population_sha256", "items"}
    assert first["plan"] == {"kind": "share", "n": 5, "ac": None, "re": None}
    assert first["seed"] == "cli-seed" and first["population_size"] == 20
    assert {item["stratum"] for item in first["items"]} == {"random"}

    ok = runner.invoke(args=["verify-draw", str(first["id"])])
    assert ok.exit_code == 0 and "复核一致" in ok.output
    table = SamplingDraw.__table__
    db.session.execute(update(table).where(table.c.id == first["id"]).values(seed="other"))
    db.session.commit()
    db.session.expire_all()
    bad = runner.invoke(args=["verify-draw", str(first["id"])])
    assert bad.exit_code == 1 and "复核不一致" in bad.output


def test_the_draw_command_draws_a_random_seed_when_none_is_given(app, factory):
    contract = factory.contract(code="GX-CLI-2")
    add_records(contract, {0: 12})
    result = app.test_cli_runner().invoke(args=["draw", "--purpose", "callback", "--quarter", "2025Q3", "--json"])
    assert result.exit_code == 0, result.output
    (draw,) = json.loads(result.stdout)["draws"]
    assert len(draw["seed"]) == 32 and draw["purpose"] == "callback"


def test_the_draw_command_refuses_a_bad_quarter(app):
    result = app.test_cli_runner().invoke(args=["draw", "--purpose", "callback", "--quarter", "2025Q5"])
    assert result.exit_code != 0 and "季度格式" in result.output
