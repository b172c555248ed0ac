"""Reads of the insights: which patients the hourly precompute serves."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from medications.models import Medication
from symptoms.models import Mood, Symptom


def patients_due_for_precompute(now: datetime.datetime) -> QuerySet[User]:
    """Patients active in the last day whose local hour is ``INSIGHTS_PRECOMPUTE_HOUR`` now.

    Running hourly, each active patient is handled once a day, early in their own morning, so
    the answer is ready for the local day it covers.
    """
    since = now - datetime.timedelta(days=1)
    active = User.objects.patients().filter(
        Exists(Symptom.objects.filter(patient=OuterRef("pk"), logged_at__gte=since))
        | Exists(Mood.objects.filter(patient=OuterRef("pk"), logged_at__gte=since))
        | Exists(Medication.objects.filter(patient=OuterRef("pk"), updated_at__gte=since))
    )
    zones = set(active.order_by().values_list("timezone", flat=True).distinct())
    due_zones = [zone for zone in zones if _local_hour(now, zone) == settings.INSIGHTS_PRECOMPUTE_HOUR]
    return active.filter(timezone__in=due_zones).order_by("pk")


def _local_hour(now: datetime.datetime, zone: str) -> int | None:
    try:
        return now.astimezone(ZoneInfo(zone or "UTC")).hour
    except (ZoneInfoNotFoundError, ValueError):
        return None
