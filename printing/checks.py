"""System checks for dangerous production combinations."""

from django.conf import settings
from django.core.checks import Error, Warning, register


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


@register()
def raster_fonts(app_configs, **kwargs):
    """Raster printing needs its fonts: say so at startup, never fail at print time."""
    from printing.rendering.fonts import font_problems

    return [
        Error(
            message,
            hint=f"Install fonts-dejavu-core and fonts-wqy-microhei (apt-get install), or set {name} "
            "to a TrueType font file.",
            id="cantina.E001" if name == "CANTINA_FONT_LATIN" else "cantina.E002",
        )
        for name, message in font_problems()
    ]
