"""The built-in statistical analysis (``source: "local"``).

:func:`collect_facts` asks the database for every number (a fixed handful of aggregate queries,
whatever the amount of data); :func:`describe` turns those numbers into plain-language patterns,
medication observations and recommendations. Observations only, never a diagnosis.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Q
from django.db.models.functions import Lower

from medications.models import Medication
from symptoms.models import Mood, Symptom

SEVERE = 8  # severity from which an episode counts as severe
MAX_MEDICATIONS = 10
MAX_TOP_SYMPTOMS = 5
MAX_SYMPTOM_GROUPS = 15
TREND_DELTA = 1.0  # change in average severity (points out of 10) that counts as a trend
MOOD_DELTA = 0.75  # change in average mood (points out of 5) worth mentioning


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


def window_for(patient, days: int) -> Window:
    """The last ``days`` days including today, in the patient's own time zone."""
    end = patient.local_today()
    return Window(start=end - datetime.timedelta(days=days - 1), end=end, days=days)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


# --- Facts (SQL) --------------------------------------------------------------------------------


def _medications(patient, window: Window) -> list[dict[str, Any]]:
    """Medications taken at some point in the window (newest start first, bounded)."""
    rows = (
        Medication.objects.filter(patient=patient, start_date__lte=window.end)
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
            second_avg=Avg("severity", filter=second_half),
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
            avg_without_symptoms=Avg("mood", filter=Q(with_symptoms=False)),
            avg_high_severity=Avg("mood", filter=Q(with_high=True)),
            first_avg=Avg("mood", filter=first_half),
            second_avg=Avg("mood", filter=second_half),
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
                "second_avg": _round(row["second_avg"]),
            }
            for row in top
        ],
        "medications": meds,
        "mood": {key: (value if key in ("count", "low_days") else _round(value)) for key, value in mood.items()},
    }


# --- Description (plain language) --------------------------------------------------------------


def _trend(first: float | None, second: float | None) -> str | None:
    if first is None or second is None:
        return None
    if second - first >= TREND_DELTA:
        return "worse"
    if first - second >= TREND_DELTA:
        return "better"
    return "stable"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _medication_correlation(med: dict) -> dict[str, Any] | None:
    name = med["name"]
    started = med["start_date"].isoformat()
    sentences: list[str] = []
    change = _trend(med["before_avg"], med["after_avg"])
    if change is not None:
        if change == "worse":
            sentences.append(
                f"Average symptom severity was higher after starting {name} on {started} "
                f"({med['before_avg']} before vs {med['after_avg']} after)."
            )
        elif change == "better":
            sentences.append(
                f"Average symptom severity was lower after starting {name} on {started} "
                f"({med['before_avg']} before vs {med['after_avg']} after)."
            )
        else:
            sentences.append(
                f"Symptom severity was about the same before and after starting {name} on {started} "
                f"({med['before_avg']} vs {med['after_avg']})."
            )
    elif med["after_n"] and not med["before_n"]:
        days_before = (med["start_date"] - med["before_start"]).days
        sentences.append(
            f"No symptoms were logged in the {days_before} days before {name} was started on {started}, "
            "so a before/after comparison is not possible yet."
        )
    worsened = [
        s
        for s in med["symptom_changes"]
        if s["before_n"] and s["after_n"] and s["after_avg"] - s["before_avg"] >= TREND_DELTA
    ]
    improved = [
        s
        for s in med["symptom_changes"]
        if s["before_n"] and s["after_n"] and s["before_avg"] - s["after_avg"] >= TREND_DELTA
    ]
    new = [s for s in med["symptom_changes"] if not s["before_n"] and s["after_n"] >= 2 and med["before_n"]]
    for s in worsened[:3]:
        sentences.append(
            f"{s['name']} got worse after {name} was started (average {s['before_avg']} → {s['after_avg']})."
        )
    for s in improved[:3]:
        sentences.append(f"{s['name']} eased after {name} was started (average {s['before_avg']} → {s['after_avg']}).")
    for s in new[:3]:
        sentences.append(f"{s['name']} appeared only after {name} was started ({_plural(s['after_n'], 'time')}).")
    if med["linked"]:
        linked = ", ".join(f"{row['name']} ({row['count']}×)" for row in med["linked"][:5])
        sentences.append(f"Symptoms you linked to {name}: {linked}.")
    if not sentences:
        return None
    return {
        "medication": name,
        "observation": " ".join(sentences),
        "started_on": started,
        "avg_severity_before": med["before_avg"],
        "avg_severity_after": med["after_avg"],
        "linked_symptoms": [row["name"] for row in med["linked"]],
        "worsened_symptoms": [s["name"] for s in worsened],
    }


