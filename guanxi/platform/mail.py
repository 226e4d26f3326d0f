"""Outgoing mail goes through the worker: nobody waits on a mail server."""

from __future__ import annotations

from django.db import transaction


def queue_email(
    *,
    subject: str,
    body: str,
    to: list[str],
    from_email: str | None = None,
    html: str | None = None,
) -> None:
    """Send a rendered message from the worker once the current transaction commits.

    SMTP failures are retried by the worker (``tasks.send_email``).
    """
    from .tasks import send_email

    message = {
        "subject": subject,
        "body": body,
        "to": list(to),
        "from_email": from_email,
        "html": html,
    }
    transaction.on_commit(lambda: send_email(message))


def queue_template_email(
    *, to: list[str], subject_template: str, body_template: str, context: dict, language: str
) -> None:
    """Render a message in the recipient's ``language`` now and send it from the worker."""
    from django.template import loader
    from django.utils import translation

    with translation.override(language or None):
        subject = "".join(loader.render_to_string(subject_template, context).splitlines())
        body = loader.render_to_string(body_template, context)
    queue_email(subject=subject, body=body, to=to)


def absolute_url(path: str) -> str:
    from django.conf import settings

    return f"{settings.GUANXI_BASE_URL}{path}"


def deliver(message: dict) -> None:
    from django.core.mail import EmailMultiAlternatives

    email = EmailMultiAlternatives(
        message["subject"], message["body"], message.get("from_email"), message["to"]
    )
    if message.get("html"):
        email.attach_alternative(message["html"], "text/html")
    email.send()
