from __future__ import annotations

from django.conf import settings
from django.db import models


class LiveEvent(models.Model):
    """An event on its way to the ws process, on the embedded default only (no Redis).

    The web and worker processes write a row; the ws process polls for rows newer than the last
    one it saw and hands them to its in-memory channel layer. Rows live a few minutes.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=32)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.type} for user {self.user_id}"


class PushSubscription(models.Model):
    """A browser's (or phone's) Web Push subscription: its push-service endpoint and the keys its
    messages are encrypted to (RFC 8291). The endpoint is a capability URL: never logged."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=2048, unique=True)
    p256dh = models.CharField(max_length=128)
    auth = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "-created_at"], name="pushsub_user_created_idx")]

    def __str__(self) -> str:
        return f"Push subscription {self.pk} of user {self.user_id}"


class PushDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (answered before it went out)"


class PushDelivery(models.Model):
    """One dose pushed to one subscription: unique, so a dose is pushed there at most once;
    ``attempts`` is compared-and-swapped by each try of the delivery task."""

    subscription = models.ForeignKey(PushSubscription, on_delete=models.CASCADE, related_name="deliveries")
    reminder = models.ForeignKey("medications.Reminder", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=PushDeliveryStatus.choices, default=PushDeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "reminder"], name="push_delivery_once_per_dose"),
        ]

    def __str__(self) -> str:
        return f"Push of reminder {self.reminder_id} to subscription {self.subscription_id} ({self.status})"


class VapidKeyPair(models.Model):
    """The server's VAPID key pair when none is configured: generated once on first use and read
    by every process (web, worker, manage.py) from the database. At most one row (pk 1)."""

    private_key = models.TextField()  # base64url of the raw P-256 private value
    public_key = models.CharField(max_length=128)  # base64url of the uncompressed point
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "VAPID key pair"
