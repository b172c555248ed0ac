from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import PatientScopedQuerySet
from core.validators import reject_html, validate_date_in_range


class Symptom(models.Model):
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="symptoms")
    name = models.CharField(max_length=120, validators=[reject_html])
    severity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10)])
    notes = models.TextField(blank=True, max_length=2000, validators=[reject_html])
    date = models.DateField(validators=[validate_date_in_range])
    logged_at = models.DateTimeField(auto_now_add=True)
    related_medications = models.ManyToManyField("medications.Medication", blank=True, related_name="symptoms")

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-date", "-logged_at")
        indexes = [
            models.Index(fields=["patient", "date"], name="symptom_patient_date_idx"),
            # The list's default order and "last 20" in the doctor's overview.
            models.Index(fields=["patient", "-date", "-logged_at"], name="symptom_patient_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(severity__gte=1, severity__lte=10), name="symptom_severity_1_10"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.severity}) on {self.date}"


class MoodLevel(models.IntegerChoices):
    VERY_BAD = 1, "Very Bad"
    BAD = 2, "Bad"
    OKAY = 3, "Okay"
    GOOD = 4, "Good"
    VERY_GOOD = 5, "Very Good"


class Mood(models.Model):
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moods")
    mood = models.PositiveSmallIntegerField(choices=MoodLevel.choices)
    notes = models.TextField(blank=True, max_length=2000, validators=[reject_html])
    date = models.DateField(validators=[validate_date_in_range])
    logged_at = models.DateTimeField(auto_now_add=True)

    objects = PatientScopedQuerySet.as_manager()

    class Meta:
        ordering = ("-date", "-logged_at")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "date"],
                name="mood_one_per_patient_day",
                violation_error_message="You have already logged a mood for this day.",
            ),
            models.CheckConstraint(condition=Q(mood__gte=1, mood__lte=5), name="mood_level_1_5"),
        ]

    def __str__(self) -> str:
        return f"Mood {self.mood} on {self.date}"
