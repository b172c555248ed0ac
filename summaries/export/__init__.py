"""A patient's data, exported: a JSON document, a ZIP of CSV files, or a FHIR R4 bundle.

Every format is streamed: rows are read with database iterators (a fixed number of queries,
however many rows) and written out as they come, so memory stays bounded for a patient with
years of data. ``rows`` reads, ``document``, ``spreadsheet`` and ``fhir`` write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db import connection, transaction

from accounts.models import User


def snapshot(write: Callable[[User], Iterator[bytes]], patient: User) -> Iterator[bytes]:
    """``write(patient)`` inside one read-only transaction: on PostgreSQL at REPEATABLE READ, so
    every kind is read from the same snapshot (a dose answered while the export streams cannot be
    in one list and missing from another). A client that goes away closes the generator, which
    ends the transaction."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield from write(patient)
