"""``python manage.py send_due_reminders [--at ISO-8601]``: one reminder sweep in the foreground."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from core.params import parse_instant
from medications.services import sweep


class Command(BaseCommand):
    help = (
        "Run one reminder sweep now, in this process, sending the emails itself. With --at, sweep "
        "as if the clock read that instant (replays are idempotent: a dose is never emailed twice)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--at", help="ISO 8601 datetime with an offset, e.g. 2026-03-08T07:05:00+00:00")

    def handle(self, *args, **options) -> None:
        now = None
        if options["at"]:
            try:
                now = parse_instant(options["at"])
            except ValueError as exc:
                raise CommandError(f"--at: {exc}") from None
        result = sweep(now=now)
        self.stdout.write(json.dumps(result.as_dict()))
