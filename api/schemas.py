"""Request and response shapes of the print API (the OpenAPI document is generated from these)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

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


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _no_nul(value):
    # PostgreSQL keeps no NUL character in text or JSON: refuse it here, naming the field,
    # instead of failing in the database.
    if _has_nul(value):
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


Text = Annotated[StrictStr, AfterValidator(_no_nul)]


def _printer_reference(value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("must be the printer's id (a number) or name (text)")
    return value


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
    product: StrictInt | None = Field(None, description="A product id: its name and price are used.")
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
    scheduled_for: datetime | None = Field(None, description="Pickup time, required for scheduled orders.")
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
