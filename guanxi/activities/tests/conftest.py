"""Fixtures of the activities' tests: a real IMAP server (dovecot) on loopback (the SMTP
server, ``smtp_server``, is in the root conftest)."""

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


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Attachments are written under a temporary MEDIA_ROOT, never the install's var/."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
