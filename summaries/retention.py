"""Retention for operators: delete access-log and reminder rows older than DATA_RETENTION_DAYS.

Unset (or 0) keeps everything. Rows go in batches of ids, each batch its own short transaction,
so a large backlog never holds long locks; running it twice deletes nothing more.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import DataAccessLog
from medications.models import Reminder

BATCH_SIZE = 5000


def retention_cutoff(*, days: int | None = None, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """The instant before which rows expire, or None when everything is kept."""
    days = settings.DATA_RETENTION_DAYS if days is None else days
    if not days:
        return None
    return (now or timezone.now()) - datetime.timedelta(days=days)


def expired_querysets(cutoff: datetime.datetime) -> dict[str, QuerySet]:
    return {
        "access_log": DataAccessLog.objects.filter(accessed_at__lt=cutoff),
        "reminders": Reminder.objects.filter(scheduled_for__lt=cutoff),
    }


def _delete_in_batches(queryset: QuerySet, *, batch_size: int, max_batches: int | None) -> tuple[int, bool]:
    """Delete the rows of ``queryset``; returns (deleted, more_left)."""
    deleted = batches = 0
    while max_batches is None or batches < max_batches:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted, False
        deleted += queryset.model._default_manager.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)
        batches += 1
    return deleted, queryset.exists()


def purge_expired(
    *,
    days: int | None = None,
    now: datetime.datetime | None = None,
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> tuple[dict[str, int], bool]:
    """Delete expired rows. Returns the count per kind and whether rows are left (``max_batches``
    bounds one run: a periodic task continues in a new run instead of outliving its time limit)."""
    cutoff = retention_cutoff(days=days, now=now)
    if cutoff is None:
        return {}, False
    counts: dict[str, int] = {}
    more = False
    for kind, queryset in expired_querysets(cutoff).items():
        counts[kind], left = _delete_in_batches(queryset, batch_size=batch_size or BATCH_SIZE, max_batches=max_batches)
        more = more or left
    return counts, more
