"""Invalidate a patient's cached insights whenever their symptoms, moods or medications change.

The per-patient data version is replaced at once and again after the transaction commits, so a
request that computed an answer from the old data while the change was in flight cannot leave
it cached under the new version.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.events import account_deleted
from accounts.readcache import data_changed
from medications.models import Medication
from symptoms.insights import cache
from symptoms.models import Mood, Symptom


def invalidate(patient_id: int | None) -> None:
    data_changed(patient_id)


@receiver(post_save, sender=Symptom, dispatch_uid="insights_symptom_saved")
@receiver(post_delete, sender=Symptom, dispatch_uid="insights_symptom_deleted")
@receiver(post_save, sender=Mood, dispatch_uid="insights_mood_saved")
@receiver(post_delete, sender=Mood, dispatch_uid="insights_mood_deleted")
@receiver(post_save, sender=Medication, dispatch_uid="insights_medication_saved")
@receiver(post_delete, sender=Medication, dispatch_uid="insights_medication_deleted")
def _patient_data_changed(sender, instance, **kwargs) -> None:
    invalidate(instance.patient_id)


@receiver(m2m_changed, sender=Symptom.related_medications.through, dispatch_uid="insights_symptom_links")
def _symptom_links_changed(sender, instance, action: str, **kwargs) -> None:
    # Either side may be the instance (symptom.related_medications / medication.symptoms);
    # both belong to the same patient.
    if action in {"post_add", "post_remove", "post_clear"}:
        invalidate(instance.patient_id)


@receiver(account_deleted, dispatch_uid="insights_account_deleted")
def _account_deleted(sender, user_id: int, **kwargs) -> None:
    cache.forget_patient(user_id)
