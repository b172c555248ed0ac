"""The built-in statistical analysis (``source: "local"``): the numbers.

:func:`collect_facts` asks the database for every number (a fixed handful of aggregate queries,
whatever the amount of data); ``narrative.describe`` turns them into plain language.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Q
from django.db.models.functions import Lower

from core.validators import DATE_MIN
from medications.models import Medication
from symptoms.models import Mood, Symptom

SEVERE = 8  # severity from which an episode counts as severe
MAX_MEDICATIONS = 10
MAX_TOP_SYMPTOMS = 5
MAX_SYMPTOM_GROUPS = 15


@dataclass(frozen=True)
class Window:
    start: datetime.date
    end: datetime.date
    days: int

    @property
    def middle(self) -> datetime.date:
        """First day of the second half (the first half is the older ``days // 2`` days)."""
        return self.start + datetime.timedelta(days=self.days // 2)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def window_for(patient, days: int, *, end: datetime.date | None = None) -> Window:
    """The ``days`` days up to ``end`` (default: today), in the patient's own time zone."""
    start, end = patient.local_days(days, end=end)
    return Window(start=start, end=end, days=days)


_MOOD_COUNTS = ("count", "low_days", "n_with_symptoms", "n_without_symptoms", "first_n", "second_n")


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


# --- Facts (SQL) --------------------------------------------------------------------------------


def _medications(patient, window: Window) -> list[dict[str, Any]]:
    """Medications taken at some point in the window (newest start first, bounded). A start
    before ``DATE_MIN`` (which the API refuses; the admin or a shell could still write one) is
    no start to compare around: the days before it are not dates at all."""
    rows = (
        Medication.objects.filter(patient=patient, start_date__lte=window.end, start_date__gte=DATE_MIN)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=window.start))
        .order_by("-start_date", "-id")
        .values("id", "name", "dosage", "frequency", "start_date", "end_date", "is_active")[:MAX_MEDICATIONS]
    )
    meds = []
    for row in rows:
        # A symmetric comparison around the start: the `days` days before it vs the `days` days
        # from it (capped at today and at the medication's end).
        before_start = row["start_date"] - datetime.timedelta(days=window.days)
        after_end = min(row["start_date"] + datetime.timedelta(days=window.days - 1), window.end)
        if row["end_date"]:
            after_end = min(after_end, row["end_date"])
        meds.append({**row, "before_start": before_start, "after_end": after_end})
    return meds


def _before_q(med: dict, prefix: str = "") -> Q:
    return Q(**{f"{prefix}date__gte": med["before_start"], f"{prefix}date__lt": med["start_date"]})


def _after_q(med: dict, prefix: str = "") -> Q:
    return Q(**{f"{prefix}date__gte": med["start_date"], f"{prefix}date__lte": med["after_end"]})


def _medication_aggregates(meds: list[dict]) -> dict[str, Any]:
    aggregates: dict[str, Any] = {}
    for i, med in enumerate(meds):
        aggregates[f"m{i}_before_avg"] = Avg("severity", filter=_before_q(med))
        aggregates[f"m{i}_before_n"] = Count("id", filter=_before_q(med))
        aggregates[f"m{i}_after_avg"] = Avg("severity", filter=_after_q(med))
        aggregates[f"m{i}_after_n"] = Count("id", filter=_after_q(med))
    return aggregates


