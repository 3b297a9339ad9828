"""Answers Django gives before the API's own views run (no such route, method not allowed)
as problem documents too, so a client of ``/api/`` only ever parses one error shape."""

from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from api.cors import API_PREFIX
from api.errors import problem


class ApiProblemMiddleware(MiddlewareMixin):
    # MiddlewareMixin keeps the chain async-capable: see tests/test_middleware_async.py.
    def process_response(self, request, response):
        if not request.path.startswith(API_PREFIX) or "json" in response.get("Content-Type", ""):
            return response
        if response.status_code == 404:
            return problem(404, "not_found", _("There is no such API route: see /api/v1/docs."))
        if response.status_code == 405:
            return problem(
                405, "method_not_allowed", _("This route does not accept %(method)s.") % {"method": request.method}
            )
        return response
