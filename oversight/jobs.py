"""Every scheduled job in one place: name, cadence, cron time (county time), and a thin call of a service.

The workers (`flask run-worker`, `oversight/tasks.py`) run them as Huey periodic tasks; each run
is claimed per period in the database, so a second worker or a manual run can never do a
period's work twice.
"""
from __future__ import annotations

from datetime import date

from flask import Flask

from .domain.periods import Quarter
from .domain.schedule import Cadence
from .domain.vocabulary import AnchorReason, ScoreAction
from .services import maintenance
from .services.audit_anchors import anchor_audit_log
from .services.draws import make_draws
from .services.jobs import JobContext, JobSpec, catch_up
from .services.reviews import score_quarter_reviews


def _mark_overdue(ctx: JobContext) -> dict:
    return {"assignments_overdue": maintenance.mark_overdue_assignments(ctx.today),
            "notices_overdue": maintenance.notify_overdue_notices(ctx.today)}


def _remind_due(ctx: JobContext) -> dict:
    return {"notices": maintenance.remind_due(ctx.today)}


def _issue_care_visits(ctx: JobContext) -> dict:
    return {"assignments_issued": maintenance.issue_care_visits(ctx.period_key, ctx.today)}


def _quarter_checks(ctx: JobContext) -> dict:
    quarter = Quarter.parse(ctx.period_key)
    made = {purpose: make_draws(purpose, quarter, today=ctx.today) for purpose in ("spot_check", "callback")}
    return {f"{purpose}_draws": len(outcome.draws) for purpose, outcome in made.items()}


def _quarter_reviews(ctx: JobContext) -> dict:
    outcomes = score_quarter_reviews(Quarter.parse(ctx.period_key), today=ctx.today)
    # A finished quarter is scored, never previewed: the summary counts what was stored.
    return {action.value: sum(o.action == action for o in outcomes) for action in ScoreAction
            if action != ScoreAction.PREVIEW}


def _annual_evaluations(ctx: JobContext) -> dict:
    return maintenance.draft_annual_evaluations(int(ctx.period_key))


def _anchor_audit_log(ctx: JobContext) -> dict:
    return {"anchored_events": anchor_audit_log(AnchorReason.DAILY).events}


JOBS: list[JobSpec] = [
    JobSpec("mark_overdue", "标记逾期任务与整改通知", Cadence("daily"), {"hour": 1, "minute": 0}, _mark_overdue),
    JobSpec("remind_due", "提醒7天内到期的任务", Cadence("daily"), {"hour": 7, "minute": 0}, _remind_due),
    JobSpec("anchor_audit_log", "锚定审计日志", Cadence("daily"), {"hour": 0, "minute": 30}, _anchor_audit_log),
    JobSpec("issue_care_visits", "派发本月照料护理任务", Cadence("monthly"), {"day": 1, "hour": 2, "minute": 0},
            _issue_care_visits),
    JobSpec("quarter_checks", "季度抽查与电话回访抽样", Cadence("quarterly"),
            {"month": "1,4,7,10", "day": 1, "hour": 3, "minute": 0}, _quarter_checks),
    JobSpec("quarter_reviews", "计算季度考核草稿", Cadence("quarterly"),
            {"month": "1,4,7,10", "day": 1, "hour": 4, "minute": 0}, _quarter_reviews),
    JobSpec("annual_evaluations", "生成年度绩效评价草稿", Cadence("yearly"),
            {"month": 1, "day": 1, "hour": 5, "minute": 0}, _annual_evaluations),
]
JOBS_BY_NAME = {spec.name: spec for spec in JOBS}

def catch_up_all(app: Flask, today: date) -> list:
    """Run each job's latest due period once if no process has run it yet (a worker starting)."""
    with app.app_context():
        return catch_up(JOBS, today, dict(app.config))
