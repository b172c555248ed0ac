"""The built-in analysis in plain language: patterns, medication observations, recommendations.

Pure functions over the facts from :func:`symptoms.insights.analysis.collect_facts`.
Observations only, never a diagnosis.
"""

from __future__ import annotations

from typing import Any

from symptoms.insights.analysis import SEVERE, Window

TREND_DELTA = 1.0  # change in average severity (points out of 10) that counts as a trend
MOOD_DELTA = 0.75  # change in average mood (points out of 5) worth mentioning
MIN_ENTRIES = 3  # entries on each side of a comparison before anything is claimed from it


def _compare(
    first: float | None, first_n: int, second: float | None, second_n: int, *, delta: float = TREND_DELTA
) -> str | None:
    """The one comparison every claim of the analysis rests on: "higher" (``second`` above
    ``first`` by ``delta`` or more), "lower" or "same"; None when either side has fewer than
    ``MIN_ENTRIES`` entries. For severity, higher is worse; for mood, better."""
    if first is None or second is None or first_n < MIN_ENTRIES or second_n < MIN_ENTRIES:
        return None
    if second - first >= delta:
        return "higher"
    if first - second >= delta:
        return "lower"
    return "same"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


NOT_ADVICE = (
    "This may or may not be related: mention it to your doctor or pharmacist, and do not stop or change "
    "a medication without their advice."
)


def _medication_correlation(med: dict) -> tuple[dict[str, Any], str | None, str | None] | None:
    """The observation about one medication, and the headline sentence and recommendation that
    follow from the same comparisons (None when they claim nothing)."""
    name = med["name"]
    started = med["start_date"].isoformat()
    sentences: list[str] = []
    before, after = med["before_avg"], med["after_avg"]
    change = _compare(before, med["before_n"], after, med["after_n"])
    if change == "higher":
        sentences.append(
            f"Average symptom severity was higher after starting {name} on {started} "
            f"({before} before vs {after} after)."
        )
    elif change == "lower":
        sentences.append(
            f"Average symptom severity was lower after starting {name} on {started} ({before} before vs {after} after)."
        )
    elif change == "same":
        sentences.append(
            f"Symptom severity was about the same before and after starting {name} on {started} ({before} vs {after})."
        )
    elif med["after_n"] and not med["before_n"]:
        days_before = (med["start_date"] - med["before_start"]).days
        sentences.append(
            f"No symptoms were logged in the {days_before} days before {name} was started on {started}, "
            "so a before/after comparison is not possible yet."
        )
    elif med["before_n"] or med["after_n"]:
        sentences.append(
            f"Too few entries to compare severity before and after starting {name} on {started} "
            f"({med['before_n']} before, {med['after_n']} after; at least {MIN_ENTRIES} on each side are needed)."
        )

    def changed(direction: str) -> list[dict]:
        return [
            s
            for s in med["symptom_changes"]
            if _compare(s["before_avg"], s["before_n"], s["after_avg"], s["after_n"]) == direction
        ]

    worsened, improved = changed("higher"), changed("lower")
    new = [
        s
        for s in med["symptom_changes"]
        if not s["before_n"] and s["after_n"] >= MIN_ENTRIES and med["before_n"] >= MIN_ENTRIES
    ]
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

    headline = recommendation = None
    if change == "higher":
        headline = f"Symptoms were more severe after {name} was started ({before} before vs {after} after)."
        recommendation = f"Symptoms were more severe after starting {name} ({before} before vs {after} after). "
    elif worsened:
        worse = _names([s["name"] for s in worsened[:3]])
        headline = f"{worse} got worse after {name} was started."
        recommendation = f"{worse} got worse after starting {name}. "
    correlation = {
        "medication": name,
        "observation": " ".join(sentences),
        "started_on": started,
        "avg_severity_before": before,
        "avg_severity_after": after,
        "linked_symptoms": [row["name"] for row in med["linked"]],
        "worsened_symptoms": [s["name"] for s in worsened],
    }
    return correlation, headline, recommendation and recommendation + NOT_ADVICE


def describe(facts: dict[str, Any]) -> dict[str, Any]:
    """Plain-language patterns, medication observations, recommendations and a summary."""
    window: Window = facts["window"]
    count = facts["count"]
    patterns: list[str] = []
    recommendations: list[str] = []
    summary: list[str] = []
    mood = facts["mood"]

    observed = [c for c in (_medication_correlation(med) for med in facts["medications"]) if c]
    correlations = [correlation for correlation, _, _ in observed]

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
            symptom_trend = _compare(row["first_avg"], row["first_n"], row["second_avg"], row["second_n"])
            if symptom_trend == "higher":
                line += f" It became more severe ({row['first_avg']} → {row['second_avg']})."
            elif symptom_trend == "lower":
                line += f" It became less severe ({row['first_avg']} → {row['second_avg']})."
            patterns.append(line)

        trend = _compare(facts["first_avg"], facts["first_n"], facts["second_avg"], facts["second_n"])
        if trend == "higher":
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
        elif trend == "lower":
            patterns.append(
                f"Average severity fell from {facts['first_avg']} in the first part of the period "
                f"to {facts['second_avg']} in the more recent part."
            )
            summary.append("Symptoms have been easing recently.")
        elif trend == "same":
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

    for _, headline, recommendation in observed:
        if headline:
            summary.append(headline)
        if recommendation:
            recommendations.append(recommendation)

    if mood["count"]:
        line = f"Your average mood was {mood['avg']}/5 over {_plural(mood['count'], 'logged day')}."
        with_s, without_s = mood["avg_with_symptoms"], mood["avg_without_symptoms"]
        if with_s is not None and without_s is not None:
            line += f" On days with symptoms it averaged {with_s}, on symptom-free days {without_s}."
            symptom_free = _compare(
                with_s, mood["n_with_symptoms"], without_s, mood["n_without_symptoms"], delta=MOOD_DELTA
            )
            if symptom_free == "higher":
                summary.append("Your mood tends to be lower on days with symptoms.")
                recommendations.append(
                    "Your mood tends to dip on days with symptoms. Rest, gentle activity and talking to someone "
                    "you trust can help; tell your doctor if low mood lasts."
                )
        patterns.append(line)
        mood_trend = {"higher": "improved", "lower": "declined"}.get(
            _compare(mood["first_avg"], mood["first_n"], mood["second_avg"], mood["second_n"], delta=MOOD_DELTA)
        )
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
