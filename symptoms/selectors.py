"""Read use cases and aggregations for symptoms and moods (the reads across apps: ``summaries``).

Every aggregation runs in the database; Python only fills the days of a window that had no rows
(a loop over dates, never over rows). The one exception is the mood trend's average, the mean of
the at most 366 moods the response already carries (see ``mood_trends``). "Today" is always the
patient's own local date.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Max, Min, Q, QuerySet
from django.db.models.functions import Collate, Lower

from accounts.models import User
from core.prepared import Aggregation, PreparedQuery
from medications.models import Medication
from symptoms.models import Mood, MoodLevel, Symptom

COMMON_SYMPTOMS_LIMIT = 5
RECENT_SYMPTOMS_LIMIT = 20
RECENT_MOODS_LIMIT = 30


def _each_day(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Every date from ``start`` to ``end``, both included (by ordinal: a third of the CPU of
    adding a new timedelta per day)."""
    day = datetime.date.fromordinal
    return [day(ordinal) for ordinal in range(start.toordinal(), end.toordinal() + 1)]


def _display_name() -> Min:
    """The label of a case-insensitive group of names: the byte-wise smallest spelling, so
    "Headache" wins over "headache" whatever the database's collation."""
    binary = "C" if connection.vendor == "postgresql" else "BINARY"
    return Min(Collate("name", binary))


