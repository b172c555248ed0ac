"""Read use cases and aggregations for medications and doses, done by the database."""

from __future__ import annotations

import datetime
import hmac
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core.prepared import Aggregation, PreparedQuery
from medications import ics
from medications.models import CalendarFeed, Medication, Reminder, ReminderKind, ReminderStatus
from medications.schedule import REGIMEN_COLUMNS, Regimen, doses_on_days, resolve_local

COUNTED_STATUSES = (ReminderStatus.TAKEN, ReminderStatus.SKIPPED, ReminderStatus.MISSED)
HISTORY_FIELDS = ("id", "medication", "medication_name", "scheduled_for", "status", "sent_at", "responded_at")


def _rate(taken: int, total: int) -> float | None:
    return round(taken * 100.0 / total, 1) if total else None


def local_window(*, patient: User, days: int) -> tuple[datetime.date, datetime.date, datetime.datetime]:
    """First and last local date of a ``days``-long window ending today (``User.local_days``), and
    its aware start."""
    start, end = patient.local_days(days)
    return start, end, local_day_start(start, patient.tzinfo)


_COUNTS = {
    "taken": Count("id", filter=Q(status=ReminderStatus.TAKEN)),
    "missed": Count("id", filter=Q(status=ReminderStatus.MISSED)),
    "skipped": Count("id", filter=Q(status=ReminderStatus.SKIPPED)),
}


def _doses_in_window(patient_id: int, start_at: datetime.datetime, now: datetime.datetime) -> QuerySet[Reminder]:
    return Reminder.objects.filter(patient_id=patient_id, scheduled_for__gte=start_at, scheduled_for__lte=now)


# Compiled once per process (core.prepared). The medication's own patient is named too, so the
# database joins the patient's few medications, not every medication (a dose's patient is its
# medication's).
_ADHERENCE_PER_MEDICATION = PreparedQuery(
    lambda patient_id, start_at, now: (
        _doses_in_window(patient_id, start_at, now)
        .filter(kind=ReminderKind.SCHEDULED, status__in=COUNTED_STATUSES, medication__patient_id=patient_id)
        .values("medication_id", name=F("medication__name"))
        .annotate(**_COUNTS)
        .order_by("name", "medication_id")
    ),
    # Planned with each call's window: the generic plan (no values) expects one dose and loops
    # over the medications per dose, 4× slower for a patient with a month of doses.
    replan=True,
    patient_id=int,
    start_at=datetime.datetime,
    now=datetime.datetime,
)
_ADHERENCE_HISTORY = PreparedQuery(
    lambda patient_id, start_at, now: (
        _doses_in_window(patient_id, start_at, now)
        .annotate(medication_name=F("medication__name"))
        .order_by("-scheduled_for", "-id")
        .values(*HISTORY_FIELDS)[:50]
    ),
    patient_id=int,
    start_at=datetime.datetime,
    now=datetime.datetime,
)


def adherence_summary(*, patient: User, days: int) -> dict[str, Any]:
    """Adherence over the last ``days`` local days (today included).

    Only past scheduled doses that were answered or missed count (pending, sent-and-unanswered
    and failed ones do not; logged as-needed doses are history, not adherence). Two queries: the
    counts per medication (the totals are their sums: every dose has one medication) and the
    history.
    """
    start, end, start_at = local_window(patient=patient, days=days)
    window = {"patient_id": patient.pk, "start_at": start_at, "now": timezone.now()}
    per_medication = _ADHERENCE_PER_MEDICATION(**window)
    totals = {status: sum(row[status] for row in per_medication) for status in _COUNTS}
    total = totals["taken"] + totals["missed"] + totals["skipped"]
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
        "history": _ADHERENCE_HISTORY(**window),
    }


# --- Medications and dose history ---------------------------------------------------------------


def medications_visible(*, user: User, patient: User | None = None) -> QuerySet[Medication]:
    """What ``user`` may read, narrowed to one ``patient`` (a doctor's ``?patient=``).
    The owner's zone annotated: ``is_current`` needs it for "today" (one column, not the owner)."""
    queryset = Medication.objects.for_user(user).annotate(patient_timezone=F("patient__timezone"))
    if patient is not None:
        queryset = queryset.filter(patient=patient)
    return queryset


# The medications list's order (the view's default ``ordering``).
MEDICATION_ORDER = ("-created_at", "-id")

_MEDICATIONS = PreparedQuery(
    lambda patient_id: Medication.objects.filter(patient_id=patient_id).order_by(*MEDICATION_ORDER), patient_id=int
)


def medications_of(*, patient: User) -> list[Medication]:
    """``patient``'s medications in the list's order (with ``patient_timezone``). One prepared
    query: the plain list's (no filter, search, ordering or page asked for)."""
    medications = _MEDICATIONS(patient_id=patient.pk)
    for medication in medications:
        medication.patient_timezone = patient.timezone  # the owner is the patient named
    return medications


_MEDICATION = PreparedQuery(
    lambda patient_id, medication_id: Medication.objects.filter(pk=medication_id, patient_id=patient_id),
    patient_id=int,
    medication_id=int,
)


