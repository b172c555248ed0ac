"""The reads that span medications, symptoms and moods: the dashboard, the doctor's patient
overview, the PDF report's data and the weekly digest's. Each composes the selectors of the apps
it reads; a fixed number of queries whatever the amount of data."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from medications.models import Frequency, Medication
from medications.selectors import adherence_summary, current_medication_count, medications_current
from medications.services.stock import supply
from symptoms import selectors as symptoms
from symptoms.insights import analysis
from symptoms.insights.services import cached_insight, local_insight

REPORT_SYMPTOM_LIMIT = 500
REGIMEN_FIELDS = (
    "days_of_week",
    "every_n_days",
    "cycle_on_days",
    "cycle_off_days",
    "interval_hours",
    "dose_quantity",
    "dose_unit",
    "taper",
)


def current_medications(*, patient: User) -> QuerySet[Medication]:
    """The patient's current medications (the medications app's rule), by name."""
    return medications_current(user=patient, patient=patient).order_by("name", "id")


def dashboard(*, patient: User, days: int) -> dict[str, Any]:
    """The Chart.js dashboard. Four queries whatever the amount of data."""
    start, end = patient.local_days(days)
    trend = symptoms.symptom_daily_severity(patient=patient, start=start, end=end)
    common = symptoms.common_symptoms(patient=patient, start=start, end=end)
    week_start, _ = patient.local_days(7)
    totals = symptoms.symptom_counts(patient=patient, since=week_start, end=end)
    return {
        "symptom_trends": {
            "labels": [day["date"].isoformat() for day in trend],
            "datasets": [
                {
                    "label": "Average Severity",
                    "data": [day["average"] for day in trend],
                    "borderColor": "#dc3545",
                    "backgroundColor": "rgba(220, 53, 69, 0.2)",
                    "tension": 0.3,
                    "spanGaps": True,
                },
                {
                    "label": "Symptom Count",
                    "data": [day["count"] for day in trend],
                    "borderColor": "#0d6efd",
                    "backgroundColor": "rgba(13, 110, 253, 0.2)",
                    "tension": 0.3,
                },
            ],
        },
        "common_symptoms": {
            "labels": [row["name"] for row in common],
            "datasets": [
                {
                    "label": "Frequency",
                    "data": [row["count"] for row in common],
                    "backgroundColor": "rgba(13, 110, 253, 0.6)",
                }
            ],
        },
        "stats": {
            "active_medications": current_medication_count(patient=patient),
            "total_symptoms_logged": totals["total"],
            "symptoms_last_7_days": totals["in_window"],
        },
    }


def patient_overview(*, patient: User) -> dict[str, Any]:
    """What an assigned doctor sees first: profile, current medications, the last 20 symptoms,
    the last 30 moods and 30 days of adherence."""
    return {
        "patient": patient,
        "medications": list(current_medications(patient=patient)),
        "recent_symptoms": list(symptoms.recent_symptoms(patient=patient)),
        "recent_moods": list(symptoms.recent_moods(patient=patient)),
        "adherence": adherence_summary(patient=patient, days=30),
    }


def _report_medications(patient: User) -> list[dict[str, Any]]:
    labels = dict(Frequency.choices)
    return [
        {
            "name": m.name,
            "dosage": m.dosage,
            "frequency": m.frequency,
            "frequency_label": labels.get(m.frequency, m.frequency),
            "reminder_times": m.reminder_times,
            "start_date": m.start_date,
            "end_date": m.end_date,
            "notes": m.notes,
            **{field: getattr(m, field) for field in REGIMEN_FIELDS},  # the regimen (SPEC part two)
            "stock_quantity": m.stock_quantity,
            **dict(zip(("days_of_supply", "runs_out_on"), supply(m), strict=True)),
        }
        for m in current_medications(patient=patient)
    ]


def report_insight(*, patient: User, window: analysis.Window) -> dict[str, Any]:
    """The insight of the report's own window: the cached answer for exactly that window and the
    current data (Gemini's or the built-in one) when there is one, else the built-in analysis of
    the window, computed now (a fixed number of queries; nothing is stored, Gemini is not asked)."""
    cached = cached_insight(patient=patient, days=window.days)
    if cached is not None and cached.get("analyzed_period") == window.label:
        return cached
    payload, _ = local_insight(patient=patient, window=window)
    return payload


def report_data(*, patient: User, days: int) -> dict[str, Any]:
    """Everything the PDF health report shows, as plain data."""
    window = analysis.window_for(patient, days)
    start, end = window.start, window.end
    summary = symptoms.symptom_summary(patient=patient, window=(start, end))
    return {
        "patient": patient,
        "start": start,
        "end": end,
        "days": days,
        "medications": _report_medications(patient),
        "adherence": adherence_summary(patient=patient, days=days),
        "symptoms": symptoms.symptom_log(patient=patient, start=start, end=end, limit=REPORT_SYMPTOM_LIMIT),
        "symptom_total": sum(row["count"] for row in summary),
        "summary": summary,
        "daily_severity": symptoms.symptom_daily_severity(patient=patient, start=start, end=end),
        "mood": symptoms.mood_stats(patient=patient, start=start, end=end),
        "insight": report_insight(patient=patient, window=window),
    }


def digest_context(*, patient: User, week_of: datetime.date) -> dict[str, Any]:
    """The past seven local days up to ``week_of``: symptoms, mood, adherence."""
    start, end = patient.local_days(7, end=week_of)
    summary = symptoms.symptom_summary(patient=patient, window=(start, end))
    mood = symptoms.mood_stats(patient=patient, start=start, end=end)
    adherence = adherence_summary(patient=patient, days=7)
    return {
        "name": patient.display_name,
        "start": start,
        "end": end,
        "symptoms": summary,
        "symptom_total": sum(row["count"] for row in summary),
        "mood_average": mood["average"],
        "mood_logged_days": mood["logged_days"],
        "adherence_rate": adherence["adherence_rate"],
        "doses_taken": adherence["taken_reminders"],
        "doses_total": adherence["total_reminders"],
    }
