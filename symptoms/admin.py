from django.contrib import admin

from symptoms.models import Mood, Symptom


@admin.register(Symptom)
class SymptomAdmin(admin.ModelAdmin):
    list_display = ("id", "patient", "name", "severity", "date", "logged_at")
    list_filter = ("severity", "date")
    search_fields = ("name", "patient__username", "patient__email")
    list_select_related = ("patient",)
    raw_id_fields = ("patient",)
    filter_horizontal = ("related_medications",)
    date_hierarchy = "date"


@admin.register(Mood)
class MoodAdmin(admin.ModelAdmin):
    list_display = ("id", "patient", "mood", "date", "logged_at")
    list_filter = ("mood", "date")
    search_fields = ("patient__username", "patient__email")
    list_select_related = ("patient",)
    raw_id_fields = ("patient",)
    date_hierarchy = "date"
