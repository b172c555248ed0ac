"""One more email for a dose that was sent and is still unanswered: at the snooze time the
patient chose, and the one "remind again" follow-up (profile ``remind_again_minutes``), which
goes that many minutes after the last email of the dose and never while a snooze is pending.

Exactly once, by the same mechanism as the first email: a sweep picks due candidates, then claims
them with a conditional UPDATE whose WHERE holds only columns of the row itself (status still
``sent``, the nudge not yet marked), writing the time and its own token; PostgreSQL re-checks
those columns after waiting for a concurrent claimer and skips the row, so two sweeps, two beats
or a redelivered task send one nudge. A transient SMTP failure gives the claim back (a later
sweep tries again, until the dose is answered or missed); a permanent one keeps it.
"""

from __future__ import annotations

import datetime
import uuid

from django.db.models import F, Q

from accounts.models import Role
from medications.models import Reminder, ReminderKind, ReminderStatus
from medications.services.delivery import EMAIL_FIELDS, Nudge, send_batch
from medications.services.doses import ANSWER_WINDOW

SEND_BATCH = 250
MAX_BATCHES = 10_000

# Who gets reminder emails at all (the same rule as the first email).
RECIPIENT_Q = Q(patient__role=Role.PATIENT, patient__is_active=True, patient__email_reminders_enabled=True) & ~Q(
    patient__email=""
)


def snooze_due_q(now: datetime.datetime) -> Q:
    """Row-only: a sent dose whose snooze time has come and whose snooze email is not sent yet
    (snoozing again moves ``snoozed_until`` past the last ``snooze_sent_at``)."""
    return (
        _open_q(now)
        & Q(snoozed_until__isnull=False, snoozed_until__lte=now)
        & (Q(snooze_sent_at__isnull=True) | Q(snooze_sent_at__lt=F("snoozed_until")))
    )


def _open_q(now: datetime.datetime) -> Q:
    """Row-only: a scheduled dose that was sent, is unanswered and does not count as missed yet
    (the same sweep closes it after the nudges)."""
    return Q(kind=ReminderKind.SCHEDULED, status=ReminderStatus.SENT, scheduled_for__gte=now - ANSWER_WINDOW)


def follow_up_claim_q(now: datetime.datetime) -> Q:
    """Row-only: still open and never followed up."""
    return _open_q(now) & Q(followup_sent_at__isnull=True)


def follow_up_due_q(now: datetime.datetime) -> Q:
    """Joins the patient's ``remind_again_minutes``: the last email of the dose (the first one,
    or the snooze email) is that many minutes old, and no snooze is pending.

    One OR term per setting in use among the open doses (one query, bounded by the open doses of
    the last 4 hours; at most 231 values), so the cut-off is a plain instant on every database."""
    values = (
        Reminder.objects.filter(follow_up_claim_q(now), patient__remind_again_minutes__isnull=False)
        .order_by()
        .values_list("patient__remind_again_minutes", flat=True)
        .distinct()
    )
    due = Q(pk__in=[])
    for minutes in values:
        cut = now - datetime.timedelta(minutes=minutes)
        due |= Q(patient__remind_again_minutes=minutes, sent_at__lte=cut) & (
            Q(snooze_sent_at__isnull=True) | Q(snooze_sent_at__lte=cut)
        )
    return due & (Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))


def deliver_nudges(*, nudge: Nudge, candidates_q: Q, claim_q: Q, marker: str, now: datetime.datetime) -> int:
    """Claim and email due nudges in batches; returns how many were sent. ``claim_q`` holds only
    columns of the row; ``candidates_q`` may join (the patient's settings)."""
    sent = 0
    given_back: list[int] = []
    for _ in range(MAX_BATCHES):
        ids = list(
            Reminder.objects.filter(candidates_q, claim_q, RECIPIENT_Q)
            .exclude(pk__in=given_back)
            .order_by("scheduled_for", "id")
            .values_list("id", flat=True)[:SEND_BATCH]
        )
        if not ids:
            return sent
        token = uuid.uuid4()
        Reminder.objects.filter(claim_q, pk__in=ids).update(**{marker: now}, nudge_claim=token)
        batch = list(
            Reminder.objects.filter(nudge_claim=token, **{marker: now})
            .select_related("medication", "patient")
            .only(*EMAIL_FIELDS)
            .order_by("scheduled_for", "id")
        )
        outcome = send_batch(batch, nudge=nudge)
        if outcome.transient:
            Reminder.objects.filter(pk__in=outcome.transient, nudge_claim=token).update(**{marker: None})
            given_back.extend(outcome.transient)
        sent += len(outcome.sent)
    return sent


def deliver_snoozed(*, now: datetime.datetime) -> int:
    due = snooze_due_q(now)
    return deliver_nudges(nudge=Nudge.SNOOZE, candidates_q=due, claim_q=due, marker="snooze_sent_at", now=now)


def deliver_follow_ups(*, now: datetime.datetime) -> int:
    return deliver_nudges(
        nudge=Nudge.FOLLOW_UP,
        candidates_q=follow_up_due_q(now),
        claim_q=follow_up_claim_q(now),
        marker="followup_sent_at",
        now=now,
    )
