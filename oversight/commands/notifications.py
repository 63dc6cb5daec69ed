"""Sending the notifications' e-mails (the outbox) from the command line."""
from __future__ import annotations

import click
from flask import Flask, current_app

from ..services.mailer import SmtpSettings
from ..services.notifications import deliver_pending_emails


def register(app: Flask) -> None:
    @app.cli.command("send-notifications")
    def send_notifications() -> None:
        """Send the pending notification e-mails once (a failure is retried on a later run)."""
        smtp = SmtpSettings.from_config(current_app.config)
        if smtp is None:
            raise click.ClickException("未配置邮件服务器（SMTP_HOST），没有发送任何邮件")
        delivery = deliver_pending_emails(smtp)
        click.echo(f"已发送 {delivery.sent} 封，待重试 {delivery.retrying} 封，失败 {delivery.failed} 封，"
                   f"不再发送 {delivery.skipped} 封，恢复中断 {delivery.resumed} 封")
        if delivery.retrying or delivery.failed:
            raise SystemExit(1)
