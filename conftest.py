"""Fixtures shared by every app's tests."""

import pytest


@pytest.fixture
def workspace(db):
    from guanxi.platform.tests.factories import WorkspaceFactory

    return WorkspaceFactory()


@pytest.fixture
def admin_user(workspace):
    from guanxi.platform.tests.factories import UserFactory

    return UserFactory(workspace=workspace, role_code="administrator")


@pytest.fixture
def other_workspace(db):
    from guanxi.platform.tests.factories import WorkspaceFactory

    return WorkspaceFactory(name="Other Co.")


@pytest.fixture
def other_admin(other_workspace):
    from guanxi.platform.tests.factories import UserFactory

    return UserFactory(workspace=other_workspace, role_code="administrator")


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback (aiosmtpd) that Django's SMTP backend sends to; the
    fixture's value keeps what it received (``.messages``, ``.recipients``)."""
    from aiosmtpd.controller import Controller

    from guanxi.common.tests.smtp import SmtpSink, free_port

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
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
def _english_by_default():
    """Each test starts in the default language, whatever the previous one activated."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.postgres_only`` tests skip, with the reason, on other databases."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="PostgreSQL only (run with DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)