def _one_decimal(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


# --- Symptoms ---------------------------------------------------------------------------------


def visible_medication(*, user: User, medication_id: int, patient: User | None) -> Medication | None:
    """A medication the user may read (their own, or an assigned patient's), narrowed to
    ``patient`` when given; None otherwise."""
    medications = Medication.objects.for_user(user).filter(pk=medication_id)
    if patient is not None:
        medications = medications.filter(patient=patient)
    return medications.first()


def symptoms_for_medication(*, queryset: QuerySet[Symptom], medication: Medication) -> QuerySet[Symptom]:
    return queryset.filter(patient_id=medication.patient_id, related_medications=medication)


def symptom_last_seven_days(*, queryset: QuerySet[Symptom], patient: User) -> QuerySet[Symptom]:
    start, end = patient.local_days(7)
    return queryset.filter(patient=patient, date__gte=start, date__lte=end)


def _by_name(rows: QuerySet[Symptom]) -> QuerySet[Symptom]:
    return (
        rows.annotate(key=Lower("name"))
        .values("key")
        .annotate(
            symptom_name=_display_name(),
            count=Count("id"),
            avg_severity=Avg("severity"),
            last_occurrence=Max("date"),
        )
        .order_by("-count", "-last_occurrence", "key")
    )


# Fixed-shape reads, compiled once per process (core.prepared): the dashboard's, the summary's,
# the mood trend's.
_SUMMARY_ALL_TIME = PreparedQuery(
    lambda patient_id: _by_name(Symptom.objects.filter(patient_id=patient_id)), patient_id=int
)
_SUMMARY_WINDOW = PreparedQuery(
    lambda patient_id, start, end: _by_name(
        Symptom.objects.filter(patient_id=patient_id, date__gte=start, date__lte=end)
    ),
    patient_id=int,
    start=datetime.date,
    end=datetime.date,
)


def symptom_summary(
    *, patient: User, window: tuple[datetime.date, datetime.date] | None = None
) -> list[dict[str, Any]]:
    """Per symptom name (case-insensitive): count, average severity, last date; most frequent
    first. All time when ``window`` (first and last date) is None. One query."""
    if window is None:
        grouped = _SUMMARY_ALL_TIME(patient_id=patient.pk)
    else:
        grouped = _SUMMARY_WINDOW(patient_id=patient.pk, start=window[0], end=window[1])
    return [
        {
            "symptom_name": row["symptom_name"],
            "count": row["count"],
            "avg_severity": _one_decimal(row["avg_severity"]),
            "last_occurrence": row["last_occurrence"],
        }
        for row in grouped
    ]


_DAILY_SEVERITY = PreparedQuery(
    lambda patient_id, start, end: (
        Symptom.objects.filter(patient_id=patient_id, date__gte=start, date__lte=end)
        .values("date")
        .annotate(average=Avg("severity"), count=Count("id"))
        .order_by("date")
    ),
    patient_id=int,
    start=datetime.date,
    end=datetime.date,
)


def symptom_daily_severity(*, patient: User, start: datetime.date, end: datetime.date) -> list[dict[str, Any]]:
    """Every date from ``start`` to ``end`` with its average severity (None) and count (0). One
    query."""
    per_day = {row["date"]: row for row in _DAILY_SEVERITY(patient_id=patient.pk, start=start, end=end)}
    return [
        {
            "date": day,
            "average": _one_decimal(per_day[day]["average"]) if day in per_day else None,
            "count": per_day[day]["count"] if day in per_day else 0,
        }
        for day in _each_day(start, end)
    ]


_COMMON_SYMPTOMS = PreparedQuery(
    lambda patient_id, start, end: (
        Symptom.objects.filter(patient_id=patient_id, date__gte=start, date__lte=end)
        .annotate(key=Lower("name"))
        .values("key")
        .annotate(name=_display_name(), count=Count("id"))
        .order_by("-count", "key")[:COMMON_SYMPTOMS_LIMIT]
    ),
    patient_id=int,
    start=datetime.date,
    end=datetime.date,
)


def common_symptoms(*, patient: User, start: datetime.date, end: datetime.date) -> list[dict[str, Any]]:
    """The ``COMMON_SYMPTOMS_LIMIT`` most frequent symptom names in the window (case-insensitive).
    One query."""
    return _COMMON_SYMPTOMS(patient_id=patient.pk, start=start, end=end)


_SYMPTOM_COUNTS = PreparedQuery(
    lambda patient_id, since, end: Aggregation(
        Symptom.objects.filter(patient_id=patient_id),
        total=Count("id"),
        in_window=Count("id", filter=Q(date__gte=since, date__lte=end)),
    ),
    patient_id=int,
    since=datetime.date,
    end=datetime.date,
)


def symptom_counts(*, patient: User, since: datetime.date, end: datetime.date) -> dict[str, int]:
    """All symptoms ever logged, and those from ``since`` to ``end``. One query."""
    return _SYMPTOM_COUNTS(patient_id=patient.pk, since=since, end=end)


def symptom_log(*, patient: User, start: datetime.date, end: datetime.date, limit: int) -> list[dict[str, Any]]:
    """The latest ``limit`` symptoms of the window as plain values, oldest first. One query."""
    latest = (
        Symptom.objects.filter(patient=patient, date__gte=start, date__lte=end)
        .order_by("-date", "-logged_at", "-id")
        .values("date", "name", "severity", "notes")[:limit]
    )
    return list(latest)[::-1]


# --- Moods ------------------------------------------------------------------------------------


def mood_stats(*, patient: User, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Average, number of logged days and the count per level in the window. One query."""
    per_level = {f"level_{level.value}": Count("id", filter=Q(mood=level.value)) for level in MoodLevel}
    stats = Mood.objects.filter(patient=patient, date__gte=start, date__lte=end).aggregate(
        average=Avg("mood"), logged_days=Count("id"), **per_level
    )
    return {
        "average": _one_decimal(stats["average"]),
        "logged_days": stats["logged_days"],
        "distribution": [
            {"mood": level.value, "label": level.label, "count": stats[f"level_{level.value}"]} for level in MoodLevel
        ],
    }


_MOOD_SERIES = PreparedQuery(
    lambda patient_id, start, end: (
        Mood.objects.filter(patient_id=patient_id, date__gte=start, date__lte=end)
        .values_list("date", "mood")
        .order_by()
    ),
    patient_id=int,
    start=datetime.date,
    end=datetime.date,
)


@functools.lru_cache(maxsize=64)
def _window_labels(start: datetime.date, end: datetime.date) -> tuple[tuple[datetime.date, ...], tuple[str, ...]]:
    """The window's dates and their ISO labels: the same for every patient whose local day it
    is, so made once per window and process (~25 µs of a trend request, docs/performance.md)."""
    days = tuple(_each_day(start, end))
    return days, tuple(day.isoformat() for day in days)


def mood_trends(*, patient: User, days: int) -> dict[str, Any]:
    """Chart.js mood line: every date of the window, null where nothing was logged, and the
    window's average. One query.

    The average is the mean of the window's moods (one per day), taken here from the rows the
    line reads, not aggregated again in SQL: the same float as PostgreSQL's ``avg`` cast to
    double (an integer sum divided once, correctly rounded; tested against it), while the
    window function it replaces cost the cold trend 3 points of the ceiling under load
    (docs/performance.md, "Sixth pass")."""
    start, end = patient.local_days(days)
    by_day = dict(_MOOD_SERIES(patient_id=patient.pk, start=start, end=end))
    window, labels = _window_labels(start, end)
    return {
        "labels": list(labels),
        "datasets": [
            {
                "label": "Mood",
                "data": [by_day.get(day) for day in window],
                "borderColor": "#198754",
                "backgroundColor": "rgba(25, 135, 84, 0.2)",
                "tension": 0.3,
                "spanGaps": True,
            }
        ],
        "average": _one_decimal(sum(by_day.values()) / len(by_day)) if by_day else None,
    }


# --- The doctor's patient overview ------------------------------------------------------------


def recent_symptoms(*, patient: User, limit: int = RECENT_SYMPTOMS_LIMIT) -> QuerySet[Symptom]:
    # related_medications_details needs the medications: one prefetch query.
    return (
        Symptom.objects.filter(patient=patient)
        .prefetch_related("related_medications")
        .order_by("-date", "-logged_at", "-id")[:limit]
    )


def recent_moods(*, patient: User, limit: int = RECENT_MOODS_LIMIT) -> QuerySet[Mood]:
    return Mood.objects.filter(patient=patient).order_by("-date", "-logged_at", "-id")[:limit]


def medication_links(
    *, fields: Sequence[str], symptoms: QuerySet[Symptom] | None = None, patient: User | None = None
) -> QuerySet:
    """The links of these symptoms (a QuerySet, read as a subquery: 1,000 ids as parameters cost
    the list endpoint more than its rows) or of all the patient's, as ``(symptom_id, *fields of
    the medication)`` rows, ordered by symptom, each symptom's in the order of
    ``symptom.related_medications.all()`` (the Medication model's default). One query."""
    links = Symptom.related_medications.through.objects
    links = (
        links.filter(symptom_id__in=symptoms.values("pk"))
        if symptoms is not None
        else links.filter(symptom__patient=patient)
    )
    ordering = [
        f"{'-' if key.startswith('-') else ''}medication__{key.lstrip('-')}" for key in Medication._meta.ordering
    ]
    return links.order_by("symptom_id", *ordering).values_list(
        "symptom_id", *(f"medication__{name}" for name in fields)
    )
