"""System checks for dangerous production combinations."""

from django.conf import settings
from django.core.checks import Warning, register


@register()
def production_stack(app_configs, **kwargs):
    messages = []
    if settings.DEBUG:
        return messages
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if backend.endswith("InMemoryChannelLayer"):
        messages.append(
            Warning(
                "The in-memory channel layer only works within one server process.",
                hint="Set REDIS_URL so several daphne processes share wake-ups.",
                id="cantina.W001",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        messages.append(
            Warning(
                "SQLite is configured with DJANGO_DEBUG=false.",
                hint="Set DATABASE_URL to PostgreSQL for production and for several processes.",
                id="cantina.W002",
            )
        )
    return messages
