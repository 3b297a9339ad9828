"""The Django project: settings, ASGI entry point, root URLconf, small shared helpers (timeutils)."""
