"""Operations commands: the queue worker, jobs on demand, SQLite backup and restore."""
from __future__ import annotations

import gc
import json
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app

from ..clock import county_now, county_today
from ..extensions import db


def register(app: Flask) -> None:
    @app.cli.command("run-worker")
    @click.option("--workers", type=int, default=None, help="tasks run at once (default QUEUE_WORKERS)")
    @click.option("--no-periodic", is_flag=True, help="run queued tasks only; another worker schedules the jobs")
    def run_worker(workers: int | None, no_periodic: bool) -> None:
        """Run a queue worker: imports and the scheduled jobs (catches up missed runs first)."""
        from ..jobs import catch_up_all
        from ..tasks import queue_of, recover_now

        app = current_app._get_current_object()
        queue = queue_of(app)
        if queue.huey.immediate:
            raise click.ClickException("QUEUE_IMMEDIATE 已开启：任务在提交时立即执行，无需启动队列进程")
        restarted = recover_now(app)
        click.echo(f"重新排队 {len(restarted)} 个中断的导入")
        if not no_periodic:
            runs = catch_up_all(app, county_today())
            click.echo(f"补跑 {len(runs)} 个错过的任务")
        consumer = queue.huey.create_consumer(workers=workers or app.config["QUEUE_WORKERS"],
                                              periodic=not no_periodic, worker_type="thread")
        click.echo(f"队列进程已启动：{queue.describe()}（Ctrl+C 停止）")
        # As in gunicorn.conf.py: what loading the app made is frozen out of the collector's full
        # collections, which would otherwise walk it during every import and quarter's scoring.
        gc.freeze()
        consumer.run()

    @app.cli.command("run-job")
    @click.argument("name")
    @click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="the day to run as")
    def run_job(name: str, on: datetime | None) -> None:
        """Run one job now, for the period due on --date (default today)."""
        from ..jobs import JOBS_BY_NAME
        from ..services.jobs import execute

        spec = JOBS_BY_NAME.get(name)
        if spec is None:
            raise click.ClickException(f"没有名为 {name} 的任务；可用：{', '.join(JOBS_BY_NAME)}")
        today = on.date() if on else county_today()
        run = execute(spec, spec.cadence.due_period(today), "manual", today, dict(current_app.config))
        if run is None:
            click.echo(f"{name} 在 {spec.cadence.due_period(today)} 期间已运行过，未重复执行")
            return
        click.echo(json.dumps({"job": name, "period": run.period_key, "outcome": run.outcome,
                               "summary": run.summary}, ensure_ascii=False))
        if run.outcome != "succeeded":
            raise click.ClickException(run.error or "任务失败")

    @app.cli.command("backup")
    @click.option("--out", "target", type=click.Path(dir_okay=False, path_type=Path), default=None)
    def backup(target: Path | None) -> None:
        """Copy the SQLite database consistently (works while the app runs)."""
        from ..services.operations import backup_sqlite

        target = target or Path(current_app.instance_path) / "backups" / f"oversight-{county_now():%Y%m%d-%H%M%S}.sqlite"
        try:
            backup_sqlite(db.engine, target)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"已备份到 {target}")

    @app.cli.command("restore")
    @click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="confirm replacing the current database")
    def restore(backup_file: Path, yes: bool) -> None:
        """Replace the SQLite database with a backup (the current one is kept as *.before-restore.sqlite);
        the restore is recorded in the audit log, whose new head starts a new anchor epoch."""
        from ..domain.vocabulary import AnchorReason
        from ..services.audit_anchors import AuditLogBroken, chain_head, rebase_after
        from ..services.audit_keys import AuditKeyError
        from ..services.operations import restore_sqlite

        if not yes:
            raise click.ClickException("恢复将替换当前数据库，请加 --yes 确认（请先停止应用）")
        replaced = chain_head()
        db.session.remove()
        try:
            restored = restore_sqlite(db.engine, backup_file)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        try:
            anchor = rebase_after(AnchorReason.RESTORE, {
                "backup": backup_file.name, "backup_sha256": restored,
                "replaced_events": replaced.events, "replaced_last_id": replaced.last_id,
                "replaced_last_hash": replaced.last_hash})
        except (AuditLogBroken, AuditKeyError) as error:
            raise click.ClickException(f"已从 {backup_file} 恢复，但{error}") from None
        click.echo(f"已从 {backup_file} 恢复；审计日志已记录本次恢复，并重新锚定：{anchor.describe()}")
