"""The print API's endpoints: they check, hand off to services, and answer with selectors' dicts."""

import base64
import binascii
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from api import idempotency, selectors
from api.auth import ApiKeyAuth
from api.errors import ApiError
from api.models import ApiOrder, Scope
from api.schemas import (
    MAX_ID,
    Moment,
    OrderIn,
    OrderOut,
    PrinterOut,
    PrinterReference,
    PrintJobIn,
    PrintJobOut,
    PrintJobPage,
    Problem,
)
from orders import services as order_services
from printing import services as print_services
from printing.documents import DocumentError
from printing.models import PrintJob

router = Router()

CAN_PRINT = ApiKeyAuth(Scope.PRINT)
CAN_READ_JOBS = ApiKeyAuth(Scope.READ, Scope.PRINT)
CAN_ORDER = ApiKeyAuth(Scope.ORDERS)
CAN_READ_ORDERS = ApiKeyAuth(Scope.ORDERS, Scope.READ)
ERRORS = {code: Problem for code in (400, 401, 403, 404, 409, 413, 422, 429)}
IDEMPOTENT = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "Any unique string (a UUID): a retry with the same key and body gets the first "
            "response back and creates nothing; with another body it gets 422.",
        }
    ],
}


def _printer_or_404(client, reference):
    printer = selectors.printer_find(client, reference)
    if printer is None:
        # Also for a printer outside the key's scope: the key learns nothing about it.
        raise ApiError(
            404, "printer_not_found", _("There is no printer “%(printer)s”.") % {"printer": reference}, field="printer"
        )
    if not printer.is_active:
        raise ApiError(
            409, "printer_disabled", _("Printer “%(name)s” is disabled.") % {"name": printer.name}, field="printer"
        )
    return printer


def _raw_bytes(payload):
    if payload.raw_format is None:
        raise ApiError(422, "invalid", _("Say what the raw bytes are: escpos, tspl, zpl or text."), field="raw_format")
    try:
        data = base64.b64decode(payload.raw, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "bad_base64", _("“raw” is not valid base64."), field="raw") from None
    if not data:
        raise ApiError(422, "invalid", _("There is nothing to print: “raw” is empty."), field="raw")
    if len(data) > print_services.RAW_JOB_MAX_BYTES:
        raise ApiError(
            413,
            "too_large",
            _("“raw” is %(size)s bytes; at most %(max)s bytes can be printed at once.")
            % {"size": len(data), "max": print_services.RAW_JOB_MAX_BYTES},
            field="raw",
        )
    return data


