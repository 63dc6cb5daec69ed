"""A real SMTP server for the tests: aiosmtpd on a free local port, keeping what it receives."""
from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from oversight.services.mailer import SmtpSettings


@dataclass(frozen=True)
class Received:
    to: list[str]
    subject: str
    sender: str
    body: str


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(list(envelope.rcpt_tos), str(message["Subject"]), str(message["From"]),
                                      message.get_body().get_content()))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [mail for mail in self.received if address in mail.to]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class MailServer:
    inbox: Inbox
    settings: SmtpSettings
    controller: Controller


@pytest.fixture
def mail_server(app):
    """The app configured to send through a local aiosmtpd server, for the test's length."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SENDER="oversight@county.example",
                      PUBLIC_BASE_URL="https://oversight.county.example")
    try:
        yield MailServer(inbox, SmtpSettings.from_config(app.config), controller)
    finally:
        controller.stop()
