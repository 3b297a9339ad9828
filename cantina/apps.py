from django.apps import AppConfig


class CantinaConfig(AppConfig):
    """The project itself as an app, so its system checks (cantina/checks.py) are registered."""

    name = "cantina"
    verbose_name = "Cantina Print"

    def ready(self):
        from django.core.signals import request_finished

        from cantina import checks  # noqa: F401  (registers system checks)
        from cantina.db import close_request_connections

        request_finished.connect(close_request_connections, dispatch_uid="cantina.close_request_connections")
