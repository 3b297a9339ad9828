from django.apps import AppConfig


class CantinaConfig(AppConfig):
    """The project itself as an app, so its system checks (cantina/checks.py) are registered."""

    name = "cantina"
    verbose_name = "Cantina Print"

    def ready(self):
        from cantina import checks  # noqa: F401  (registers system checks)
