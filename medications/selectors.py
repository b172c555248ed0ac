"""Read use cases and aggregations for medications and doses, done by the database."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from medications.models import Reminder, ReminderKind, ReminderStatus

COUNTED_STATUSES = (ReminderStatus.TAKEN, ReminderStatus.SKIPPED, ReminderStatus.MISSED)
HISTORY_FIELDS = ("id", "medication", "medication_name", "scheduled_for", "status", "sent_at", "responded_at")


def _rate(taken: int, total: int) -> float | None:
    return round(taken * 100.0 / total, 1) if total else None


def local_window(*, patient: User, days: int) -> tuple[datetime.date, datetime.date, datetime.datetime]:
    """First and last local date of a ``days``-long window ending today, and its aware start."""
    end = patient.local_today()
    start = end - datetime.timedelta(days=days - 1)
    start_at = datetime.datetime.combine(start, datetime.time.min, tzinfo=patient.tzinfo)
    return start, end, start_at


def adherence_summary(*, patient: User, days: int) -> dict[str, Any]:
    """Adherence over the last ``days`` local days (today included).

    Only past scheduled doses that were answered or missed count (pending, sent-and-unanswered
    and failed ones do not; logged as-needed doses are history, not adherence). Three queries.
    """
    start, end, start_at = local_window(patient=patient, days=days)
    now = timezone.now()
    window = Reminder.objects.filter(patient=patient, scheduled_for__gte=start_at, scheduled_for__lte=now)
    counted = window.filter(kind=ReminderKind.SCHEDULED, status__in=COUNTED_STATUSES)
    counts = {
        "taken": Count("id", filter=Q(status=ReminderStatus.TAKEN)),
        "missed": Count("id", filter=Q(status=ReminderStatus.MISSED)),
        "skipped": Count("id", filter=Q(status=ReminderStatus.SKIPPED)),
    }
    totals = counted.aggregate(**counts)
    total = totals["taken"] + totals["missed"] + totals["skipped"]
    per_medication = (
        counted.values("medication_id", name=F("medication__name")).annotate(**counts).order_by("name", "medication_id")
    )
    history = (
        window.annotate(medication_name=F("medication__name"))
        .order_by("-scheduled_for", "-id")
        .values(*HISTORY_FIELDS)[:50]
    )
    return {
        "adherence_rate": _rate(totals["taken"], total),
        "total_reminders": total,
        "taken_reminders": totals["taken"],
        "missed_reminders": totals["missed"],
        "skipped_reminders": totals["skipped"],
        "period": {"start": start, "end": end},
        "medications": [
            {
                "medication_id": row["medication_id"],
                "name": row["name"],
                "adherence_rate": _rate(row["taken"], row["taken"] + row["missed"] + row["skipped"]),
                "taken": row["taken"],
                "missed": row["missed"],
                "skipped": row["skipped"],
            }
            for row in per_medication
        ],
        "history": list(history),
    }