def _json(body, status=200):
    # One encoding for every answer, first responses, replays and reads alike (the schemas
    # describe them for the OpenAPI document).
    return JsonResponse(body, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def _print_error(error):
    status = {"printer_disabled": 409, "too_large": 413}.get(error.code, 422)
    return ApiError(status, error.code, str(error))


@router.post(
    "/print-jobs",
    auth=CAN_PRINT,
    response={201: PrintJobOut, **ERRORS},
    url_name="print_jobs",
    summary="Print a document or raw bytes",
    openapi_extra=IDEMPOTENT,
)
def print_job_create(request, payload: PrintJobIn):
    """Queue a job on a printer: a poster `document`, or `raw` base64 bytes with their `raw_format`.

    Send an `Idempotency-Key` header to retry safely: a replay returns the first response.
    """
    client = request.auth
    if (payload.document is None) == (payload.raw is None):
        raise ApiError(
            422,
            "invalid",
            _("Send either “document” or “raw”, not both and not neither."),
            field="document" if payload.document is None else "raw",
        )
    if payload.raw is None and payload.raw_format is not None:
        raise ApiError(422, "invalid", _("“raw_format” goes with “raw”, not with a document."), field="raw_format")
    data = _raw_bytes(payload) if payload.raw is not None else None

    def create():
        # The printer is looked up here, after the idempotency check: a replay gets the first
        # answer even if the printer was disabled since.
        options = {
            "printer": _printer_or_404(client, payload.printer),
            "copies": payload.copies,
            "priority": payload.priority,
            "title": payload.title,
            "source": payload.source or client.name,
            "expires_at": timezone.now() + timedelta(seconds=payload.expire_after) if payload.expire_after else None,
        }
        try:
            if data is not None:
                job = print_services.job_create_raw(data=data, raw_format=payload.raw_format, **options)
            else:
                job = print_services.job_create_document(document=payload.document, **options)
        except DocumentError as error:
            field = "document" if error.index is None else f"document.commands.{error.index}"
            if error.field:
                field += f".{error.field}"
            raise ApiError(422, "invalid_document", str(error), field=field) from None
        except print_services.PrintError as error:
            raise _print_error(error) from None
        return 201, selectors.job_dict(request, job, events=job.events.order_by("at", "id")), None

    response = idempotency.run(request, create)
    if response.status_code == 201:
        response["Location"] = selectors.job_url(request, _json_id(response))
    return response


def _json_id(response):
    import json

    return json.loads(response.content)["id"]


def _is_number(text):
    # str.isdigit() is also true of "²" and "٣", which int() refuses.
    return text.isascii() and text.isdigit()


class JobFilters(Schema):
    status: PrintJob.Status | None = Field(None, description="Only jobs in this state.")
    printer: PrinterReference | None = Field(None, description="Only jobs of this printer (id or name).")
    since: Moment | None = Field(None, description="Only jobs created at or after this time (ISO 8601).")
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, description="next_cursor of the previous page.")


