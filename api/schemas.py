"""Request and response shapes of the print API (the OpenAPI document is generated from these)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from orders.models import MAX_QUANTITY, MIN_QUANTITY


class Strict(Schema):
    # Unknown fields are errors: a misspelt "copeis" must not silently print one copy.
    model_config = ConfigDict(extra="forbid")


RawFormat = Literal["escpos", "tspl", "zpl", "text"]


MAX_DEPTH = 64  # JSON nesting of a document: poster documents need 4 or 5 levels


def _text_problem(value):
    """Why this JSON value cannot be stored, or None: NUL characters and lone UTF-16 surrogates
    ("\\ud800", legal in JSON, not in UTF-8) fail in the database, and nesting deeper than
    MAX_DEPTH fails whatever walks it recursively. Walked without recursion."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return _("must not contain NUL (\\u0000) characters")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _("must be valid Unicode text (no lone surrogates such as \\ud800)")
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return _("nests arrays or objects too deeply (at most %(max)s levels)") % {"max": MAX_DEPTH}
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _no_nul(value):
    # PostgreSQL keeps no NUL character in text or JSON, and no text is a lone surrogate: refuse
    # them here, naming the field, instead of failing in the database.
    problem = _text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Database ids are 64-bit: a bigger number can name nothing (and some databases fail on it).
MAX_ID = 2**63 - 1
# Times are stored in UTC and printed in local time: keep a day's margin from datetime's limits.
MIN_YEAR, MAX_YEAR = 2, 9998


def _storable_time(value):
    """A naive time is local (as the site's forms take it); the result is aware, and within the
    years every conversion (UTC, local time) can represent."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        years = (value.astimezone(UTC).year, timezone.localtime(value).year)
    except (OverflowError, ValueError):
        years = (0,)
    if not all(MIN_YEAR <= year <= MAX_YEAR for year in years):
        raise ValueError(_("must be a time between the years %(min)s and %(max)s") % {"min": MIN_YEAR, "max": MAX_YEAR})
    return value


Moment = Annotated[datetime, AfterValidator(_storable_time)]


Text = Annotated[StrictStr, AfterValidator(_no_nul)]


def _printer_reference(value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("must be the printer's id (a number) or name (text)")
    return _no_nul(value)


# One error naming "printer" (a plain union would report one per member, as printer.int, printer.str).
PrinterReference = Annotated[
    int | str,
    PlainValidator(_printer_reference),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}], "description": "The printer's id or name."}),
]


class PrintJobIn(Strict):
    printer: PrinterReference
    document: Annotated[dict, AfterValidator(_no_nul)] | None = Field(
        None, description="A poster/ticket-daemon document (see /docs/poster)."
    )
    raw: StrictStr | None = Field(None, description="Base64 bytes sent to the printer untouched (at most 1 MiB).")
    raw_format: RawFormat | None = Field(None, description="What the raw bytes are; required with raw.")
    copies: StrictInt = Field(1, ge=1, le=5)
    priority: StrictInt = Field(5, ge=1, le=10, description="1 prints first.")
    title: Text = Field("", max_length=120)
    source: Text = Field("", max_length=120, description="Who asks, e.g. your app's name.")
    expire_after: StrictInt | None = Field(
        None, ge=1, le=7 * 24 * 3600, description="Seconds: not printed by then, the job fails as expired."
    )


class OrderItemIn(Strict):
    product: StrictInt | None = Field(None, ge=1, le=MAX_ID, description="A product id: its name and price are used.")
    name: Text | None = Field(None, min_length=1, max_length=120)
    quantity: StrictInt = Field(ge=MIN_QUANTITY, le=MAX_QUANTITY)
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)] | None = None


class OrderIn(Strict):
    external_id: Text | None = Field(
        None, min_length=1, max_length=100, description="Your id for the order: sending it again returns the first."
    )
    customer_name: Text = Field("", max_length=120)
    channel: Literal["counter", "scheduled"] = "counter"
    items: list[OrderItemIn] = Field(min_length=1, max_length=100)
    payment_method: Literal["", "cash", "card", "pix", "other"] = ""
    scheduled_for: Moment | None = Field(None, description="Pickup time, required for scheduled orders.")
    notes: Text = Field("", max_length=1000)
    confirm: StrictBool = Field(False, description="Confirm at once: the receipt prints like a counter sale.")


class PrinterRef(Schema):
    id: int
    name: str


class JobEventOut(Schema):
    status: str
    message: str
    at: datetime


class PrintJobOut(Schema):
    id: int
    status: str
    kind: str
    printer: PrinterRef
    order_id: int | None
    title: str
    source: str
    raw_format: str
    copies: int
    priority: int
    attempts: int
    max_retries: int
    error_code: str
    error_message: str
    created_at: datetime
    sent_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    url: str
    events: list[JobEventOut] | None = None


class PrintJobPage(Schema):
    items: list[PrintJobOut]
    next_cursor: str | None
    next: str | None


class PrinterOut(Schema):
    id: int
    name: str
    location: str
    paper_width: int
    is_active: bool
    connected: bool
    status: str
    status_label: str
    status_message: str
    queued: int
    last_seen_at: datetime | None


class OrderItemOut(Schema):
    product: int | None
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class ReceiptOut(Schema):
    id: int
    kind: str
    printer: PrinterRef
    status: str
    error_code: str
    error_message: str
    url: str


class OrderOut(Schema):
    id: int
    number: str
    external_id: str | None
    status: str
    channel: str
    customer_name: str
    payment_method: str
    scheduled_for: datetime | None
    notes: str
    total: Decimal
    items: list[OrderItemOut]
    receipts: list[ReceiptOut]
    created_at: datetime
    confirmed_at: datetime | None
    url: str


class FieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError]
