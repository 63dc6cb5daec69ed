"""E-mail through SMTP, used only when the deployment configures a server."""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool

    @classmethod
    def from_config(cls, config) -> SmtpSettings | None:
        if not config.get("SMTP_HOST"):
            return None
        return cls(config["SMTP_HOST"], int(config["SMTP_PORT"]), config["SMTP_SENDER"],
                   config["SMTP_USERNAME"], config["SMTP_PASSWORD"], bool(config["SMTP_STARTTLS"]))


def send_email(settings: SmtpSettings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, to, subject
    message["Date"], message["Message-ID"] = formatdate(), make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body)
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)
