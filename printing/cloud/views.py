"""The two endpoints cloud printers poll: ``/cloudprnt/`` (Star) and ``/epson/sdp/`` (Epson).

CSRF does not apply (printers have no cookies; they authenticate with their secret on every
request). Bad requests get a 4xx with a one-line reason and one log line, never a traceback, and
never touch a job. A database that is not answering (PostgreSQL restarting) gets a 503 with
Retry-After, as the site's pages do (these paths skip the site's middleware): the printer polls
again, and a confirmation it could not deliver is sent again with the same job token. With ``DJANGO_DEBUG=false`` only HTTPS is served (behind a proxy that sets
``X-Forwarded-Proto``, as ``SECURE_PROXY_SSL_HEADER`` says).
"""

import functools
import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from cantina.middleware import RETRY_AFTER_SECONDS, database_unavailable_logged
from printing.cloud import auth, cloudprnt, epson_sdp
from printing.cloud import services as cloud
from printing.models import Printer, normalize_mac
from printing.services import RETRYABLE_ERROR_CODES

log = logging.getLogger("cantina.printing.cloud")

# What a poll reads of its printer (the rest of the row, e.g. the paper settings, is not needed).
POLL_FIELDS = (
    "pk",
    "transport",
    "mac",
    "device_id",
    "token_hash",
    "digest_ha1",
    "is_active",
    "status",
    "connected",
    "last_seen_at",
    "poll_interval",
    "status_reported_at",
)
BASIC_CHALLENGE = 'Basic realm="Cantina Print", charset="UTF-8"'
XML = "text/xml; charset=utf-8"


class Refused(Exception):
    def __init__(self, status, code, message, challenge=None):
        super().__init__(message)
        self.status, self.code, self.challenge = status, code, challenge


def _refusal(request, error, *, xml=False):
    log.warning(
        "event=cloud_request_refused path=%s method=%s status=%s error=%s reason=%s",
        request.path,
        request.method,
        error.status,
        error.code,
        str(error)[:200],
    )
    if xml:
        response = HttpResponse(str(error), status=error.status, content_type="text/plain; charset=utf-8")
    else:
        response = JsonResponse({"error": error.code, "message": str(error)}, status=error.status)
    if error.challenge:
        for value in error.challenge if isinstance(error.challenge, list) else [error.challenge]:
            # Django keeps one value per header: several challenges go comma-separated.
            existing = response.headers.get("WWW-Authenticate")
            response.headers["WWW-Authenticate"] = f"{existing}, {value}" if existing else value
    return response


