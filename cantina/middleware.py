"""Middleware of the project (not of one app).

- ``/health`` answers before anything reads the Host header (HealthCheckMiddleware).
- The database going away (PostgreSQL restarting) is a translated 503, never a traceback
  (DatabaseUnavailableMiddleware): nothing is half-done behind it, since every workflow writes in
  one transaction (an order is created and confirmed atomically), so trying again is safe.

Both are MiddlewareMixin-based, so async-capable like Django's own (tests/test_middleware_async.py):
a sync-only middleware sends every request from a worker thread back to daphne's event loop,
which once the loop has stopped on SIGTERM never returns, and daphne never exits.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import resolve
from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

log = logging.getLogger("cantina")

HEALTH_PATH = "/health"
RETRY_AFTER_SECONDS = 5


class HealthCheckMiddleware(MiddlewareMixin):
    """Serves ``/health`` before anything reads the Host header.

    Load balancers and monitors ask a backend directly by its address (``10.0.0.5:8001``), not
    by the site's name: Django's host validation (ALLOWED_HOSTS, checked by CommonMiddleware,
    CSRF and the HTTPS redirect) would answer 400 DisallowedHost and log a traceback. The health
    view shows nothing that depends on the host or is secret (see printing.monitoring), so it
    answers whatever the Host header says. First in MIDDLEWARE.
    """

    def process_request(self, request):
        if request.path_info == HEALTH_PATH:
            return resolve(HEALTH_PATH).func(request)
        return None


def wants_json(request):
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def database_unavailable_logged(request, error):
    """The one log line of a request that met a lost database connection (pages, API, cloud
    printers): no traceback, the error's first line."""
    text = str(error).strip()
    first_line = text.splitlines()[0][:200] if text else type(error).__name__
    log.warning("event=database_unavailable method=%s path=%s error=%s", request.method, request.path, first_line)


def database_unavailable_message():
    return _("The database is not answering right now, so nothing was saved. Try again in a few seconds.")


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Turn a lost database connection into a translated 503 (HTML for pages, JSON for JSON clients)."""

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        database_unavailable_logged(request, exception)
        message = database_unavailable_message()
        if wants_json(request):
            response = JsonResponse({"error": "database_unavailable", "message": message}, status=503)
        else:
            # Rendered without the request: the page must not touch the session or the user,
            # which would need the database again.
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        add_never_cache_headers(response)  # and no middleware after this needs the user to decide it
        return response
