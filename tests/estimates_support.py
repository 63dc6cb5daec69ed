"""A quarter drawn with unequal inclusion probabilities, for the estimate tests (hand-computed figures)."""
from __future__ import annotations

from datetime import date

from oversight.adapters.files import LocalFileStore
from oversight.domain.periods import Quarter
from oversight.extensions import db
from oversight.services.callbacks import file_complaint
from oversight.services.draws import SPOT_CHECK, make_draws
from oversight.services.spot_checks import record_spot_check

from tests.checks_support import AFTER_Q3, add_records, workers_of

Q3 = Quarter(2025, 3)
TODAY = date(2025, 10, 20)
SAME = {"household_size": 3, "annual_income_fen": 2_400_000, "financial_assets_fen": 500_000,
        "survey_conclusion": "符合"}
FAIL = SAME | {"survey_conclusion": "不符合"}  # one of the four compared fields differs, and it is critical


def check(item, user, values):
    record_spot_check(item, checker=user, method="入户复核", checked_on=date(2025, 10, 16), values=values,
                      note=None, uploads=[], store=LocalFileStore("/nonexistent"), today=TODAY)


def weighted_quarter(factory):
    """100 records of one worker, those at positions 80–99 anomaly-flagged; a complaint putting the
    worker's 5 latest records into the targeted stratum; a risk-weighted 8 % draw.

    Strata: targeted 5 (all drawn), flagged 20, random 100 − 20 − 5 = 75. Random sample ceil(0.08 × 75) = 6
    (above the floor of 5); flagged rate 3 × 6/75 = 0.24, sample ceil(0.24 × 20) = ceil(4.8) = 5.
    Verdicts: the 6 random records pass; 2 of the 5 flagged fail; 4 of the 5 targeted fail.
    """
    contract = factory.contract(factory.contractor(workers=1), term_start=date(2025, 1, 1),
                                term_end=date(2025, 12, 31))
    contract.sampling_rule = {"kind": "share", "share": "0.08", "floor": 5}
    db.session.commit()
    # Record positions 80–99 fall on the quarter's first 20 days, positions 75–79 on its latest days.
    add_records(contract, {0: 100}, flagged=set(range(80, 100)))
    supervisor = factory.user("supervisor")
    file_complaint(contract, text="多次未上门", user=supervisor, worker_id=workers_of(contract)[0].id)
    db.session.commit()
    spot = make_draws(SPOT_CHECK, Q3, today=AFTER_Q3, contract_id=contract.id, risk_weighted=True).draws[0]
    db.session.commit()
    assert {name: (value["population"], value["sample"]) for name, value in spot.strata.items()} == {
        "targeted": (5, 5), "flagged": (20, 5), "random": (75, 6)}
    failing = {"flagged": 2, "targeted": 4, "random": 0}
    for item in spot.items:
        fails = failing[item.stratum] > 0
        failing[item.stratum] -= fails
        check(item, supervisor, FAIL if fails else SAME)
    db.session.commit()
    return contract, supervisor, spot
