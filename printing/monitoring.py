"""Monitoring: /health, and facts about this server process.

/health answers 200 with ``"status": "ok"`` when the database and the channel layer both
answer and no printer is down, and 503 with ``"status": "degraded"`` otherwise, with queue figures
when the database is reachable. A printer is down when it auto-prints and has had no agent, or
has reported paper out / cover open, for ``CANTINA_PRINTER_ALARM_SECONDS`` (30 s): it is named in
``printer_alarms``. It shows no settings, URLs or credentials: it is public.
"""

import asyncio
import logging
import os
from datetime import UTC, datetime

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from printing import notify, selectors
from printing.models import PrintJob

log = logging.getLogger("cantina.printing")

# A probe that hangs (an unreachable Redis) must not hang the monitoring request with it; None
# means settings.CANTINA_CHANNEL_LAYER_TIMEOUT, the limit of every channel-layer call.
CHANNEL_LAYER_TIMEOUT_SECONDS = None


def _read_process_started_at():
    """When this process started: from /proc on Linux, else when this module was imported."""
    try:
        with open("/proc/self/stat") as stat:
            # Field 22 (starttime, in clock ticks after boot); the command name may hold spaces.
            ticks = int(stat.read().rpartition(")")[2].split()[19])
        with open("/proc/stat") as system:
            boot = next(int(line.split()[1]) for line in system if line.startswith("btime "))
        return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), tz=UTC)
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return timezone.now()


_PROCESS_STARTED_AT = _read_process_started_at()


def process_started_at():
    return _PROCESS_STARTED_AT


async def _channel_layer_round_trip(layer, timeout):
    # A fresh channel, received from at once: the probe leaves no message behind, and it proves
    # that messages go both ways, which a bare send does not.
    channel = await layer.new_channel()

    async def round_trip():
        await layer.send(channel, {"type": "health.probe"})
        await layer.receive(channel)

    await asyncio.wait_for(round_trip(), timeout)


def channel_layer_reachable(timeout=None):
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        limit = timeout or CHANNEL_LAYER_TIMEOUT_SECONDS or settings.CANTINA_CHANNEL_LAYER_TIMEOUT
        notify.run_layer_call(_channel_layer_round_trip, layer, limit)
    except Exception as error:
        log.warning("health check=channel_layer ok=false error=%s", type(error).__name__)
        return False
    return True


def database_reachable():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        log.warning("health check=database ok=false error=%s", type(error).__name__)
        return False
    return True


def health_report():
    """The /health body: plain data, no secrets."""
    report = {
        "status": "ok",
        "database": database_reachable(),
        "channel_layer": channel_layer_reachable(),
        "channel_layer_backend": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
        "printers": None,
        "jobs_pending": None,
        "oldest_pending_seconds": None,
        "printer_alarms": [],
    }
    if report["database"]:
        try:
            stats = selectors.queue_stats()
        except Exception as error:
            log.warning("health check=queue_stats ok=false error=%s", type(error).__name__)
            report["database"] = False
        else:
            report["printers"] = stats["printers"]
            report["jobs_pending"] = stats["jobs"][PrintJob.Status.PENDING]
            oldest = stats["oldest_pending_seconds"]
            report["oldest_pending_seconds"] = round(oldest, 1) if oldest is not None else None
        try:
            alarms = selectors.printer_alarms()
        except Exception as error:
            log.warning("health check=printer_alarms ok=false error=%s", type(error).__name__)
        else:
            # Named, so whoever is paged knows which printer to go and look at.
            report["printer_alarms"] = [
                {"printer": alarm["printer"], "reason": alarm["reason"], "seconds": alarm["seconds"]}
                for alarm in alarms
            ]
    if not (report["database"] and report["channel_layer"]) or report.get("printer_alarms"):
        report["status"] = "degraded"
    return report


@never_cache
@require_safe
def health(request):
    """Monitoring: 200 when the database and channel layer answer, 503 (degraded) otherwise."""
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
