"""What the cross-domain reads keep: one row per weekly digest sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DigestDelivery(models.Model):
    """One weekly digest per patient per week: the row is claimed before the email is sent, so
    two beat ticks, a retried task or a redelivered message never send a second one."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries")
    # The local Sunday the digest belongs to; it covers that day and the six days before it.
    week_of = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-week_of", "-id")
        constraints = [
            models.UniqueConstraint(fields=["patient", "week_of"], name="digest_one_per_patient_week"),
        ]
        verbose_name_plural = "digest deliveries"
        db_table = "symptoms_digestdelivery"  # created by the symptoms app before the move

    def __str__(self) -> str:
        return f"Digest for patient {self.patient_id}, week of {self.week_of} ({self.status})"
