"""Composing and sending reminder emails (through ``core.mail``, the only email adapter).

One template serves the three emails a dose can get: the reminder at its time, the one at the
snooze time (``Nudge.SNOOZE``) and the follow-up of "remind again" (``Nudge.FOLLOW_UP``). The
confirm link is always the first link; the "Snooze 15 min" link comes after it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connections

from core.mail import EmailDeliveryError, open_connection, send_templated_email
from medications.models import Reminder
from medications.services.doses import SNOOZE_LINK_MINUTES, confirm_token, snooze_token

logger = logging.getLogger(__name__)

TEMPLATE = "medications/email/reminder"
# What a batch send reads of each reminder (select_related + only).
EMAIL_FIELDS = (
    "id",
    "scheduled_for",
    "medication__name",
    "medication__dosage",
    "patient__email",
    "patient__username",
    "patient__first_name",
    "patient__timezone",
    "patient__email_reminders_enabled",
)


class Nudge(enum.Enum):
    FIRST = "first"
    SNOOZE = "snooze"
    FOLLOW_UP = "follow_up"


_SUBJECT_PREFIX = {Nudge.FIRST: "Reminder", Nudge.SNOOZE: "Snoozed reminder", Nudge.FOLLOW_UP: "Still to take"}


def confirm_url(reminder_id: int) -> str:
    return f"{settings.PUBLIC_URL}/api/medications/reminders/confirm/{confirm_token(reminder_id)}/"


def snooze_url(reminder_id: int) -> str:
    return f"{settings.PUBLIC_URL}/api/medications/reminders/snooze/{snooze_token(reminder_id)}/"


def reminder_email_parts(reminder: Reminder, *, nudge: Nudge = Nudge.FIRST) -> tuple[str, dict]:
    """Subject and template context. Needs ``reminder.medication`` and ``reminder.patient``."""
    patient = reminder.patient
    medication = reminder.medication
    local = reminder.scheduled_for.astimezone(patient.tzinfo)
    context = {
        "nudge": nudge.value,
        "patient_name": patient.first_name or patient.username,
        "medication_name": medication.name,
        "dosage": medication.dosage,
        "local_time": local.strftime("%H:%M"),
        "local_date": local.date().isoformat(),
        "timezone_name": patient.timezone,
        "confirm_url": confirm_url(reminder.pk),
        "snooze_url": snooze_url(reminder.pk),
        "snooze_minutes": SNOOZE_LINK_MINUTES,
        "valid_hours": 24,
    }
    subject = f"{_SUBJECT_PREFIX[nudge]}: {medication.name} {medication.dosage} at {context['local_time']}"
    return subject, context


def send_reminder_email(
    reminder: Reminder, *, connection: BaseEmailBackend | None = None, nudge: Nudge = Nudge.FIRST
) -> None:
    """Send one reminder; raises ``core.mail.EmailDeliveryError`` (``permanent`` or not)."""
    subject, context = reminder_email_parts(reminder, nudge=nudge)
    send_templated_email(
        to=reminder.patient.email, subject=subject, template=TEMPLATE, context=context, connection=connection
    )


@dataclass
class BatchOutcome:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # permanent: retrying cannot help
    transient: list[int] = field(default_factory=list)


# A batch is sent over up to EMAIL_SMTP_CONNECTIONS SMTP sessions at once, each with at least this
# many reminders: a session's round trips (MAIL, RCPT, DATA) overlap the others' and the
# composing, which one session at a time left waiting (docs/performance.md, "Reminder sweep").
MIN_PER_CONNECTION = 25


def send_batch(reminders: Iterable[Reminder], *, nudge: Nudge = Nudge.FIRST) -> BatchOutcome:
    """Email each reminder once, over up to ``EMAIL_SMTP_CONNECTIONS`` SMTP connections at once
    (each reminder on one of them, a batch smaller than two connections' worth on one); one bad
    address never stops the others. The outcome names every reminder once, whichever connection
    sent it. Composing reads only the rows given (``EMAIL_FIELDS``): no query."""
    reminders = list(reminders)
    lanes = max(1, min(settings.EMAIL_SMTP_CONNECTIONS, len(reminders) // MIN_PER_CONNECTION))
    if lanes == 1:
        return _send_lane(reminders, nudge)
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="smtp") as pool:
        outcomes = list(pool.map(lambda lane: _send_lane_in_thread(reminders[lane::lanes], nudge), range(lanes)))
    merged = BatchOutcome()
    for outcome in outcomes:
        merged.sent += outcome.sent
        merged.failed += outcome.failed
        merged.transient += outcome.transient
    return merged


def _send_lane_in_thread(reminders: list[Reminder], nudge: Nudge) -> BatchOutcome:
    try:
        return _send_lane(reminders, nudge)
    finally:
        connections.close_all()  # this thread's own, should composing ever come to query


def _send_lane(reminders: list[Reminder], nudge: Nudge) -> BatchOutcome:
    """Email each reminder over one SMTP connection (reopened after a transient failure)."""
    outcome = BatchOutcome()
    if not reminders:
        return outcome
    connection = open_connection()
    try:
        connection.open()
    except Exception:  # SMTP server unreachable: the whole batch is transient
        logger.warning("SMTP connection failed; %s reminder emails not sent", len(reminders), exc_info=True)
        outcome.transient = [reminder.pk for reminder in reminders]
        return outcome
    try:
        for reminder in reminders:
            try:
                send_reminder_email(reminder, connection=connection, nudge=nudge)
            except EmailDeliveryError as exc:
                logger.warning("reminder %s: delivery failed (%s, permanent=%s)", reminder.pk, exc, exc.permanent)
                if exc.permanent:
                    outcome.failed.append(reminder.pk)
                else:
                    outcome.transient.append(reminder.pk)
                    _reopen(connection)
            else:
                outcome.sent.append(reminder.pk)
    finally:
        connection.close()
    return outcome


def _reopen(connection) -> None:
    try:
        connection.close()
        connection.open()
    except Exception:  # the next send reports the problem for its own reminder
        logger.warning("SMTP reconnect failed", exc_info=True)
