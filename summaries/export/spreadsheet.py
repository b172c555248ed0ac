"""The ZIP of CSV files: one per kind, UTF-8 with a header row, safe to open in a spreadsheet.

The archive is written to the client as it is built (``zipfile`` on a sink that cannot seek
writes data descriptors after each member), so no file is ever held whole. Files start with a
byte-order mark so Excel reads them as UTF-8. A cell that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User
from summaries.export import rows
from summaries.export.document import dumps

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_ROWS = 500


def safe_cell(value: Any) -> str:
    """A CSV cell: text as written, never a formula; lists joined; nested values as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(item, str | int) and not isinstance(item, bool) for item in value):
        text = " ".join(str(item) for item in value)
    elif isinstance(value, list | dict):
        text = dumps(value).decode()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Sink(io.RawIOBase):
    """Collects what ``zipfile`` writes until the stream takes it; cannot seek or tell."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def _insight_rows(insight: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    for field, value in (insight or {}).items():
        yield {"field": field, "value": value}


def _tables(patient: User) -> Iterator[tuple[str, Iterable[str], Iterable[dict[str, Any]]]]:
    profile = rows.profile(patient)
    yield "profile", profile.keys(), [profile]
    yield from rows.kinds(patient)
    yield "latest_insight", ("field", "value"), _insight_rows(rows.insight(patient))


def stream(patient: User) -> Iterator[bytes]:
    sink = _Sink()
    stamp = timezone.now().astimezone(datetime.UTC).timetuple()[:6]
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, columns, items in _tables(patient):
            columns = list(columns)
            info = zipfile.ZipInfo(f"{name}.csv", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, mode="w", force_zip64=True) as member:
                text = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
                writer = csv.writer(text)
                writer.writerow(columns)
                for count, item in enumerate(items, start=1):
                    writer.writerow([safe_cell(item.get(column)) for column in columns])
                    if count % FLUSH_ROWS == 0:
                        text.flush()
                        yield sink.take()
                text.flush()
                text.detach()
            yield sink.take()
    yield sink.take()
