"""The JSON document: one object, written as the rows are read.

``{"format": "meditrack-export", "version": 1, "exported_at", "profile", "medications",
"reminders", "symptoms", "moods", "caregivers", "access_log", "latest_insight"}``: every list oldest first,
each row in the API's own shape. Values are written as the API's renderer writes them (UTC
datetimes end in "Z", decimals are numbers).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from accounts.models import User
from core.renderers import dumps
from summaries.export import rows

FORMAT = "meditrack-export"
VERSION = 1
FLUSH_ROWS = 500  # rows per chunk written to the client


def json_array(items: Iterator[Any]) -> Iterator[bytes]:
    """``[item, …]`` in chunks of ``FLUSH_ROWS`` items."""
    batch: list[bytes] = []
    first = True
    yield b"["
    for item in items:
        batch.append(dumps(item))
        if len(batch) >= FLUSH_ROWS:
            yield (b"" if first else b",") + b",".join(batch)
            first, batch = False, []
    if batch:
        yield (b"" if first else b",") + b",".join(batch)
    yield b"]"


def stream(patient: User) -> Iterator[bytes]:
    head = {"format": FORMAT, "version": VERSION, "exported_at": timezone.now(), "profile": rows.profile(patient)}
    yield dumps(head)[:-1]  # the object stays open for the lists
    for name, _columns, items in rows.kinds(patient):
        yield b',"' + name.encode() + b'":'
        yield from json_array(items)
    yield b',"latest_insight":' + dumps(rows.insight(patient)) + b"}"
