"""Shared viewset behaviour."""

from __future__ import annotations


class FilterListsOnlyMixin:
    """Query-string filters, search and ordering shape lists; a detail route (``/{id}/``) is
    looked up directly, without building the filter form on every read or write."""

    def filter_queryset(self, queryset):
        if getattr(self, "detail", False):
            return queryset
        return super().filter_queryset(queryset)
