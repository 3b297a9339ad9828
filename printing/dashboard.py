"""The print dashboard at /admin/print/: today's jobs, failures, printers, agents and the server.

The page renders the figures once; ``data/`` returns the same figures as JSON, which the page
polls every few seconds (static/admin_extra/dashboard.js). Both are admin views that also need
the ``printing.view_dashboard`` permission (role Gerente).
"""

import platform
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

import django
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from accounts import roles
from printing import monitoring
from printing.admin import PRINTER_STATUS_TONE, printer_connection_label, printer_connection_tone
from printing.consumers import SERVER_VERSION, registry
from printing.models import Printer, PrintJob

app_name = "print_dashboard"

REFRESH_SECONDS = 5
RECENT_FAILURES = 10
QUEUED_STATUSES = [PrintJob.Status.PENDING, PrintJob.Status.SENT, PrintJob.Status.PRINTING]
AGENT_FIELDS = ("id", "name", "url", "model_name", "agent_version", "last_seen", "status", "status_label")


def local_day_bounds(now=None):
    """Start and end (aware) of today in the shop's time zone (settings.TIME_ZONE)."""
    now = timezone.localtime(now)
    start = timezone.make_aware(datetime.combine(now.date(), time.min))
    end = timezone.make_aware(datetime.combine(now.date() + timedelta(days=1), time.min))
    return start, end


def jobs_url(**filters):
    return f"{reverse('admin:printing_printjob_changelist')}?{urlencode(filters)}"


def _when(value, now):
    if value is None:
        return {"iso": None, "display": _("never"), "ago": "", "ago_or_display": _("never")}
    local = timezone.localtime(value)
    display = date_format(local, "SHORT_DATETIME_FORMAT")
    ago = _("%(time)s ago") % {"time": timesince(value, now)} if value <= now else ""
    return {"iso": local.isoformat(), "display": display, "ago": ago, "ago_or_display": ago or display}


def _seconds(value):
    return _("%(seconds)s s") % {"seconds": number_format(value, decimal_pos=1)}


def _today(now):
    start, end = local_day_bounds(now)
    jobs = PrintJob.objects.filter(created_at__gte=start, created_at__lt=end)
    counts = dict(jobs.values_list("status").annotate(n=Count("pk")).order_by())
    day_filter = {"created_at__gte": str(start), "created_at__lt": str(end)}
    durations = [
        (finished - created).total_seconds()
        for created, finished in jobs.filter(status=PrintJob.Status.COMPLETED, finished_at__isnull=False)
        .values_list("created_at", "finished_at")
    ]
    average = round(sum(durations) / len(durations), 1) if durations else None
    return {
        "date": start.date().isoformat(),
        "date_display": date_format(start.date(), "DATE_FORMAT"),
        "total": sum(counts.values()),
        "total_url": jobs_url(**day_filter),
        "by_status": [
            {
                "status": status,
                "label": str(label),
                "count": counts.get(status, 0),
                "url": jobs_url(status__exact=status, **day_filter),
            }
            for status, label in PrintJob.Status.choices
        ],
        "average_seconds_to_print": average,
        "average_display": _seconds(average) if average is not None else "—",
    }


def _queue(now):
    queued = PrintJob.objects.filter(status__in=QUEUED_STATUSES)
    counts = dict(queued.values_list("status").annotate(n=Count("pk")).order_by())
    oldest = (
        queued.filter(status=PrintJob.Status.PENDING).order_by("created_at").values_list("created_at", flat=True).first()
    )
    return {
        "pending": counts.get(PrintJob.Status.PENDING, 0),
        "in_flight": counts.get(PrintJob.Status.SENT, 0) + counts.get(PrintJob.Status.PRINTING, 0),
        "oldest_pending_seconds": round((now - oldest).total_seconds()) if oldest else None,
        "oldest_pending_display": timesince(oldest, now) if oldest else "—",
        "pending_url": jobs_url(status__exact=PrintJob.Status.PENDING),
        "in_flight_url": jobs_url(status__in=f"{PrintJob.Status.SENT},{PrintJob.Status.PRINTING}"),
    }


