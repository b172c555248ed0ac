"""The calendar feed: its unguessable token, and the RFC 5545 document (``icalendar``).

The events are the doses of ``medications.schedule`` (the same code the sweep uses) for the
local dates from 7 days ago to 30 days ahead, in the patient's zone: ``DTSTART`` carries the
patient's ``TZID`` and the calendar a matching ``VTIMEZONE``. A dose's ``UID`` is built from the
medication id and the dose's UTC instant, so it is stable across fetches.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from icalendar import Calendar, Event, Timezone

from accounts.models import User
from medications.models import Medication
from medications.schedule import Regimen, dose_amount, doses_on_days

PAST_DAYS = 7
FUTURE_DAYS = 30
EVENT_MINUTES = 15
HIDDEN_NAME = "Medication dose"
CONTENT_TYPE = "text/calendar; charset=utf-8"
_SALT = b"meditrack.calendar-feed:"


def feed_token(seed: str) -> str:
    """The URL token of a feed seed: an HMAC of it under ``SECRET_KEY`` (43 URL-safe characters)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), _SALT + seed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(seed: str) -> str:
    return f"{settings.PUBLIC_URL}/api/calendar/{feed_token(seed)}.ics"


def _summary(medication: Medication, quantity, *, show_names: bool) -> str:
    if not show_names:
        return HIDDEN_NAME
    amount = dose_amount(quantity, medication.dose_unit)
    return f"{medication.name} {medication.dosage}" + (f" ({amount})" if amount else "")


def calendar_document(
    *, patient: User, medications: Iterable[Medication], show_names: bool, now: datetime.datetime
) -> bytes:
    tz = patient.tzinfo
    today = now.astimezone(tz).date()
    first = today - datetime.timedelta(days=PAST_DAYS)
    last = today + datetime.timedelta(days=FUTURE_DAYS)
    calendar = Calendar()
    calendar.add("prodid", "-//MediTrack//Medication doses//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "MediTrack doses")
    calendar.add("x-wr-timezone", patient.timezone)
    calendar.add_component(
        Timezone.from_tzinfo(
            tz,
            tzid=patient.timezone,
            first_date=first - datetime.timedelta(days=1),
            last_date=last + datetime.timedelta(days=2),
        )
    )
    stamp = now.astimezone(datetime.UTC).replace(microsecond=0)
    for medication in medications:
        for dose in doses_on_days(Regimen.of(medication), tz=tz, first=first, last=last):
            event = Event()
            event.add("uid", f"dose-{medication.pk}-{dose.at:%Y%m%dT%H%M%SZ}@meditrack")
            event.add("dtstamp", stamp)
            event.add("dtstart", dose.at.astimezone(tz))
            event.add("duration", datetime.timedelta(minutes=EVENT_MINUTES))
            event.add("summary", _summary(medication, dose.quantity, show_names=show_names))
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    return calendar.to_ical()
