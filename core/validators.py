"""Validators shared by every app (attached to model fields, so the API and the admin agree)."""

from __future__ import annotations

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
