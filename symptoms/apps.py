from django.apps import AppConfig


class SymptomsConfig(AppConfig):
    name = "symptoms"
    verbose_name = "Symptoms and moods"

    def ready(self) -> None:
        from symptoms.insights import signals  # noqa: F401 (connects the cache invalidation)
