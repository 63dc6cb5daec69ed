"""`flask score-quarter`: the same quarterly scoring as the review pages."""
from __future__ import annotations

import json

import click
from flask import Flask

from ..domain.periods import InvalidQuarter, Quarter
from ..extensions import db
from ..domain.vocabulary import ReviewStatus, label_of
from ..services.reviews import ReviewError, contract_standing, score_quarter_reviews

_ACTIONS = {"created": "已生成草稿", "refreshed": "已重新计算草稿", "kept": "保持不变", "skipped": "未评分"}


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
        "indicators": [
            {"key": item.key, "value": None if item.value is None else str(item.value), "numerator": item.numerator,
             "denominator": item.denominator, "score": str(item.score), "weight": str(item.weight)}
            for item in figures.indicators
        ],
    }


def register(app: Flask) -> None:
    @app.cli.command("score-quarter")
    @click.argument("quarter")
    @click.option("--contract", "contract_code", default=None, help="contract code (default: every contract in term)")
    @click.option("--json", "as_json", is_flag=True, help="print the reviews as JSON")
    def score_quarter_command(quarter, contract_code, as_json):
        """Score a quarter (e.g. 2025Q3): create or refresh draft reviews; published ones are kept."""
        try:
            parsed = Quarter.parse(quarter)
        except InvalidQuarter as error:
            raise click.BadParameter(str(error), param_hint="QUARTER") from None
        try:
            outcomes = score_quarter_reviews(parsed, contract_code)
        except ReviewError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        if as_json:
            click.echo(json.dumps({
                "quarter": str(parsed),
                "reviews": [_review_json(outcome) for outcome in outcomes if outcome.review is not None],
                "skipped": [{"contract": outcome.contract.code, "reason": outcome.reason}
                            for outcome in outcomes if outcome.review is None],
            }, ensure_ascii=False, indent=2))
            return
        for outcome in outcomes:
            review = outcome.review
            line = f"{outcome.contract.code}：{_ACTIONS[outcome.action]}"
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
