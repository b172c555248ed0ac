from django.apps import AppConfig


class SymptomsConfig(AppConfig):
    name = "symptoms"
    verbose_name = "Symptoms and moods"

    def ready(self) -> None:
        from symptoms.insights import receivers  # noqa: F401 (a deleted account's insights go)
