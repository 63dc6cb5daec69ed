"""`flask score-quarter`: the same quarterly scoring as the review pages."""
from __future__ import annotations

import json

import click
from flask import Flask

from ..clock import county_today
from ..domain.figures import ReviewFigures
from ..domain.periods import InvalidQuarter, Quarter
from ..domain.vocabulary import ReviewStatus, ScoreAction, label_of
from ..extensions import db
from ..services.reviews import PREVIEW_LABEL, ReviewError, contract_standing, score_quarter_reviews


def _indicators_json(figures: ReviewFigures) -> list[dict]:
    return [
        {"key": item.key, "value": None if item.value is None else str(item.value), "numerator": item.numerator,
         "denominator": item.denominator, "score": str(item.score), "weight": str(item.weight),
         **({} if item.estimate is None else {"estimate": item.estimate.to_json()})}
        for item in figures.indicators
    ]


def _preview_json(outcome) -> dict:
    figures = outcome.preview
    return {"contract": outcome.contract.code, "label": figures.preview.label,
            "due_by": figures.preview.due_by.isoformat(), "total": str(figures.total), "rating": figures.rating,
            "indicators": _indicators_json(figures)}


def _review_json(outcome) -> dict:
    review = outcome.review
    figures = review.figures
    return {
        "contract": outcome.contract.code,
        "scheme": f"{figures.scheme.code} v{figures.scheme.version}",
        "total": str(figures.total),
        "rating": review.rating,
        "status": review.status,
        "revision": review.revision,
        "action": outcome.action,
        "indicators": _indicators_json(figures),
    }


def register(app: Flask) -> None:
    @app.cli.command("score-quarter")
    @click.argument("quarter")
    @click.option("--contract", "contract_code", default=None, help="contract code (default: every contract in term)")
    @click.option("--json", "as_json", is_flag=True, help="print the reviews as JSON")
    def score_quarter_command(quarter, contract_code, as_json):
        """Score a quarter (e.g. 2025Q3): create or refresh draft reviews; published ones are kept.
        A quarter not yet over (county time) gets a preview counting only what is due by today:
        printed, never stored, never publishable."""
        try:
            parsed = Quarter.parse(quarter)
        except InvalidQuarter as error:
            raise click.BadParameter(str(error), param_hint="QUARTER") from None
        today = county_today()
        try:
            outcomes = score_quarter_reviews(parsed, contract_code, today)
        except ReviewError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        running = today <= parsed.end
        if as_json:
            click.echo(json.dumps({
                "quarter": str(parsed),
                **({"preview": True, "label": PREVIEW_LABEL, "due_by": today.isoformat()} if running else {}),
                "reviews": [_review_json(outcome) for outcome in outcomes if outcome.review is not None],
                "previews": [_preview_json(outcome) for outcome in outcomes if outcome.preview is not None],
                "skipped": [{"contract": outcome.contract.code, "reason": outcome.reason}
                            for outcome in outcomes if outcome.review is None and outcome.preview is None],
            }, ensure_ascii=False, indent=2))
            return
        if running:
            click.echo(f"{parsed} {PREVIEW_LABEL}：只计截至 {today}（含）已到期的任务与整改通知，不保存")
        for outcome in outcomes:
            review = outcome.review
            line = f"{outcome.contract.code}：{label_of(ScoreAction, outcome.action)}"
            if outcome.preview is not None:
                line += f"，{outcome.preview.total} 分（{outcome.preview.rating}）"
                click.echo(line)
                continue
            if review is not None:
                line += f"，第{review.revision}版 {review.figures.total} 分（{review.rating}），{label_of(ReviewStatus, review.status)}"
            if outcome.reason:
                line += f"（{outcome.reason}）"
            click.echo(line)
            standing = contract_standing(outcome.contract.id) if review is not None else None
            if standing is not None and standing.below_threshold:
                click.echo(f"  警告：{outcome.contract.code} 连续两个季度得分低于{standing.threshold}分"
                           f"（{'、'.join(standing.quarters)}）")
        if not outcomes:
            click.echo(f"{parsed} 没有在服务期内的合同")
