"""Fixtures of the activities' tests: a real IMAP server (dovecot) on loopback."""

from __future__ import annotations

import itertools
import os

import pytest

from . import imap_server

_folders = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot():
    """One dovecot for the session. Without it the IMAP tests skip — except under CI,
    where a missing server is a failure."""
    if not imap_server.available():
        if os.environ.get("CI"):
            pytest.fail(f"{imap_server.DOVECOT} is missing; CI installs dovecot-imapd")
        pytest.skip(f"{imap_server.DOVECOT} is not installed (apt-get install dovecot-imapd)")
    server = imap_server.DovecotServer().start()
    yield server
    server.stop()


@pytest.fixture
def imap_folder(dovecot):
    """A fresh, empty folder per test, so tests never see each other's messages."""
    name = f"T{os.getpid()}x{next(_folders)}"
    dovecot.create_folder(name)
    yield name
    dovecot.delete_folder(name)


class SmtpSink:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback (aiosmtpd) that Django's SMTP backend sends to."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=imap_server.free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "guanxi <noreply@crm.example.com>"
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Attachments are written under a temporary MEDIA_ROOT, never the install's var/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
