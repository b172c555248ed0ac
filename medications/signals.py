"""Keep medication schedules in step with the owner's time zone (accounts must not import us)."""

from __future__ import annotations

from django.db.models.signals import post_init, post_save
from django.dispatch import receiver

from accounts.models import User


@receiver(post_init, sender=User, dispatch_uid="medications.remember_timezone")
def remember_timezone(sender, instance: User, **kwargs) -> None:
    instance.__dict__["_medications_loaded_timezone"] = instance.__dict__.get("timezone")


@receiver(post_save, sender=User, dispatch_uid="medications.reschedule_on_timezone_change")
def reschedule_on_timezone_change(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and "timezone" not in update_fields):
        return
    if instance.__dict__.get("_medications_loaded_timezone") == instance.timezone:
        return
    from medications.services import medications_reschedule_for_patient

    medications_reschedule_for_patient(patient=instance)
    instance.__dict__["_medications_loaded_timezone"] = instance.timezone
