"""Every API error is an RFC 9457 problem document naming the field at fault.

``{"type": "…/problems/<code>", "title", "status", "detail", "code", "errors": [{"field", "message"}]}``
served as ``application/problem+json``, for 400 through 429 alike, including the library's own
validation errors (422) and the bad-JSON 400.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError

log = logging.getLogger("cantina.api")

PROBLEM_TYPE = "https://cantina.print/problems/"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    def __init__(self, status, code, detail, *, field=None, errors=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = str(detail)
        self.errors = errors if errors is not None else ([{"field": field, "message": str(detail)}] if field else [])
        self.headers = headers or {}


def problem(status, code, detail, errors=(), headers=None):
    body = {
        "type": PROBLEM_TYPE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": list(errors),
    }
    response = JsonResponse(
        body, status=status, content_type="application/problem+json", json_dumps_params={"ensure_ascii": False}
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field(loc):
    # ninja's locations start with where the value was ("body", "query", "path") and, for a body
    # schema, the view's parameter name: the client knows neither.
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where = parts.pop(0)
        if where == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    return ".".join(str(part) for part in parts) or "body"


def _message(error):
    message = error.get("msg", "")
    if error.get("type") == "extra_forbidden":
        return _("Unknown field.")
    if error.get("type") == "missing":
        return _("This field is required.")
    return message


def install(api):
    """Replace the library's error responses with problem documents."""

    @api.exception_handler(ApiError)
    def api_error(request, exc):
        return problem(exc.status, exc.code, exc.detail, exc.errors, exc.headers)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc):
        errors = [
            {"field": _field(error.get("loc", ())), "message": _message(error), "type": error.get("type", "")}
            for error in exc.errors
        ]
        fields = ", ".join(dict.fromkeys(error["field"] for error in errors))
        return problem(422, "invalid", _("Invalid request: check %(fields)s.") % {"fields": fields}, errors)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return problem(
            401,
            "unauthorized",
            _("Send your API key as “Authorization: Bearer ck_…”."),
            [{"field": "Authorization", "message": _("Missing API key.")}],
            {"WWW-Authenticate": 'Bearer realm="cantina"'},
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, RecursionError):
            return problem(
                400,
                "bad_json",
                _("The body nests JSON arrays or objects too deeply."),
                [{"field": "body", "message": _("Not valid JSON.")}],
            )
        if exc.status_code == 400 and isinstance(cause, ValueError):
            # JSONDecodeError, UnicodeDecodeError, and e.g. a number of over 4300 digits.
            return problem(
                400,
                "bad_json",
                _("The body is not valid JSON: %(error)s") % {"error": cause},
                [{"field": "body", "message": _("Not valid JSON.")}],
            )
        return problem(exc.status_code, "http_error", str(exc))

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def database_unavailable(request, exc):
        # The database restarting (found by fault scenario r2-3: it was a 500). Like the pages'
        # 503 (cantina.middleware): nothing was saved, retry with the same Idempotency-Key.
        from cantina.middleware import RETRY_AFTER_SECONDS, database_unavailable_logged, database_unavailable_message

        database_unavailable_logged(request, exc)
        return problem(
            503,
            "database_unavailable",
            database_unavailable_message(),
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )

    @api.exception_handler(Exception)
    def server_error(request, exc):
        # A bug or an outage: logged with its traceback, never shown; the request's transaction
        # was rolled back, so retrying (with the same Idempotency-Key) is safe.
        log.exception("event=api_error path=%s", request.path)
        return problem(500, "server_error", _("The server failed to answer; nothing was changed. Try again."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return problem(404, "not_found", _("Not found."))