def _database_unavailable(request, error, *, xml=False):
    """A lost database connection: one log line and a 503 the printer retries, never a traceback."""
    database_unavailable_logged(request, error)
    message = "The database is not answering right now, so nothing was recorded: try again in a few seconds."
    if xml:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    else:
        response = JsonResponse({"error": "database_unavailable", "message": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _require_https(request):
    # These paths skip the site's middleware (printing.cloud.asgi): the host is checked here.
    try:
        request.get_host()
    except DisallowedHost:
        raise Refused(
            400,
            "bad_host",
            "This host name is not in DJANGO_ALLOWED_HOSTS: use the server's name in the printer's URL.",
        ) from None
    if not settings.DEBUG and not request.is_secure():
        raise Refused(
            403, "https_required", "Use https:// for this URL: printers send their secret with every request."
        )


def _body(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "bad_request", "Content-Length is not a number.") from None
    if length > settings.CANTINA_CLOUD_MAX_BODY_BYTES:
        raise Refused(413, "too_large", f"The body is over {settings.CANTINA_CLOUD_MAX_BODY_BYTES} bytes.")
    body = request.body
    if len(body) > settings.CANTINA_CLOUD_MAX_BODY_BYTES:
        raise Refused(413, "too_large", f"The body is over {settings.CANTINA_CLOUD_MAX_BODY_BYTES} bytes.")
    return body


def media_types():
    """What this server renders correctly for a Star printer, best first."""
    from printing.cloud import rendering

    return rendering.media_types()


# --- Star CloudPRNT -------------------------------------------------------------------------


def _cloudprnt_printer(request, mac):
    unknown = Refused(401, "unauthorized", "Unknown printer or wrong secret.", BASIC_CHALLENGE)
    password = auth.basic_password(request)
    if password is None:
        raise Refused(401, "unauthorized", "Send the printer's secret as the HTTP Basic password.", BASIC_CHALLENGE)
    mac = normalize_mac(mac)
    if not mac:
        raise Refused(400, "bad_request", "mac is missing or is not a MAC address.")
    printer = Printer.objects.filter(mac=mac, transport=Printer.Transport.CLOUDPRNT).only(*POLL_FIELDS).first()
    if printer is None or not printer.token_matches(password):
        raise unknown
    return printer


def with_content_length(view):
    """Printers' HTTP clients are small: give every answer a Content-Length (no chunked bodies;
    these paths skip CommonMiddleware, which would otherwise set it)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return wrapper


@csrf_exempt
@never_cache
@with_content_length
def cloudprnt_endpoint(request):
    try:
        _require_https(request)
        if request.method == "POST":
            return _cloudprnt_poll(request)
        if request.method == "GET":
            if "delete" in request.GET:  # the printer was told deleteMethod GET, or chose it
                return _cloudprnt_confirm(request)
            return _cloudprnt_fetch(request)
        if request.method == "DELETE":
            return _cloudprnt_confirm(request)
        response = _refusal(request, Refused(405, "method_not_allowed", "Use POST, GET or DELETE."))
        response["Allow"] = "POST, GET, DELETE"
        return response
    except Refused as error:
        return _refusal(request, error)
    except (cloudprnt.ProtocolError, cloud.CloudError) as error:
        status = 404 if getattr(error, "code", "") == "not_found" else 400
        return _refusal(request, Refused(status, getattr(error, "code", "bad_request"), str(error)))
    except (OperationalError, InterfaceError) as error:
        return _database_unavailable(request, error)


def _cloudprnt_poll(request):
    body = _body(request)
    try:
        poll = cloudprnt.parse_poll(body)
    except cloudprnt.ProtocolError as error:
        raise Refused(400, "bad_request", str(error)) from None
    printer = _cloudprnt_printer(request, poll.mac)
    status = cloudprnt.printer_status(poll.status_code)
    handout = cloud.cloud_printer_poll(printer=printer, status=status, message=poll.status_code)
    return JsonResponse(cloudprnt.poll_response(handout, media_types()))


def _cloudprnt_fetch(request):
    printer = _cloudprnt_printer(request, request.GET.get("mac", ""))
    media_type = request.GET.get("type", "")
    if media_type not in media_types():
        raise Refused(
            415, "unsupported_media_type", f"type must be one of {', '.join(media_types())}, not {media_type[:60]!r}."
        )
    job = cloud.cloud_job_fetch(printer=printer, token=request.GET.get("token", ""))
    from printing.cloud import rendering

    payload, content_type = rendering.render_for_star(job, media_type)
    log.info("job=%s printer=%s event=fetched type=%s bytes=%s", job.pk, printer.pk, media_type, len(payload))
    return HttpResponse(payload, content_type=content_type)


def _cloudprnt_confirm(request):
    printer = _cloudprnt_printer(request, request.GET.get("mac", ""))
    result = cloudprnt.confirmation_result(request.GET.get("code", ""))
    job_id = cloud.cloud_job_confirm(
        printer=printer,
        token=request.GET.get("token", ""),
        success=result.success,
        error_code=result.error_code,
        message=result.message,
    )
    return JsonResponse({"ok": True, "job_id": job_id})


# --- Epson Server Direct Print ----------------------------------------------------------------


def _epson_printer(request, device_id):
    challenges = [auth.digest_challenge(), BASIC_CHALLENGE]
    params = auth.digest_params(request)
    if params is not None:
        user = params.get("username", "")
        printer = (
            Printer.objects.filter(device_id=user, transport=Printer.Transport.EPSON_SDP).only(*POLL_FIELDS).first()
            if user
            else None
        )
        verdict = auth.digest_verify(
            params,
            ha1=printer.digest_ha1 if printer else "",
            method=request.method,
            path=request.path,
        )
        if verdict == "stale":
            raise Refused(
                401,
                "unauthorized",
                "The nonce is old: authenticate again.",
                [auth.digest_challenge(stale=True), BASIC_CHALLENGE],
            )
        if verdict != "ok":
            raise Refused(401, "unauthorized", "Unknown printer or wrong secret.", challenges)
        if device_id and device_id != printer.device_id:
            raise Refused(403, "forbidden", "ID is not the device ID of the authenticated printer.")
        return printer
    password = auth.basic_password(request)
    if password is None:
        raise Refused(401, "unauthorized", "Authenticate with the printer's device ID and secret.", challenges)
    printer = (
        Printer.objects.filter(device_id=device_id, transport=Printer.Transport.EPSON_SDP).only(*POLL_FIELDS).first()
        if device_id
        else None
    )
    if printer is None or not printer.token_matches(password):
        raise Refused(401, "unauthorized", "Unknown printer or wrong secret.", challenges)
    return printer


@csrf_exempt
@never_cache
@with_content_length
def epson_sdp_endpoint(request):
    try:
        _require_https(request)
        if request.method != "POST":
            raise Refused(405, "method_not_allowed", "Epson Server Direct Print uses POST.")
        _body(request)
        form = request.POST
        device_id = form.get("ID", "").strip()
        printer = _epson_printer(request, device_id)
        kind = form.get("ConnectionType", "")
        if kind == "GetRequest":
            return _epson_get_request(printer)
        if kind == "SetResponse":
            return _epson_set_response(printer, form.get("ResponseFile", ""))
        if kind == "SetStatus":
            status, detail = epson_sdp.parse_status(form.get("Status", ""))
            cloud.cloud_printer_report_status(printer=printer, status=status, message=detail)
            return HttpResponse(b"", content_type=XML)
        raise Refused(400, "bad_request", "ConnectionType must be GetRequest, SetResponse or SetStatus.")
    except Refused as error:
        return _refusal(request, error, xml=True)
    except (epson_sdp.ProtocolError, cloud.CloudError) as error:
        status = 404 if getattr(error, "code", "") == "not_found" else 400
        return _refusal(request, Refused(status, getattr(error, "code", "bad_request"), str(error)), xml=True)
    except (OperationalError, InterfaceError) as error:
        return _database_unavailable(request, error, xml=True)


def _epson_get_request(printer):
    handout = cloud.cloud_printer_poll(printer=printer, status=None)
    if handout is None:
        return HttpResponse(b"", content_type=XML)  # nothing to print
    job = cloud.cloud_job_fetch(printer=printer, token=handout.token)
    from printing.cloud import rendering

    with translation.override(settings.CANTINA_RECEIPT_LANGUAGE):
        body = epson_sdp.print_request(handout.token, rendering.render_for_epson(job))
    log.info("job=%s printer=%s event=fetched type=epos-print bytes=%s", job.pk, printer.pk, len(body))
    return HttpResponse(body, content_type=XML)


def _epson_set_response(printer, response_file):
    results, complaint = epson_sdp.parse_response_file(response_file)
    if not results and complaint:
        # The printer could not read what it was given (version 3): the job it holds failed.
        cloud.cloud_job_confirm(printer=printer, token="", success=False, error_code="bad_data", message=complaint)
    for result in results:
        cloud.cloud_job_confirm(
            printer=printer,
            token=result.job_token,
            success=result.success,
            error_code=result.error_code,
            message=result.message,
        )
        if not result.success and result.error_code in RETRYABLE_ERROR_CODES:
            cloud.cloud_printer_status_learnt(printer=printer)
    return HttpResponse(b"", content_type=XML)
