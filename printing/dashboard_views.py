"""The print dashboard at /admin/print/ (URLs in printing.dashboard_urls): the page and its JSON.

The page renders the figures once; ``data/`` returns the same figures as JSON, which the page
polls every few seconds (static/admin_extra/dashboard.js). Both are admin views (active staff) that
also need the ``printing.view_dashboard`` permission (role Gerente, accounts.roles).
The figures come from ``printing.selectors.dashboard_data``; this module adds the facts about
the server process answering.
"""

import platform

import django
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.db import connection
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from accounts import roles
from printing import monitoring
from printing.consumers import registry
from printing.protocol import SERVER_VERSION
from printing.selectors import dashboard_data, when

REFRESH_SECONDS = 5


def server_info(now):
    """This server process: versions, backends, uptime, and the agents it holds."""
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
        "started": when(started, now),
        "uptime_seconds": round((now - started).total_seconds()),
        "uptime_display": timesince(started, now),
        "sweep_interval_seconds": settings.CANTINA_SWEEP_INTERVAL,
        "agent_ping_interval_seconds": settings.CANTINA_AGENT_PING_INTERVAL,
        "agents_in_this_process": len(registry.consumers),
        "debug": settings.DEBUG,
    }


def page_data(now=None):
    now = now or timezone.now()
    return {**dashboard_data(now), "refresh_seconds": REFRESH_SECONDS, "server": server_info(now)}


@permission_required(roles.VIEW_DASHBOARD, raise_exception=True)
def dashboard(request):
    context = {
        **admin.site.each_context(request),
        "title": _("Print dashboard"),
        "data": page_data(),
        "data_url": reverse("print_dashboard:data"),
    }
    return TemplateResponse(request, "admin/printing/dashboard.html", context)


@permission_required(roles.VIEW_DASHBOARD, raise_exception=True)
def data(request):
    return JsonResponse(page_data())
