"""Write use cases of the calendar feed: issuing (and so revoking) a patient's feed URL."""

from __future__ import annotations

import secrets

from django.db import transaction

from accounts.models import User
from medications.ics import feed_token, token_hash
from medications.models import CalendarFeed


def calendar_feed_issue(*, patient: User, show_names: bool = True) -> CalendarFeed:
    """A new feed seed for ``patient``: the previous URL stops working at once."""
    seed = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed, _ = CalendarFeed.objects.update_or_create(
            patient=patient,
            defaults={"seed": seed, "token_hash": token_hash(feed_token(seed)), "show_names": show_names},
        )
    return feed


def calendar_feed_get_or_issue(*, patient: User) -> CalendarFeed:
    """The patient's feed, issued on first use (two first uses at once agree on one seed)."""
    seed = secrets.token_urlsafe(32)
    feed, _ = CalendarFeed.objects.get_or_create(
        patient=patient, defaults={"seed": seed, "token_hash": token_hash(feed_token(seed))}
    )
    return feed
