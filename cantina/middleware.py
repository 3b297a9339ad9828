"""Middleware of the project (not of one app)."""

from django.urls import resolve

HEALTH_PATH = "/health"


class HealthCheckMiddleware:
    """Serves ``/health`` before anything reads the Host header.

    Load balancers and monitors ask a backend directly by its address (``10.0.0.5:8001``), not
    by the site's name: Django's host validation (ALLOWED_HOSTS, checked by CommonMiddleware,
    CSRF and the HTTPS redirect) would answer 400 DisallowedHost and log a traceback. The health
    view shows nothing that depends on the host or is secret (see printing.monitoring), so it
    answers whatever the Host header says. First in MIDDLEWARE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH:
            return resolve(HEALTH_PATH).func(request)
        return self.get_response(request)
