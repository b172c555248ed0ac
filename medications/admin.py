from datetime import UTC, datetime

from django.contrib import admin
from django.utils import timezone

from medications.models import Medication, Reminder
from medications.services import compute_next_dose


def local_and_utc(moment: datetime | None, patient) -> str:
    """A dose time as the patient lives it, next to UTC: "08:00 Europe/Lisbon (2026-12-03 08:00 UTC)"."""
    if moment is None:
        return "–"
    local = moment.astimezone(patient.tzinfo)
    return f"{local:%Y-%m-%d %H:%M} {patient.timezone} ({moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"


@admin.register(Medication)
class MedicationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "dosage",
        "frequency",
        "patient",
        "start_date",
        "end_date",
        "is_active",
        "next_dose",
        "stock_quantity",
    )
    list_filter = ("frequency", "is_active", "every_n_days", ("start_date", admin.DateFieldListFilter))
    search_fields = ("name", "dosage", "patient__username", "patient__email")
    raw_id_fields = ("patient",)
    readonly_fields = ("next_dose_at", "next_dose", "refill_notified_at", "created_at", "updated_at")
    list_select_related = ("patient",)
    date_hierarchy = "start_date"
    fieldsets = (
        (None, {"fields": ("patient", "name", "dosage", "notes", "is_active", "start_date", "end_date")}),
        (
            "Times of day",
            {"fields": ("frequency", "custom_schedule", "interval_hours", "interval_start", "interval_end")},
        ),
        (
            "Dose days (at most one rule)",
            {"fields": ("days_of_week", "every_n_days", "cycle_on_days", "cycle_off_days")},
        ),
        ("Quantity", {"fields": ("dose_quantity", "dose_unit", "taper")}),
        ("Stock", {"fields": ("stock_quantity", "refill_threshold_days", "refill_notified_at")}),
        ("Bookkeeping", {"fields": ("next_dose_at", "created_at", "updated_at")}),
    )

    @admin.display(description="next dose (patient's time, UTC)", ordering="next_dose_at")
    def next_dose(self, medication: Medication) -> str:
        return local_and_utc(medication.next_dose_at, medication.patient)

    def save_model(self, request, obj: Medication, form, change) -> None:
        # An admin edit may change the schedule: keep the sweep's index column true.
        obj.next_dose_at = compute_next_dose(obj, patient=obj.patient, after=timezone.now())
        super().save_model(request, obj, form, change)


class ReminderMedicationFilter(admin.SimpleListFilter):
    """Filter by medication id without listing every medication (there can be 100,000)."""

    title = "medication"
    parameter_name = "medication"

    def lookups(self, request, model_admin):
        medication_id = request.GET.get(self.parameter_name)
        if medication_id and medication_id.isdigit():
            return [(medication_id, f"Medication #{medication_id}")]
        return []

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(medication_id=int(value))
        return queryset


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("id", "medication", "patient", "kind", "dose_time", "status", "sent_at", "responded_at")
    list_filter = ("status", "kind", ReminderMedicationFilter, ("scheduled_for", admin.DateFieldListFilter))
    search_fields = ("medication__name", "patient__username", "patient__email")
    raw_id_fields = ("medication", "patient")
    readonly_fields = (
        "dose_time",
        "claim",
        "claimed_at",
        "attempts",
        "snooze_sent_at",
        "followup_sent_at",
        "nudge_claim",
        "alert_due",
        "alert_claim",
        "stock_taken",
        "created_at",
    )
    list_select_related = ("medication", "patient")
    date_hierarchy = "scheduled_for"

    @admin.display(description="scheduled for (patient's time, UTC)", ordering="scheduled_for")
    def dose_time(self, reminder: Reminder) -> str:
        return local_and_utc(reminder.scheduled_for, reminder.patient)
