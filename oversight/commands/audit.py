"""Audit-chain commands: verify the chains, anchor their heads, rotate the key, seal a legacy chain."""
from __future__ import annotations

import sys

import click
from flask import Flask

from ..domain.vocabulary import AnchorReason


def register(app: Flask) -> None:
    @app.cli.command("verify-audit-log")
    def verify_audit_log_command() -> None:
        """Recompute the audit log's keyed chain and hold it against the anchors; exit 1 naming what is wrong."""
        from ..services.audit_anchors import check_audit_log

        report = check_audit_log()
        if not report.ok:
            for problem in report.problems:
                click.echo(f"审计日志校验失败：{problem.describe()}", err=True)
            sys.exit(1)
        click.echo(f"审计日志完整：已校验 {len(report.heads)} 条审计链共 {report.checked} 条事件"
                   + (f"（其中 {report.legacy} 条为启用密钥前的旧式事件，已封存）" if report.legacy else ""))
        for county, head in report.heads.items():
            click.echo(f"  {report.names[county]}：{head.events} 条事件，至事件 #{head.last_id}")
        last = report.last_anchor
        if last is None:
            click.echo("注意：尚无锚点（flask --app app anchor-audit-log 或每日定时任务会写入锚点）")
        else:
            click.echo(f"与 {len(report.anchors)} 个锚点一致，最近一个：{last.describe()}"
                       + (f"，根哈希 {last.root_hash}" if last.root_hash else ""))

    @app.cli.command("anchor-audit-log")
    @click.option("--after-restore", is_flag=True,
                  help="the database was restored (e.g. pg_restore): record it and start a new anchor epoch")
    def anchor_audit_log_command(after_restore: bool) -> None:
        """Verify the audit log, sign its head and append the anchor to the instance anchors file."""
        from ..services.audit_anchors import AuditLogBroken, anchor_audit_log, chain_head, rebase_after
        from ..services.audit_keys import AuditKeyError

        try:
            if after_restore:
                head = chain_head()
                anchor = rebase_after(AnchorReason.RESTORE, {"method": "anchor-audit-log --after-restore",
                                                            "events": head.events, "last_id": head.last_id})
            else:
                anchor = anchor_audit_log(AnchorReason.MANUAL)
        except (AuditLogBroken, AuditKeyError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"已锚定：{anchor.describe()}，根哈希 {anchor.root_hash}，密钥 {anchor.key_id}，签名 {anchor.signature}")

    @app.cli.command("rotate-audit-key")
    def rotate_audit_key_command() -> None:
        """Make a new audit key current (old keys kept for verifying); later events use the new key."""
        from ..services.audit_anchors import AuditLogBroken, rotate_audit_key
        from ..services.audit_keys import AuditKeyError

        try:
            old_id, new_id = rotate_audit_key()
        except (AuditLogBroken, AuditKeyError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"审计密钥已轮换：{old_id} → {new_id}（旧密钥保留，用于校验之前的事件）")

    @app.cli.command("seal-audit-log")
    def seal_audit_log_command() -> None:
        """Seal the events written before the chain was keyed (done by itself on the first write after the upgrade)."""
        from ..services.audit_anchors import AuditLogBroken, seal_audit_log
        from ..services.audit_keys import AuditKeyError

        try:
            sealed = seal_audit_log()
        except (AuditLogBroken, AuditKeyError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"已封存 {sealed} 条旧式审计事件并锚定" if sealed else "没有待封存的旧式审计事件；已锚定")
