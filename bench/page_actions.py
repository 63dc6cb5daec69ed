"""How long the heavy page actions take inside a request, to decide which go on the task queue.

    OVERSIGHT_INSTANCE_PATH=/tmp/city .venv/bin/python bench/page_actions.py [--repeat 3]

Runs on an instance holding `seed-demo --scale city` (or any demo): each action as the page runs
it, in this process, rolled back after each round so that the database is left as it was:

- draw: 抽样 over every contract and service of the newest drawn quarter, spot checks and
  callbacks (the earlier draw of each scope is set aside inside the transaction);
- score: 计算考核 of every contract's newest finished quarter;
- review sheet: 考核表 .xlsx of the newest review;
- evaluation report: 年度绩效评价报告 .docx and .pdf of an evaluation computed inside the transaction.

Prints CPU and wall time per action (median of the rounds) and the load average.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = function()
    return time.perf_counter() - wall, time.process_time() - cpu, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from oversight import create_app
    from oversight.clock import county_today, utcnow
    from oversight.domain.periods import Quarter
    from oversight.extensions import db
    from oversight.models import Contract, QuarterlyReview, SamplingDraw, User
    from oversight.services import draws as draw_service
    from oversight.services.evaluations import compute_evaluation
    from oversight.services.kpi_evidence import evidence_rows
    from oversight.services.reviews import score_quarter_reviews

    app = create_app()
    results: dict[str, list[tuple[float, float]]] = {}
    with app.app_context():
        quarter = Quarter.parse(db.session.execute(select(func.max(SamplingDraw.quarter))).scalar_one())
        supervisor = db.session.execute(select(User).where(User.role == "supervisor").limit(1)).scalar_one()
        admin = db.session.execute(select(User).where(User.role == "admin").limit(1)).scalar_one()
        population = sum(len(draw.population or []) for draw in db.session.execute(
            select(SamplingDraw).where(SamplingDraw.quarter == str(quarter))).scalars())
        today = county_today()

        def draw(purpose: str):
            original = draw_service.existing_draw
            draw_service.existing_draw = lambda *args: None
            try:
                outcome = draw_service.make_draws(purpose, quarter, today=today, user_id=supervisor.id)
            finally:
                draw_service.existing_draw = original
            return len(outcome.draws)

        def score():
            return len(score_quarter_reviews(quarter, None, today, admin))

        def sheet():
            from oversight.exports.sheets import review_sheet

            review = db.session.execute(select(QuarterlyReview).order_by(QuarterlyReview.id.desc()).limit(1)).scalar_one()
            return len(review_sheet(review, generated_at=utcnow(), evidence=evidence_rows(review.figures)))

        def report(kind: str):
            def build():
                from oversight.exports.reports import build_report, to_docx, to_pdf

                contract = db.session.execute(select(Contract).order_by(Contract.id).limit(1)).scalar_one()
                evaluation = compute_evaluation(contract, quarter.year, admin)
                built = build_report(evaluation, generated_at=utcnow())
                return len(to_docx(built) if kind == "docx" else to_pdf(built))
            return build

        actions = {"draw (spot checks, every contract)": lambda: draw("spot_check"),
                   "draw (callbacks, every contract)": lambda: draw("callback"),
                   "score quarter (every contract)": score, "review sheet .xlsx": sheet,
                   "evaluation report .docx (compute + build)": report("docx"),
                   "evaluation report .pdf (compute + build)": report("pdf")}
        for _ in range(args.repeat):
            for name, action in actions.items():
                try:
                    wall, cpu, _ = _timed(action)
                except Exception as error:  # noqa: BLE001 — a bench reports and goes on
                    print(f"{name}: {type(error).__name__}: {error}")
                    wall = cpu = float("nan")
                finally:
                    db.session.rollback()
                results.setdefault(name, []).append((wall, cpu))
    print(f"quarter {quarter}, {population:,} records in its draws' populations; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, rounds in results.items():
        wall = statistics.median(r[0] for r in rounds)
        cpu = statistics.median(r[1] for r in rounds)
        print(f"  {name:<45} wall {wall * 1000:8.0f} ms   CPU {cpu * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
