"""Keep credentials out of log records.

Some URLs carry a credential in their path: the emailed dose-confirmation link ends in a signed
token (``django.core.signing``: ``payload:timestamp:signature``). Django logs the path of every
4xx/5xx response (``django.request``), a browser sends the link back as the ``Referer`` of the
page's own form, and an access log records the request line. The calendar feed's URL
(``/api/calendar/<token>.ics``) is a credential too. Every such path goes through
``redact`` first; query strings (which can hold a search term, i.e. health data) are left out of
access logs entirely.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# A Django signed value with a timestamp: three base64url fields separated by colons.
_SIGNED_VALUE = re.compile(r"[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]{16,}")


# The calendar feed's URL token (``/api/calendar/<token>.ics``): whatever stands there.
_CALENDAR_TOKEN = re.compile(r"(/api/calendar/)[^/?#\s]+")


def redact(text: str) -> str:
    return _CALENDAR_TOKEN.sub(rf"\g<1>{REDACTED}", _SIGNED_VALUE.sub(REDACTED, text))


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class ServerErrorsOnly(logging.Filter):
    """Lets through a ``django.request`` record only for a 5xx (or one without a status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        return status is None or status >= 500


class RedactSecretsFilter(logging.Filter):
    """A logger filter that masks signed tokens in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _clean(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_clean(value) for value in record.args)
        return True