def describe(facts: dict[str, Any]) -> dict[str, Any]:
    """Plain-language patterns, medication observations, recommendations and a summary."""
    window: Window = facts["window"]
    count = facts["count"]
    patterns: list[str] = []
    recommendations: list[str] = []
    summary: list[str] = []
    mood = facts["mood"]

    correlations = [c for c in (_medication_correlation(med) for med in facts["medications"]) if c]

    if count == 0:
        summary.append(f"No symptoms were logged from {window.start} to {window.end}.")
        recommendations.append(
            "Keep logging any symptom as it happens, with its severity; even a few entries make "
            "patterns easier to spot."
        )
    else:
        patterns.append(
            f"You logged {_plural(count, 'symptom')} on {facts['days_logged']} of {window.days} days, "
            f"with an average severity of {facts['avg']}/10 (highest {facts['max']})."
        )
        top = facts["top"]
        main = top[0]
        summary.append(
            f"Over the last {_plural(window.days, 'day')} you logged {_plural(count, 'symptom')}; "
            f"the most frequent was {main['name']} ({_plural(main['count'], 'time')}, "
            f"average severity {main['avg']}/10)."
        )
        for row in top:
            line = (
                f"{row['name']}: {_plural(row['count'], 'time')} on {_plural(row['days'], 'day')}, "
                f"average severity {row['avg']}/10, highest {row['max']}, last on {row['last']}."
            )
            symptom_trend = _trend(row["first_avg"], row["second_avg"])
            if symptom_trend == "worse":
                line += f" It became more severe ({row['first_avg']} → {row['second_avg']})."
            elif symptom_trend == "better":
                line += f" It became less severe ({row['first_avg']} → {row['second_avg']})."
            patterns.append(line)

        trend = _trend(facts["first_avg"], facts["second_avg"])
        if trend == "worse":
            text = (
                f"Average severity rose from {facts['first_avg']} in the first part of the period "
                f"to {facts['second_avg']} in the more recent part."
            )
            patterns.append(text)
            summary.append("Symptoms have been getting more severe recently.")
            recommendations.append(
                "Your symptoms have been getting more severe. Consider booking a check-up with your doctor "
                "to talk it through."
            )
        elif trend == "better":
            patterns.append(
                f"Average severity fell from {facts['first_avg']} in the first part of the period "
                f"to {facts['second_avg']} in the more recent part."
            )
            summary.append("Symptoms have been easing recently.")
        elif trend == "stable":
            patterns.append("Severity stayed about the same across the period.")

        if facts["severe"] >= 2:
            patterns.append(f"{_plural(facts['severe'], 'severe episode')} (severity {SEVERE}/10 or higher).")
            summary.append(f"There were {facts['severe']} severe episodes.")
            recommendations.append(
                f"You logged {facts['severe']} severe episodes (severity {SEVERE}/10 or higher). Please contact "
                "your doctor soon; if a symptom is sudden, very intense or alarming, seek urgent medical care."
            )
        elif facts["severe"] == 1:
            patterns.append(f"One severe episode (severity {SEVERE}/10 or higher).")
            recommendations.append(
                "You logged one severe episode. If severe symptoms come back, contact your doctor; if a symptom "
                "is sudden or alarming, seek urgent medical care."
            )

        if main["count"] >= 3 and main["days"] * 2 >= window.days:
            recommendations.append(
                f"{main['name']} came up on {main['days']} of {window.days} days. Noting sleep, meals, activity "
                "and stress around each episode can help you and your doctor find triggers."
            )
        if count < 3:
            recommendations.append(
                f"With only {count} {'entry' if count == 1 else 'entries'} the picture is uncertain; "
                "logging symptoms daily makes patterns clearer."
            )

    for corr in correlations:
        if corr["worsened_symptoms"] or (
            corr["avg_severity_before"] is not None
            and corr["avg_severity_after"] is not None
            and corr["avg_severity_after"] - corr["avg_severity_before"] >= TREND_DELTA
        ):
            summary.append(f"Symptoms were more severe after {corr['medication']} was started.")
            recommendations.append(
                f"Symptoms were more severe after starting {corr['medication']}. This may or may not be related: "
                "mention it to your doctor or pharmacist, and do not stop or change a medication without "
                "their advice."
            )

    if mood["count"]:
        line = f"Your average mood was {mood['avg']}/5 over {_plural(mood['count'], 'logged day')}."
        with_s, without_s = mood["avg_with_symptoms"], mood["avg_without_symptoms"]
        if with_s is not None and without_s is not None:
            line += f" On days with symptoms it averaged {with_s}, on symptom-free days {without_s}."
            if without_s - with_s >= MOOD_DELTA:
                summary.append("Your mood tends to be lower on days with symptoms.")
                recommendations.append(
                    "Your mood tends to dip on days with symptoms. Rest, gentle activity and talking to someone "
                    "you trust can help; tell your doctor if low mood lasts."
                )
        patterns.append(line)
        mood_trend = None
        if mood["first_avg"] is not None and mood["second_avg"] is not None:
            if mood["second_avg"] - mood["first_avg"] >= MOOD_DELTA:
                mood_trend = "improved"
            elif mood["first_avg"] - mood["second_avg"] >= MOOD_DELTA:
                mood_trend = "declined"
        if mood_trend:
            patterns.append(f"Your mood {mood_trend} from {mood['first_avg']} to {mood['second_avg']} over the period.")
        if mood["low_days"] >= 3:
            recommendations.append(
                f"You rated your mood bad or very bad on {mood['low_days']} days. If low mood persists, "
                "please speak with your doctor."
            )
    elif count:
        recommendations.append("Logging your mood each day helps show how your symptoms affect how you feel.")

    if not recommendations:
        recommendations.append("Keep logging symptoms and mood regularly so changes are easy to spot early.")

    return {
        "insight": " ".join(summary),
        "patterns": patterns,
        "medication_correlations": correlations,
        "recommendations": recommendations,
        "symptom_count": count,
    }
