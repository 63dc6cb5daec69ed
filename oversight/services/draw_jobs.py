"""Draws asked for on the 抽样 page, made by a queue task (a page job, `services.page_jobs`).

The page checks the request (`draws.check_draw_request`: the quarter is over, the contract and
service exist, the seed fits) and records a job with the form's choices; the task makes the draws
as the user who asked, exactly as the page did inline (`draws.make_draws`: each draw's seed — the
one given, else a new one per draw — its population hash and its audit entry are stored with
it, so a draw stays reproducible from its recorded seed), and commits them with the job's 已完成.
The job's `result` names the draws made and the scopes skipped, with the reason.
"""
from __future__ import annotations

from ..clock import county_today
from ..domain.periods import Quarter
from ..domain.vocabulary import ExportJobKind, ServiceType, label_of
from ..extensions import db
from ..models import ExportJob, SamplingDraw, User
from . import page_jobs
from .draws import DrawError, check_draw_request, make_draws


def request_draw(user: User, purpose: str, quarter: Quarter, *, contract_id: int | None, service_type: str | None,
                 risk_weighted: bool, seed: str | None, county_ids: list[int] | None = None) -> ExportJob:
    """A pending draw job (flushed, not committed), or DrawError when the request cannot be drawn;
    the job draws the contracts of `county_ids` only (the requester's counties)."""
    check_draw_request(purpose, quarter, today=county_today(), contract_id=contract_id, service_type=service_type,
                       seed=seed, county_ids=county_ids)
    params = {"purpose": purpose, "quarter": str(quarter), "contract_id": contract_id, "service_type": service_type,
              "risk_weighted": bool(risk_weighted), "seed": seed or None,
              "county_ids": list(county_ids) if county_ids is not None else None}
    return page_jobs.new_job(user, ExportJobKind.DRAW, year=quarter.year, params=params)


def jobs_of(user: User) -> list[ExportJob]:
    """The user's newest draw jobs."""
    return page_jobs.jobs_of(user, ExportJobKind.DRAW)


def made_draws(job: ExportJob) -> list[SamplingDraw]:
    """The draws a done job made, in the order made."""
    ids = (job.result or {}).get("draws", [])
    found = {draw.id: draw for draw in db.session.query(SamplingDraw).filter(SamplingDraw.id.in_(ids))} if ids else {}
    return [found[draw_id] for draw_id in ids if draw_id in found]


def skipped_lines(job: ExportJob) -> list[str]:
    """"GXMZ-2026-001 家计调查：已抽样（抽样 #3）…" for each scope the job left out."""
    return [f"{item['contract']} {label_of(ServiceType, item['service_type'])}：{item['reason']}"
            for item in (job.result or {}).get("skipped", [])]


def _draw(job: ExportJob) -> None:
    """Make the job's draws (flushed; run_job commits them with 已完成)."""
    params = job.params or {}
    try:
        outcome = make_draws(params["purpose"], Quarter.parse(params["quarter"]), today=county_today(),
                             contract_id=params.get("contract_id"), service_type=params.get("service_type"),
                             risk_weighted=bool(params.get("risk_weighted")), seed=params.get("seed"),
                             user_id=job.requested_by_id, county_ids=params.get("county_ids"))
    except DrawError as error:
        raise page_jobs.JobRefused(str(error)) from None
    db.session.flush()
    page_jobs.test_pause(job.id)
    job.result = {"draws": [draw.id for draw in outcome.draws],
                  "skipped": [{"contract": item.contract.code, "service_type": item.service_type, "reason": item.reason}
                              for item in outcome.skipped]}


page_jobs.register_kind(ExportJobKind.DRAW, "抽样", _draw, failed="抽样未能完成")
