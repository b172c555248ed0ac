"""Validators shared by every app (attached to model fields, so the API and the admin agree)."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError

# What an HTML parser treats as the start of markup: "<" then a letter (start tag), "/" (end
# tag), "!" (comment/doctype) or "?" (processing instruction). "<3" and "a < b" stay allowed.
_TAG_START = re.compile(r"<[A-Za-z/!?]")
HTML_NOT_ALLOWED = "HTML tags are not allowed in this field."


def reject_html(value: object) -> None:
    if isinstance(value, str) and _TAG_START.search(value):
        raise ValidationError(HTML_NOT_ALLOWED, code="html")


_PHONE_CHARS = re.compile(r"^[0-9+()\- ]+$")


def validate_phone(value: str) -> None:
    """7–15 digits, optionally with ``+ ( ) -`` and spaces."""
    if not value:
        return
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE_CHARS.match(value) or not 7 <= digits <= 15:
        raise ValidationError(
            "Enter a phone number of 7 to 15 digits; only digits, spaces and + ( ) - are allowed.",
            code="phone",
        )


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(
            "%(value)s is not a valid IANA time zone name (for example Europe/London).",
            params={"value": value},
            code="timezone",
        )


# Every date and datetime the API accepts lies in this range: far outside it the time-zone
# arithmetic (a year-1 date west of UTC, a day after 9999-12-31) overflows, and no dose, symptom
# or birth date is there.
DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2100, 12, 31)
DATE_OUT_OF_RANGE = f"Enter a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."
NAIVE_DATETIME = "Include a UTC offset (for example 2026-11-23T08:00:00+01:00 or …Z)."


def validate_date_in_range(value: datetime.date | datetime.datetime) -> None:
    """A date, or a datetime's calendar date in its own offset, within ``DATE_MIN``…``DATE_MAX``."""
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(DATE_OUT_OF_RANGE, code="date_range")
