"""Kitchen tickets: what a kitchen or bar printer must prepare, as a print document.

Pure like ``printing.receipts``: plain data in, a canonical poster document out. Large item names
and quantities, the order number, pickup time and notes; never prices (the kitchen does not sell).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from printing.receipts import (
    PrinterSpec,
    _,
    _cut,
    _document,
    _feed,
    _field,
    _separator,
    _text,
    format_datetime,
    format_short_datetime,
)


@dataclass(frozen=True)
class KitchenItem:
    name: str
    quantity: int


@dataclass(frozen=True)
class KitchenOrder:
    number: str
    channel: str  # "counter" | "scheduled"
    customer_name: str
    created_at: datetime  # timezone-aware
    items: tuple[KitchenItem, ...]
    scheduled_for: datetime | None = None
    notes: str = ""


def kitchen_items(items, categories) -> tuple[KitchenItem, ...]:
    """The lines whose category is one of ``categories`` (case-insensitive): (name, quantity, category)."""
    wanted = {str(category).strip().casefold() for category in categories or () if str(category).strip()}
    return tuple(
        KitchenItem(name=name, quantity=quantity)
        for name, quantity, category in items
        if (category or "").strip().casefold() in wanted
    )


def kitchen_ticket(order: KitchenOrder, printer: PrinterSpec, *, station: str = "", job_id: int | None = None) -> dict:
    """One order's items for one kitchen station (``station``: the printer's name), in large print."""
    commands: list[dict] = [
        _text(_("COZINHA") if not station else station.upper(), align="center", bold=True, inverse=True, size="1x2"),
        _text(f"{_('PEDIDO')} #{order.number.lstrip('#')}", align="center", bold=True, size="2x2"),
        _separator("="),
    ]
    if order.channel == "scheduled" and order.scheduled_for is not None:
        commands.append(
            _field(
                _("Retirada"), format_short_datetime(order.scheduled_for), value_align="right", bold=True, size="1x2"
            )
        )
    else:
        commands.append(_field(_("Data"), format_datetime(order.created_at), value_align="right"))
    if order.customer_name.strip():
        commands.append(_field(_("Cliente"), order.customer_name, bold=True))
    commands.append(_separator())
    for item in order.items:
        commands.append(_text(f"{item.quantity}x {item.name}", bold=True, size="2x2"))
    if order.notes:
        commands.append(_separator())
        commands.append(_text(f"{_('Observações')}:", bold=True))
        commands.append(_text(order.notes, bold=True, size="1x2"))
    commands.append(_feed())
    if job_id is not None:
        commands.append(_text(_("Ref. %(job)s") % {"job": job_id}, align="right", font="B"))
    commands.append(_cut())
    return _document(printer, commands)
