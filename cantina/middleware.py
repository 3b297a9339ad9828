"""Wiring for failures that are nobody's fault in particular: the database going away.

While PostgreSQL restarts, a request that needs it cannot be served. It must fail cleanly: a 503
that says what happened and that trying again shortly will work, never a traceback or a 500 page.
Nothing is half-done behind it: every workflow writes in one transaction (an order is created and
confirmed atomically), so a request that failed changed nothing, and trying again is safe.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

log = logging.getLogger("cantina")

RETRY_AFTER_SECONDS = 5


def wants_json(request):
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Turn a lost database connection into a translated 503 (HTML for pages, JSON for JSON clients).

    A MiddlewareMixin, so async-capable like Django's own: a sync-only middleware would make
    every request cross from a thread back to the event loop (``async_to_sync``), which costs a
    hop per request and, once daphne's loop has stopped on SIGTERM, never returns.
    """

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning(
            "event=database_unavailable method=%s path=%s error=%s",
            request.method, request.path, str(exception).strip().splitlines()[0] if str(exception).strip() else type(exception).__name__,
        )
        message = _("The database is not answering right now, so nothing was saved. Try again in a few seconds.")
        if wants_json(request):
            response = JsonResponse({"error": "database_unavailable", "message": message}, status=503)
        else:
            # Rendered without the request: the page must not touch the session or the user,
            # which would need the database again.
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
