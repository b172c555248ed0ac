"""Celery tasks of the summaries (the weekly digest): thin, take ids, safe to run twice."""

from __future__ import annotations

import datetime

from celery import shared_task

from summaries import retention, services


@shared_task(
    autoretry_for=(services.DigestTransientError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_weekly_digest(patient_id: int, week_of: str) -> bool:
    """One patient's digest; at most once per week by the DigestDelivery unique constraint."""
    return services.digest_send(patient_id=patient_id, week_of=datetime.date.fromisoformat(week_of))


@shared_task
def dispatch_weekly_digests() -> int:
    """Periodic: enqueue the digests now due (Sunday 09:00 local, plus a catch-up window).

    Works from database state: a patient already served this week has a DigestDelivery row and
    is not selected again, so a missed or repeated tick neither skips nor doubles anyone.
    """
    due = services.digest_due_patients()
    for patient_id, week_of in due:
        send_weekly_digest.delay(patient_id, week_of)
    return len(due)


RETENTION_BATCHES_PER_RUN = 40


@shared_task
def apply_data_retention() -> dict[str, int]:
    """Monthly: delete rows older than DATA_RETENTION_DAYS. Deleting is idempotent, so a repeated
    run deletes nothing more; a large backlog continues in a new run (bounded batches per run)."""
    counts, more = retention.purge_expired(max_batches=RETENTION_BATCHES_PER_RUN)
    if more:
        apply_data_retention.delay()
    return counts
