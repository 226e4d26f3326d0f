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


def deliver(message: dict) -> None:
    from django.core.mail import EmailMultiAlternatives

    email = EmailMultiAlternatives(
        message["subject"], message["body"], message.get("from_email"), message["to"]
    )
    if message.get("html"):
        email.attach_alternative(message["html"], "text/html")
    email.send()
