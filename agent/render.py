"""Local clients' documents and orders → ESC/POS bytes, with the server's own pure renderers.

``printing.documents``, ``printing.rendering`` and ``printing.receipts`` are pure: no ORM, and
Django is optional (labels go through gettext once Django is set up; without it they are the
Portuguese message ids). So the agent prints a ticket-daemon document or a Cantina Virtual order
exactly as the server would, with only the agent's dependencies installed. This module is the one
place the agent imports them; ``pyproject.toml`` ships exactly those modules with the agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from printing.documents import DocumentError, validate_document
from printing.receipts import (
    PrinterSpec,
    ReceiptItem,
    ReceiptOrder,
    ShopInfo,
    order_receipt,
)
from printing.rendering import render_escpos, render_text

__all__ = ["DocumentError", "OrderError", "PrinterSpec", "Rendered", "is_order", "render_document", "render_order"]

MAX_ITEMS = 200
MAX_QUANTITY = 999
CENT = Decimal("0.01")

# Field spellings accepted in an order (English, then the Portuguese a Cantina Virtual page may use).
NUMBER_KEYS = ("number", "numero", "número", "pedido", "order_number", "id")
CUSTOMER_KEYS = ("customer", "customer_name", "cliente", "nome_cliente", "aluno", "nome")
CHANNEL_KEYS = ("channel", "canal", "tipo_pedido", "origem")
ITEMS_KEYS = ("items", "itens", "produtos")
ITEM_NAME_KEYS = ("name", "nome", "produto", "descricao", "descrição", "description")
QUANTITY_KEYS = ("quantity", "quantidade", "qtd", "qty")
PRICE_KEYS = ("price", "unit_price", "preco", "preço", "preco_unitario", "valor_unitario", "valor")
TOTAL_KEYS = ("total", "valor_total", "total_amount")
PAYMENT_KEYS = ("payment_method", "payment", "pagamento", "forma_pagamento")
NOTES_KEYS = ("notes", "observacoes", "observações", "obs")
SCHEDULED_KEYS = ("scheduled_for", "retirada", "agendado_para", "pickup_time")
CHANNELS = {
    "counter": "counter",
    "balcao": "counter",
    "balcão": "counter",
    "presencial": "counter",
    "scheduled": "scheduled",
    "agendado": "scheduled",
    "agendamento": "scheduled",
    "online": "scheduled",
}


class OrderError(ValueError):
    """An order that cannot be printed; ``str()`` says which field and why (in Portuguese)."""


@dataclass(frozen=True)
class Rendered:
    data: bytes  # ESC/POS for every copy
    text: str  # plain text of one copy (what staff see in the server's history)
    label: str  # short description for logs and replies, e.g. "pedido #42"


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in data and data[key] not in (None, ""):
            return data[key]
    return None


def is_order(message: dict[str, Any]) -> bool:
    """A Cantina Virtual order: an object with a list of items (or one wrapped in "order"/"pedido")."""
    inner = _unwrap(message)
    return isinstance(inner, dict) and isinstance(_first(inner, ITEMS_KEYS), list)


def _unwrap(message: dict[str, Any]) -> Any:
    for key in ("order", "pedido"):
        if isinstance(message.get(key), dict):
            return message[key]
    return message


def _money(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise OrderError(f'"{field}" deve ser um valor em reais, recebido {value!r}')
    text = str(value).strip().replace("R$", "").strip()
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d{1,2}", text) or re.fullmatch(r"-?\d+,\d{1,2}", text):
        text = text.replace(".", "").replace(",", ".")  # 1.234,50 → 1234.50
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise OrderError(f'"{field}" deve ser um valor em reais, recebido {value!r}') from None
    if not amount.is_finite() or amount < 0 or amount > Decimal(1_000_000):
        raise OrderError(f'"{field}" fora do intervalo: {value!r}')
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Any, field: str, max_length: int = 200) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise OrderError(f'"{field}" deve ser um texto')
    return value.strip()[:max_length]


def _moment(value: Any, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise OrderError(f'"{field}" deve ser uma data ISO 8601, p. ex. 2026-11-29T12:30:00-03:00') from None
    return moment if moment.tzinfo else moment.astimezone()


def parse_order(message: dict[str, Any], *, now: datetime | None = None) -> ReceiptOrder:
    """A Cantina Virtual order (see agent/README.md, "Cantina Virtual") → receipt data."""
    order = _unwrap(message)
    raw_items = _first(order, ITEMS_KEYS)
    if not isinstance(raw_items, list) or not raw_items:
        raise OrderError('o pedido precisa de "items": uma lista com pelo menos um item')
    if len(raw_items) > MAX_ITEMS:
        raise OrderError(f"o pedido tem {len(raw_items)} itens; no máximo {MAX_ITEMS}")
    items = []
    for index, raw in enumerate(raw_items):
        where = f"items[{index}]"
        if not isinstance(raw, dict):
            raise OrderError(f'"{where}" deve ser um objeto com nome, quantidade e preço')
        name = _first(raw, ITEM_NAME_KEYS)
        if name is None:
            raise OrderError(f'"{where}.name" é obrigatório')
        quantity = _first(raw, QUANTITY_KEYS)
        quantity = 1 if quantity is None else quantity
        if isinstance(quantity, str) and quantity.strip().isdigit():
            quantity = int(quantity)
        if isinstance(quantity, float) and quantity.is_integer():
            quantity = int(quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise OrderError(f'"{where}.quantity" deve ser um número inteiro de 1 a {MAX_QUANTITY}')
        price = _first(raw, PRICE_KEYS)
        if price is None:
            raise OrderError(f'"{where}.price" é obrigatório (preço unitário)')
        items.append(
            ReceiptItem(
                name=_text(name, f"{where}.name", 120), quantity=quantity, unit_price=_money(price, f"{where}.price")
            )
        )
    total = sum((item.unit_price * item.quantity for item in items), Decimal("0.00"))
    given_total = _first(order, TOTAL_KEYS)
    if given_total is not None and _money(given_total, "total") != total:
        raise OrderError(
            f'"total" {_money(given_total, "total")} não confere com a soma dos itens ({total}); nada foi impresso'
        )
    customer = _first(order, CUSTOMER_KEYS)
    if isinstance(customer, dict):
        customer = _first(customer, ("name", "nome"))
    channel_value = _first(order, CHANNEL_KEYS) or "counter"
    channel = CHANNELS.get(str(channel_value).strip().lower())
    if channel is None:
        raise OrderError(f'"channel" deve ser "counter" (balcão) ou "scheduled" (agendado), recebido {channel_value!r}')
    scheduled = _first(order, SCHEDULED_KEYS)
    number = _first(order, NUMBER_KEYS)
    created = _first(order, ("created_at", "data", "date"))
    return ReceiptOrder(
        number=_text(number, "number", 20) if number is not None else "-",
        channel=channel,
        customer_name=_text(customer, "customer", 120) if customer is not None else "",
        created_at=_moment(created, "created_at") if created else (now or datetime.now().astimezone()),
        items=tuple(items),
        total=total,
        scheduled_for=_moment(scheduled, "scheduled_for") if scheduled else None,
        notes=_text(_first(order, NOTES_KEYS) or "", "notes", 500),
        payment_method=_text(_first(order, PAYMENT_KEYS) or "", "payment_method", 40),
    )


def render_order(message: dict[str, Any], printer: PrinterSpec, *, shop_name: str | None = None) -> Rendered:
    """The canteen receipt for a Cantina Virtual order (raises OrderError)."""
    order = parse_order(message)
    inner = _unwrap(message)
    shop = ShopInfo(name=shop_name or _text(_first(inner, ("shop", "cantina", "loja")) or "Cantina", "shop", 60))
    document = order_receipt(order, printer, shop)
    number = order.number if order.number.startswith("#") else f"#{order.number}"
    return Rendered(render_escpos(document, printer), render_text(document, printer), f"pedido {number}")


def render_document(document: Any, printer: PrinterSpec) -> Rendered:
    """A poster/ticket-daemon document (raises DocumentError). Its own ``profile.paper_width``
    wins over the printer's, as in ticket-daemon."""
    canonical = validate_document(document)
    width = canonical["profile"].get("paper_width")
    if width and width != printer.paper_width:
        printer = PrinterSpec(
            name=printer.name, paper_width=width, profile=printer.profile, has_cutter=printer.has_cutter
        )
    return Rendered(render_escpos(canonical, printer), render_text(canonical, printer), "documento")
