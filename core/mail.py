"""The one adapter for outgoing email: templated plain text + HTML through Django's backend.

Templates come in pairs, ``<name>.txt`` (wrap it in ``{% autoescape off %}``) and ``<name>.html``
(autoescaped: every user value is escaped). Configure the transport with ``EMAIL_*`` settings;
tests point it at a local SMTP server.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger(__name__)


class EmailDeliveryError(Exception):
    """Sending failed. ``permanent`` is True when retrying cannot help (e.g. address refused)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


# Celery options of every task that sends email: retry transient failures with backoff.
EMAIL_TASK_RETRY: dict[str, Any] = {
    "autoretry_for": (EmailDeliveryError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


class DevMailboxBackend(BaseEmailBackend):
    """``make run``'s email: each message is written to its own file under ``VAR_DIR/mail/`` and
    gets one console line (where to read it), instead of the whole message on stdout (which the
    Celery worker logs line by line at WARNING). The line names no address or subject."""

    def send_messages(self, messages) -> int:
        directory = settings.VAR_DIR / "mail"
        directory.mkdir(parents=True, exist_ok=True)
        for message in messages:
            path = directory / f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(message.message().as_bytes())
            logger.info("email sent to %d recipient(s): %s", len(message.recipients()), path)
        return len(messages)


def open_connection() -> BaseEmailBackend:
    """A reusable backend connection, for sending a batch over one SMTP session."""
    return get_connection(fail_silently=False)


def render_email(*, template: str, context: dict[str, Any]) -> tuple[str, str]:
    return render_to_string(f"{template}.txt", context), render_to_string(f"{template}.html", context)


def send_templated_email(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    connection: BaseEmailBackend | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    text, html = render_email(template=template, context=context)
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " ").replace("\r", " "),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise EmailDeliveryError(type(exc).__name__, permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailDeliveryError(type(exc).__name__) from exc


def send_claimed_email(*, give_back: Callable[[], object], label: str, **email: Any) -> str:
    """Send one email whose sending was claimed in the database (a conditional UPDATE).

    "sent"; a permanent failure keeps the claim ("failed": retrying cannot help); a transient one
    calls ``give_back`` (undo the claim) and re-raises ``EmailDeliveryError`` for the task to
    retry. ``label`` names the email in the log (ids only)."""
    try:
        send_templated_email(**email)
    except EmailDeliveryError as exc:
        logger.warning("%s: email failed (%s, permanent=%s)", label, exc, exc.permanent)
        if exc.permanent:
            return "failed"
        give_back()
        raise
    return "sent"


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 ``List-Unsubscribe`` with RFC 8058 one-click: the mail client POSTs
    ``List-Unsubscribe=One-Click`` to ``url`` (an https URL in production)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
