"""What the insights do when an account goes: drop every cached insight of it. (Their cache
stays true on data changes through the data version, ``accounts.readcache``.)"""

from __future__ import annotations

from django.dispatch import receiver

from accounts.events import account_deleted
from symptoms.insights import cache


@receiver(account_deleted, dispatch_uid="insights_account_deleted")
def _account_deleted(sender, user_id: int, **kwargs) -> None:
    cache.forget_patient(user_id)
