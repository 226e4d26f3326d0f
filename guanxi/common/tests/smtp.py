"""A real SMTP server on loopback for the tests (aiosmtpd), not a mock: the ``smtp_server``
fixture (in the root ``conftest.py``) starts one per test and points Django's SMTP backend
at it."""

from __future__ import annotations

import email
import email.policy
import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """An aiosmtpd handler that keeps every message it receives. Tests may replace
    ``handle_DATA`` or add ``handle_RCPT`` to make the server refuse or hang up."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.port: int | None = None

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"