@router.get("/print-jobs", auth=CAN_READ_JOBS, response={200: PrintJobPage, **ERRORS}, summary="List print jobs")
def print_job_list(request, filters: Query[JobFilters]):
    """Newest first, `limit` per page; follow `next` (or pass `cursor`) for older jobs."""
    client = request.auth
    jobs = selectors.jobs_for(client)
    if filters.status:
        jobs = jobs.filter(status=filters.status)
    if filters.printer is not None:
        reference = filters.printer
        if isinstance(reference, str) and _is_number(reference):
            reference = int(reference)
        printer = selectors.printer_find(client, reference)
        if printer is None:
            raise ApiError(
                404,
                "printer_not_found",
                _("There is no printer “%(printer)s”.") % {"printer": reference},
                field="printer",
            )
        jobs = jobs.filter(printer=printer)
    if filters.since:
        jobs = jobs.filter(created_at__gte=filters.since)  # aware: see schemas.Moment
    if filters.cursor:
        if not _is_number(filters.cursor) or int(filters.cursor) > MAX_ID:
            raise ApiError(422, "invalid", _("This cursor is not one the API gave."), field="cursor")
        jobs = jobs.filter(pk__lt=int(filters.cursor))
    page = list(jobs.order_by("-id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    next_cursor = str(page[-1].pk) if more else None
    next_url = None
    if next_cursor:
        query = request.GET.copy()
        query["cursor"] = next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return _json(
        {
            "items": [selectors.job_dict(request, job) for job in page],
            "next_cursor": next_cursor,
            "next": next_url,
        }
    )


@router.get(
    "/print-jobs/{job_id}",
    auth=CAN_READ_JOBS,
    response={200: PrintJobOut, **ERRORS},
    url_name="print_job_detail",
    summary="A print job, with its history",
)
def print_job_detail(request, job_id: int):
    job = selectors.job_detail(request, request.auth, job_id)
    if job is None:
        raise ApiError(404, "job_not_found", _("There is no print job %(id)s.") % {"id": job_id}, field="job_id")
    return _json(job)


@router.post(
    "/print-jobs/{job_id}/cancel",
    auth=CAN_PRINT,
    response={200: PrintJobOut, **ERRORS},
    summary="Cancel a job that has not started printing",
    openapi_extra=IDEMPOTENT,
)
def print_job_cancel(request, job_id: int):
    client = request.auth

    def cancel():
        if not selectors.jobs_for(client).filter(pk=job_id).exists():
            raise ApiError(404, "job_not_found", _("There is no print job %(id)s.") % {"id": job_id}, field="job_id")
        try:
            print_services.job_cancel(job_id=job_id)
        except print_services.PrintError as error:
            raise ApiError(409 if error.code == "not_cancellable" else 422, error.code, str(error)) from None
        return 200, selectors.job_detail(request, client, job_id), None

    return idempotency.run(request, cancel)


@router.get(
    "/printers",
    auth=CAN_READ_JOBS,
    url_name="printer_list",
    response={200: list[PrinterOut], **ERRORS},
    summary="Printers",
)
def printer_list(request):
    """The printers this key may use, with their connection, paper/cover status and queue."""
    return _json(selectors.printer_dicts(request.auth))


class DuplicateExternalId(Exception):
    pass


@router.post(
    "/orders",
    auth=CAN_ORDER,
    response={201: OrderOut, 200: OrderOut, **ERRORS},
    summary="Create (and confirm) an order",
    openapi_extra=IDEMPOTENT,
)
def order_create(request, payload: OrderIn):
    """Create an order; with `"confirm": true` its receipts print like a counter sale's.

    The same `external_id` twice returns the first order (200) instead of creating another.
    """
    client = request.auth
    products, lines = [], []
    for index, item in enumerate(payload.items):
        if item.product is not None:
            if item.name is not None or item.unit_price is not None:
                raise ApiError(
                    422,
                    "invalid",
                    _("An item is either a product or a name with a unit price."),
                    field=f"items.{index}.product",
                )
            products.append((item.product, item.quantity))
        elif item.name is None or item.unit_price is None:
            raise ApiError(
                422,
                "invalid",
                _("An item needs “product”, or “name” and “unit_price”."),
                field=f"items.{index}.{'name' if item.name is None else 'unit_price'}",
            )
        else:
            lines.append((item.name, item.quantity, item.unit_price))
    scheduled_for = payload.scheduled_for
    if scheduled_for is not None and timezone.is_naive(scheduled_for):
        scheduled_for = timezone.make_aware(scheduled_for)

    def existing():
        found = ApiOrder.objects.filter(api_key_id=client.key_id, external_id=payload.external_id).first()
        return found and found.order_id

    def create():
        if payload.external_id is not None and (order_id := existing()):
            return 200, _order_body(request, client, order_id), None
        try:
            order = order_services.order_create(
                channel=payload.channel,
                items=products,
                lines=lines,
                customer_name=payload.customer_name,
                payment_method=payload.payment_method,
                scheduled_for=scheduled_for,
                notes=payload.notes,
                confirm=payload.confirm,
            )
        except order_services.OrderError as error:
            raise ApiError(422, error.code, error.message, field=_ORDER_ERROR_FIELDS.get(error.code, "items")) from None
        try:
            with transaction.atomic():
                ApiOrder.objects.create(order=order, api_key_id=client.key_id, external_id=payload.external_id)
        except IntegrityError:
            raise DuplicateExternalId from None  # a concurrent request won: undo this order entirely
        return 201, _order_body(request, client, order.pk), lambda: _order_body(request, client, order.pk)

    try:
        return idempotency.run(request, create)
    except DuplicateExternalId:
        return _json(_order_body(request, client, existing()))


_ORDER_ERROR_FIELDS = {
    "bad_channel": "channel",
    "bad_payment": "payment_method",
    "no_pickup_time": "scheduled_for",
}


def _order_body(request, client, order_id):
    return selectors.order_dict(request, selectors.order_of_key(client, order_id))


@router.get(
    "/orders/{order_id}",
    auth=CAN_READ_ORDERS,
    response={200: OrderOut, **ERRORS},
    url_name="order_detail",
    summary="An order and its receipts' states",
)
def order_detail(request, order_id: int):
    order = selectors.order_of_key(request.auth, order_id)
    if order is None:
        raise ApiError(404, "order_not_found", _("There is no order %(id)s.") % {"id": order_id}, field="order_id")
    return _json(selectors.order_dict(request, order))
