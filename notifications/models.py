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
