"""`flask draw` and `flask verify-draw`: the same draws and verification as the draw pages."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from sqlalchemy import select

from ..clock import county_today
from ..domain.periods import InvalidQuarter, Quarter
from ..domain.vocabulary import ServiceType, label_of
from ..extensions import db
from ..models import Contract, SamplingDraw
from ..services.draws import CALLBACK, MEDIA_AUDIT, SPOT_CHECK, DrawError, draw_as_json, make_draws, verify_stored_draw

_PURPOSES = {"spot-check": SPOT_CHECK, "callback": CALLBACK, "media-audit": MEDIA_AUDIT}


def register(app: Flask) -> None:
    @app.cli.command("draw")
    @click.option("--purpose", type=click.Choice(list(_PURPOSES)), required=True)
    @click.option("--quarter", required=True, help="a finished quarter, e.g. 2025Q3")
    @click.option("--contract", "contract_code", default=None, help="contract code (default: every contract)")
    @click.option("--service-type", type=click.Choice(ServiceType.codes()), default=None)
    @click.option("--risk-weighted", is_flag=True, help="anomaly-flagged records in their own stratum, at a higher rate")
    @click.option("--seed", default=None, help="seed text (default: a fresh random one per draw)")
    @click.option("--json", "as_json", is_flag=True, help="print the draws as JSON")
    def draw_command(purpose, quarter, contract_code, service_type, risk_weighted, seed, as_json):
        """Draw spot checks, callbacks or media audits (影像核验): one draw per contract and service type in scope."""
        try:
            parsed = Quarter.parse(quarter)
        except InvalidQuarter as error:
            raise click.BadParameter(str(error), param_hint="--quarter") from None
        contract_id = None
        if contract_code:
            contract_id = db.session.execute(select(Contract.id).where(Contract.code == contract_code)).scalar()
            if contract_id is None:
                raise click.ClickException(f"合同 {contract_code} 不存在")
        try:
            outcome = make_draws(_PURPOSES[purpose], parsed, today=county_today(), contract_id=contract_id,
                                 service_type=service_type, risk_weighted=risk_weighted, seed=seed)
        except DrawError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        for skipped in outcome.skipped:
            click.echo(f"跳过 {skipped.contract.code} {label_of(ServiceType, skipped.service_type)}：{skipped.reason}", err=True)
        if as_json:
            click.echo(json.dumps({"draws": [draw_as_json(draw) for draw in outcome.draws]}, ensure_ascii=False))
            return
        for draw in outcome.draws:
            click.echo(f"抽样 #{draw.id} {draw.contract.code} {label_of(ServiceType, draw.service_type)}：总体 "
                       f"{len(draw.population)} 条，抽中 {len(draw.items)} 条；种子 {draw.seed}；"
                       f"总体哈希 {draw.population_sha256}")

    @app.cli.command("verify-draw")
    @click.argument("draw_id", type=int)
    def verify_draw_command(draw_id):
        """Re-compute a stored draw; exit 0 only when it matches what is stored and audited."""
        draw = db.session.get(SamplingDraw, draw_id)
        if draw is None:
            raise click.ClickException(f"抽样 #{draw_id} 不存在")
        check = verify_stored_draw(draw)
        for message in check.messages:
            click.echo(message, err=not check.matches)
        if not check.matches:
            click.echo(f"抽样 #{draw_id} 复核不一致", err=True)
            sys.exit(1)
        click.echo(f"抽样 #{draw_id} 复核一致")