def medication_of(*, patient: User, medication_id: int) -> Medication | None:
    """``patient``'s medication ``medication_id`` (with ``patient_timezone``, as
    ``medications_visible`` annotates it), or None. One prepared query: a detail read's."""
    found = _MEDICATION(patient_id=patient.pk, medication_id=medication_id)
    if not found:
        return None
    medication = found[0]
    medication.patient_timezone = patient.timezone  # the owner is the patient named
    return medication


def _zones(*, user: User, patient: User | None) -> list[str]:
    """The time zones of the patients whose rows ``user`` reads (one query for a doctor)."""
    if patient is not None:
        return [patient.timezone]
    if user.is_patient:
        return [user.timezone]
    return list(User.objects.assigned_to(user).order_by().values_list("timezone", flat=True).distinct())


def _by_local_today(*, user: User, patient: User | None, condition) -> Q:
    """OR over the visible patients' zones of ``condition(today in that zone)``, so "today" is
    each owner's own and the filter stays in SQL."""
    query = Q(pk__in=[])
    now = timezone.now()
    for name in _zones(user=user, patient=patient):
        today = now.astimezone(ZoneInfo(name)).date()
        query |= Q(patient__timezone=name) & condition(today)
    return query


def _current_on(today: datetime.date) -> Q:
    """Current on ``today``: active, started, not ended."""
    return Q(is_active=True, start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gte=today))


def medications_current(*, user: User, patient: User | None = None) -> QuerySet[Medication]:
    """Active, started, not ended (in the owner's local today)."""
    return medications_visible(user=user, patient=patient).filter(
        _by_local_today(user=user, patient=patient, condition=_current_on)
    )


_CURRENT_COUNT = PreparedQuery(
    lambda patient_id, today: Aggregation(
        Medication.objects.filter(_current_on(today), patient_id=patient_id), count=Count("id")
    ),
    patient_id=int,
    today=datetime.date,
)


def current_medication_count(*, patient: User) -> int:
    """How many of ``patient``'s medications are current in their local today. One query."""
    return _CURRENT_COUNT(patient_id=patient.pk, today=patient.local_today())["count"]


def medications_upcoming(*, user: User, patient: User | None = None) -> QuerySet[Medication]:
    """Active, starting after the owner's local today."""
    return medications_visible(user=user, patient=patient).filter(
        _by_local_today(user=user, patient=patient, condition=lambda today: Q(is_active=True, start_date__gt=today))
    )


def reminders_visible(*, user: User, patient: User | None = None) -> QuerySet[Reminder]:
    """Dose history ``user`` may read; ``medication_name`` annotated (no per-row query)."""
    queryset = Reminder.objects.for_user(user).annotate(medication_name=F("medication__name"))
    if patient is not None:
        queryset = queryset.filter(patient=patient)
    return queryset.order_by("-scheduled_for", "-id")


def local_day_start(day: datetime.date, tz: ZoneInfo) -> datetime.datetime:
    """The first instant of local ``day`` (midnight, or the first valid minute after it)."""
    return resolve_local(day, datetime.time.min, tz)


def reminder_for_link(reminder_id: int) -> Reminder | None:
    """The dose an emailed link names (with what its page shows), or None when it is gone."""
    return Reminder.objects.select_related("medication", "patient").filter(pk=reminder_id).first()


# --- Coming doses and the calendar feed ---------------------------------------------------------


def medication_schedule(
    *, medication: Medication, tz: ZoneInfo, days: int, now: datetime.datetime | None = None
) -> list[dict[str, Any]]:
    """The doses of the next ``days`` local days (today first) still to come, in order: what the
    sweep will send (the same ``medications.schedule`` code)."""
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    found = doses_on_days(Regimen.of(medication), tz=tz, first=today, last=today + datetime.timedelta(days=days - 1))
    return [
        {
            "scheduled_for": dose.at,
            "local_date": dose.local_date,
            "local_time": dose.local_time,
            "dose_quantity": dose.quantity,
        }
        for dose in found
        if dose.at > now
    ]


def calendar_feed_by_token(token: str) -> CalendarFeed | None:
    """The feed a URL token opens, with its patient; None for any other string. The lookup is by
    the token's SHA-256 (no stored token to compare), checked again in constant time."""
    digest = ics.token_hash(token)
    feed = CalendarFeed.objects.select_related("patient").filter(token_hash=digest, patient__is_active=True).first()
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    return feed


def calendar_feed_document(*, feed: CalendarFeed, now: datetime.datetime | None = None) -> bytes:
    """The feed's .ics: every active medication's doses in the feed window. Two queries in all
    (the feed with its patient, then the medications)."""
    medications = Medication.objects.filter(patient_id=feed.patient_id, is_active=True).only(
        "id", "name", "dosage", "dose_unit", *REGIMEN_COLUMNS
    )
    return ics.calendar_document(
        patient=feed.patient, medications=medications, show_names=feed.show_names, now=now or timezone.now()
    )
