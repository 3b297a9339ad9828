"""Monitoring endpoints: /health."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from printing import services


def _channel_layer_reachable():
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.send)("health.check", {"type": "health.check"})
        return True
    except Exception:
        return False


@never_cache
@require_GET
def health(request):
    """Monitoring: 200 when the database and channel layer answer, 503 (degraded) otherwise."""
    body = {"status": "ok", "database": True, "channel_layer": _channel_layer_reachable()}
    try:
        connection.ensure_connection()
        stats = services.queue_stats()
    except Exception:
        body["database"] = False
        stats = None
    if stats is not None:
        body["printers"] = stats["printers"]
        body["jobs_pending"] = stats["jobs"]["pending"]
        body["oldest_pending_seconds"] = stats["oldest_pending_seconds"]
    body["channel_layer_backend"] = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    if not (body["database"] and body["channel_layer"]):
        body["status"] = "degraded"
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
