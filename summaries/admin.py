from django.contrib import admin

from summaries.models import DigestDelivery


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "patient", "week_of", "status", "created_at", "sent_at")
    list_filter = ("status", "week_of")
    search_fields = ("patient__username", "patient__email")
    list_select_related = ("patient",)
    raw_id_fields = ("patient",)
