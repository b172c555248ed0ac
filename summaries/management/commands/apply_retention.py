"""manage.py apply_retention: delete access-log and reminder rows older than DATA_RETENTION_DAYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from summaries import retention


class Command(BaseCommand):
    help = (
        "Delete access-log and reminder rows older than DATA_RETENTION_DAYS (unset or 0: keep "
        "everything), in batches. The beat runs this monthly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Override DATA_RETENTION_DAYS for this run (at least 1).")
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE, help="Rows per DELETE.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, days: int | None, batch_size: int, dry_run: bool, **options) -> None:
        if days is not None and days < 1:
            self.stderr.write("--days must be at least 1.")
            raise SystemExit(2)
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1.")
            raise SystemExit(2)
        cutoff = retention.retention_cutoff(days=days)
        if cutoff is None:
            self.stdout.write("DATA_RETENTION_DAYS is not set: everything is kept.")
            return
        if dry_run:
            for kind, queryset in retention.expired_querysets(cutoff).items():
                self.stdout.write(f"{kind}: {queryset.count()} rows older than {cutoff.isoformat()} would be deleted")
            return
        counts, _more = retention.purge_expired(days=days, batch_size=batch_size)
        for kind, count in counts.items():
            self.stdout.write(f"{kind}: {count} rows older than {cutoff.isoformat()} deleted")