def _failures(now):
    jobs = (
        PrintJob.objects.filter(status=PrintJob.Status.FAILED)
        .select_related("printer", "order")
        .order_by("-finished_at", "-id")[:RECENT_FAILURES]
    )
    return [
        {
            "id": job.pk,
            "label": f"#{job.pk}",
            "url": reverse("admin:printing_printjob_change", args=[job.pk]),
            "printer": job.printer.name,
            "order": job.order.number if job.order else None,
            "order_label": f"#{job.order.number} {job.order.customer_name}".strip() if job.order else "—",
            "kind": str(job.get_kind_display()),
            "error_code": job.error_code,
            "reason": job.error_message or job.error_code or _("no reason given"),
            "attempts": job.attempts,
            "finished": _when(job.finished_at, now),
        }
        for job in jobs
    ]


def _printers(now):
    printers = Printer.objects.annotate(queued=Count("jobs", filter=Q(jobs__status__in=QUEUED_STATUSES))).order_by("name")
    return [
        {
            "id": printer.pk,
            "name": printer.name,
            "location": printer.location,
            "url": reverse("admin:printing_printer_change", args=[printer.pk]),
            "is_active": printer.is_active,
            "connected": printer.connected,
            "connection_label": str(printer_connection_label(printer)),
            "connection_tone": printer_connection_tone(printer),
            "status": printer.status,
            "status_label": str(printer.get_status_display()),
            "status_tone": PRINTER_STATUS_TONE.get(printer.status, "muted"),
            "status_message": printer.status_message,
            "queued": printer.queued,
            "queued_url": jobs_url(printer__id__exact=printer.pk, status__in=",".join(QUEUED_STATUSES)),
            "last_seen": _when(printer.last_seen_at, now),
            "model_name": printer.model_name,
            "agent_version": printer.agent_version,
        }
        for printer in printers
    ]


def _server(now):
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    started = monitoring.process_started_at()
    return {
        "version": SERVER_VERSION,
        "django": django.get_version(),
        "python": platform.python_version(),
        "channel_layer": backend.rsplit(".", 1)[-1],
        "database": connection.vendor,
        "database_engine": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "time_zone": settings.TIME_ZONE,
        "started": _when(started, now),
        "uptime_seconds": round((now - started).total_seconds()),
        "uptime_display": timesince(started, now),
        "sweep_interval_seconds": settings.CANTINA_SWEEP_INTERVAL,
        "agent_ping_interval_seconds": settings.CANTINA_AGENT_PING_INTERVAL,
        "agents_in_this_process": len(registry.consumers),
        "debug": settings.DEBUG,
    }


def dashboard_data(now=None):
    """Everything the dashboard shows, as plain JSON-ready data."""
    now = now or timezone.now()
    printers = _printers(now)
    connected = sum(1 for p in printers if p["connected"] and p["is_active"])
    active = sum(1 for p in printers if p["is_active"])
    return {
        "generated_at": timezone.localtime(now).isoformat(),
        "generated_at_display": date_format(timezone.localtime(now), "H:i:s"),
        "refresh_seconds": REFRESH_SECONDS,
        "today": _today(now),
        "queue": _queue(now),
        "failures": _failures(now),
        "failures_url": jobs_url(status__exact=PrintJob.Status.FAILED),
        "printers": printers,
        "printers_connected": connected,
        "printers_active": active,
        "printers_summary": _("%(connected)d of %(active)d connected") % {"connected": connected, "active": active},
        "agents": [
            {key: p[key] for key in AGENT_FIELDS}
            for p in printers
            if p["connected"]
        ],
        "server": _server(now),
    }


def dashboard(request):
    context = {
        **admin.site.each_context(request),
        "title": _("Print dashboard"),
        "data": dashboard_data(),
        "data_url": reverse("print_dashboard:data"),
    }
    return TemplateResponse(request, "admin/printing/dashboard.html", context)


def data(request):
    return JsonResponse(dashboard_data())


# The admin's own check (active staff) and the dashboard's permission: Gerente, or a superuser.
may_view_dashboard = permission_required(roles.VIEW_DASHBOARD, raise_exception=True)

urlpatterns = [
    path("", admin.site.admin_view(may_view_dashboard(dashboard)), name="index"),
    path("data/", admin.site.admin_view(may_view_dashboard(data)), name="data"),
]