def collect_facts(patient, window: Window) -> dict[str, Any]:
    """Every number the analysis needs, computed by the database (at most 7 queries)."""
    in_window = Symptom.objects.filter(patient=patient, date__gte=window.start, date__lte=window.end)
    first_half, second_half = Q(date__lt=window.middle), Q(date__gte=window.middle)

    totals = in_window.aggregate(
        count=Count("id"),
        avg=Avg("severity"),
        max=Max("severity"),
        severe=Count("id", filter=Q(severity__gte=SEVERE)),
        days_logged=Count("date", distinct=True),
        first_avg=Avg("severity", filter=first_half),
        first_n=Count("id", filter=first_half),
        second_avg=Avg("severity", filter=second_half),
        second_n=Count("id", filter=second_half),
    )

    top = list(
        in_window.values(key=Lower("name"))
        .annotate(
            name=Min("name"),
            count=Count("id"),
            avg=Avg("severity"),
            max=Max("severity"),
            days=Count("date", distinct=True),
            last=Max("date"),
            first_avg=Avg("severity", filter=first_half),
            first_n=Count("id", filter=first_half),
            second_avg=Avg("severity", filter=second_half),
            second_n=Count("id", filter=second_half),
        )
        .order_by("-count", "-avg", "key")[:MAX_TOP_SYMPTOMS]
    )

    meds = _medications(patient, window)
    if meds:
        earliest = min(med["before_start"] for med in meds)
        around = Symptom.objects.filter(patient=patient, date__gte=earliest, date__lte=window.end)
        med_totals = around.aggregate(**_medication_aggregates(meds))
        by_symptom = list(
            around.values(key=Lower("name"))
            .annotate(name=Min("name"), total=Count("id"), **_medication_aggregates(meds))
            .order_by("-total", "key")[:MAX_SYMPTOM_GROUPS]
        )
        linked = list(
            Symptom.related_medications.through.objects.filter(
                symptom__patient=patient,
                symptom__date__gte=window.start,
                symptom__date__lte=window.end,
                medication_id__in=[med["id"] for med in meds],
            )
            .values("medication_id", key=Lower("symptom__name"))
            .annotate(name=Min("symptom__name"), count=Count("id"), avg=Avg("symptom__severity"))
            .order_by("medication_id", "-count", "key")
        )
    else:
        med_totals, by_symptom, linked = {}, [], []

    for i, med in enumerate(meds):
        med["before_avg"] = _round(med_totals.get(f"m{i}_before_avg"))
        med["before_n"] = med_totals.get(f"m{i}_before_n", 0)
        med["after_avg"] = _round(med_totals.get(f"m{i}_after_avg"))
        med["after_n"] = med_totals.get(f"m{i}_after_n", 0)
        med["symptom_changes"] = [
            {
                "name": row["name"],
                "before_avg": _round(row[f"m{i}_before_avg"]),
                "before_n": row[f"m{i}_before_n"],
                "after_avg": _round(row[f"m{i}_after_avg"]),
                "after_n": row[f"m{i}_after_n"],
            }
            for row in by_symptom
            if row[f"m{i}_before_n"] or row[f"m{i}_after_n"]
        ]
        med["linked"] = [
            {"name": row["name"], "count": row["count"], "avg": _round(row["avg"])}
            for row in linked
            if row["medication_id"] == med["id"]
        ]

    symptoms_that_day = Symptom.objects.filter(patient=patient, date=OuterRef("date"))
    mood = (
        Mood.objects.filter(patient=patient, date__gte=window.start, date__lte=window.end)
        .annotate(
            with_symptoms=Exists(symptoms_that_day),
            with_high=Exists(symptoms_that_day.filter(severity__gte=6)),
        )
        .aggregate(
            count=Count("id"),
            avg=Avg("mood"),
            low_days=Count("id", filter=Q(mood__lte=2)),
            avg_with_symptoms=Avg("mood", filter=Q(with_symptoms=True)),
            n_with_symptoms=Count("id", filter=Q(with_symptoms=True)),
            avg_without_symptoms=Avg("mood", filter=Q(with_symptoms=False)),
            n_without_symptoms=Count("id", filter=Q(with_symptoms=False)),
            avg_high_severity=Avg("mood", filter=Q(with_high=True)),
            first_avg=Avg("mood", filter=first_half),
            first_n=Count("id", filter=first_half),
            second_avg=Avg("mood", filter=second_half),
            second_n=Count("id", filter=second_half),
        )
    )

    return {
        "window": window,
        "count": totals["count"],
        "avg": _round(totals["avg"]),
        "max": totals["max"],
        "severe": totals["severe"],
        "days_logged": totals["days_logged"],
        "first_avg": _round(totals["first_avg"]),
        "first_n": totals["first_n"],
        "second_avg": _round(totals["second_avg"]),
        "second_n": totals["second_n"],
        "top": [
            {
                "name": row["name"],
                "count": row["count"],
                "avg": _round(row["avg"]),
                "max": row["max"],
                "days": row["days"],
                "last": row["last"],
                "first_avg": _round(row["first_avg"]),
                "first_n": row["first_n"],
                "second_avg": _round(row["second_avg"]),
                "second_n": row["second_n"],
            }
            for row in top
        ],
        "medications": meds,
        "mood": {key: (value if key in _MOOD_COUNTS else _round(value)) for key, value in mood.items()},
    }
