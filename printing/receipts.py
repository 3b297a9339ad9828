"""Receipts as print documents: plain data in, a document (dict, canonical poster dialect) out.

No ORM and no I/O: the caller turns its models into the frozen dataclasses below. Labels are
Portuguese message ids passed through gettext, so another language can be activated; money and
dates follow the active language (``R$ 1.234,50``, ``$1,234.50``, ``¥1,234.50``). Without Django
(the agent) the labels stay Portuguese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from printing.documents import validate_document
from printing.rendering import code_page_info, printer_geometry
from printing.rendering.layout import text_width


def _(message: str) -> str:
    """gettext when Django is set up; the (Portuguese) message itself otherwise."""
    try:
        from django.conf import settings

        if not settings.configured:
            return message
        from django.utils.translation import gettext

        return gettext(message)
    except ImportError:
        return message


def current_language() -> str:
    """The active Django language (the receipt's, inside translation.override), else pt-br."""
    try:
        from django.conf import settings

        if settings.configured:
            from django.utils.translation import get_language

            return (get_language() or settings.LANGUAGE_CODE).lower()
    except ImportError:
        pass
    return "pt-br"


def current_currency() -> str:
    """The shop's currency symbol (CANTINA_CURRENCY_SYMBOL), else R$ (no Django here)."""
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, "CANTINA_CURRENCY_SYMBOL", "R$")
    except ImportError:
        pass
    return "R$"


# Language -> (unused, thousands separator, decimal separator, date, date without year).
# Receipts speak one of these four (CANTINA_RECEIPT_LANGUAGE); others fall back to pt-br.
RECEIPT_LANGUAGES = ("pt-br", "en", "es", "zh-hans")
LOCALE_FORMATS = {
    "pt-br": ("R$ ", ".", ",", "%d/%m/%Y %H:%M", "%d/%m %H:%M"),
    "en": ("$", ",", ".", "%m/%d/%Y %H:%M", "%m/%d %H:%M"),
    "es": ("$", ",", ".", "%d/%m/%Y %H:%M", "%d/%m %H:%M"),
    "zh-hans": ("¥", ",", ".", "%Y-%m-%d %H:%M", "%m-%d %H:%M"),
}


def _locale(language: str | None) -> tuple[str, str, str, str, str]:
    language = (language or current_language()).lower().replace("_", "-")
    return LOCALE_FORMATS.get(language) or LOCALE_FORMATS.get(language.split("-")[0]) or LOCALE_FORMATS["pt-br"]


ACCENTS_SAMPLE = "Pão de queijo, coração, açaí, maçã — ç ã õ á é í ó ú â ê ô à"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PrinterSpec:
    name: str
    paper_width: int = 80  # 58 or 80 (mm)
    profile: str = ""  # python-escpos capability profile name; "" = default
    has_cutter: bool = True
    raster_only: bool = False  # print everything as raster images (no usable code pages)

    @property
    def columns(self) -> int:
        """Font A columns: 32 on 58 mm, 48 on 80 mm, or the profile's own count."""
        return printer_geometry(self).columns

    @property
    def dots(self) -> int:
        """Printable width in dots (384 on 58 mm, 576 on 80 mm, or the profile's)."""
        return printer_geometry(self).dots


@dataclass(frozen=True)
class ShopInfo:
    name: str
    address: str = ""
    footer: str = ""


@dataclass(frozen=True)
class ReceiptItem:
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ReceiptOrder:
    number: str
    channel: str  # "counter" | "scheduled"
    customer_name: str
    created_at: datetime  # timezone-aware
    items: tuple[ReceiptItem, ...]
    total: Decimal
    scheduled_for: datetime | None = None
    notes: str = ""
    payment_method: str = ""  # display label, already translated
    order_id: int | None = None
    amount_received: Decimal | None = None  # cash sales: handed over by the customer


def format_money(amount: Decimal, language: str | None = None, currency: str | None = None) -> str:
    """Money in the shop's currency with the language's separators: ``R$ 1.234,50`` (pt-br),
    ``R$ 1,234.50`` (en), ``¥1,234.50`` (zh-hans with CANTINA_CURRENCY_SYMBOL=¥); a symbol of
    several characters is followed by a space. Rounded half up to the cent, never through float."""
    _unused, thousands, decimal, _date, _short = _locale(language)
    symbol = current_currency() if currency is None else currency
    prefix = f"{symbol} " if len(symbol) > 1 else symbol
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    digits = f"{abs(value):,.2f}".replace(",", "_").replace(".", decimal).replace("_", thousands)
    return f"{'-' if value < 0 else ''}{prefix}{digits}"


def format_datetime(moment: datetime, language: str | None = None) -> str:
    """``dd/mm/yyyy HH:MM`` (pt-br, es), ``mm/dd/yyyy HH:MM`` (en), ``yyyy-mm-dd HH:MM`` (zh-hans),
    in the datetime's own timezone."""
    return moment.strftime(_locale(language)[3])


def format_short_datetime(moment: datetime, language: str | None = None) -> str:
    """Day and time without the year, for pick-up times."""
    return moment.strftime(_locale(language)[4])


# -- document building blocks --------------------------------------------------------------------


def _style(
    *, bold: bool = False, size: str = "1x1", inverse: bool = False, font: str = "A", underline: str = "0pt"
) -> dict:
    return {"bold": bold, "size": size, "underline": underline, "inverse": inverse, "font": font}


def _text(text: str, *, align: str = "left", **style) -> dict:
    return {
        "type": "text",
        "data": {
            "content": {"text": text, "align": align, "content_style": _style(**style)},
            "label": None,
            "new_line": True,
        },
    }


def _field(label: str, value: str, *, value_align: str = "left", **value_style) -> dict:
    """``Label: value``; with value_align="right" the value goes to the right edge."""
    return {
        "type": "text",
        "data": {
            "content": {"text": value, "align": value_align, "content_style": _style(**value_style)},
            "label": {"text": label, "label_style": _style(), "separator": ": ", "align": "left"},
            "new_line": True,
        },
    }


def _separator(char: str = "-") -> dict:
    return {"type": "separator", "data": {"char": char, "length": None}}


def _feed(lines: int = 1) -> dict:
    return {"type": "feed", "data": {"lines": lines}}


def _qr(data: str, pixel_width: int) -> dict:
    return {
        "type": "qr",
        "data": {"data": data, "human_text": "", "pixel_width": pixel_width, "correction": "M", "align": "center"},
    }


def _cut() -> dict:
    return {"type": "cut", "data": {"mode": "partial", "feed": 3}}


def _document(printer: PrinterSpec, commands: list[dict]) -> dict:
    document = {
        "version": "1.0",
        "profile": {"model": printer.profile or "default", "paper_width": printer.paper_width},
        "commands": commands,
    }
    return validate_document(document)  # canonical and checked: a builder bug fails here, not at print


def _items_table(items: tuple[ReceiptItem, ...], columns: int) -> dict:
    """Items as a table: quantity, name (wrapped), unit price and line total on 80 mm; on narrow
    paper the unit price moves to a second row under the name."""
    quantities = [f"{item.quantity}x" for item in items]
    units = [format_money(item.unit_price) for item in items]
    totals = [format_money(item.unit_price * item.quantity) for item in items]
    quantity_label, item_label, unit_label, total_label = _("Qtd"), _("Item"), _("Unit."), _("Total")
    # Columns on paper, not characters: a Chinese label takes two per character.
    quantity_width = max([text_width(quantity_label), *map(text_width, quantities)])
    total_width = max([text_width(total_label), *map(text_width, totals)])
    unit_width = max([text_width(unit_label), *map(text_width, units)])
    wide = columns - quantity_width - unit_width - total_width - 3 >= 16
    if wide:
        name_width = columns - quantity_width - unit_width - total_width - 3
        definition = [
            {"name": quantity_label, "width": quantity_width, "align": "right"},
            {"name": item_label, "width": name_width, "align": "left"},
            {"name": unit_label, "width": unit_width, "align": "right"},
            {"name": total_label, "width": total_width, "align": "right"},
        ]
        rows = [[q, item.name, u, t] for q, item, u, t in zip(quantities, items, units, totals, strict=True)]
    else:
        name_width = max(8, columns - quantity_width - total_width - 2)
        definition = [
            {"name": quantity_label, "width": quantity_width, "align": "right"},
            {"name": item_label, "width": name_width, "align": "left"},
            {"name": total_label, "width": total_width, "align": "right"},
        ]
        rows = []
        for quantity, item, unit, total in zip(quantities, items, units, totals, strict=True):
            rows.append([quantity, item.name, total])
            rows.append(["", _("un. %(price)s") % {"price": unit}, ""])
    return {
        "type": "table",
        "data": {
            "definition": {"columns": definition},
            "show_headers": True,
            "rows": rows,
            "options": {
                "header_bold": True,
                "word_wrap": True,
                "column_spacing": 1,
                "align": "left",
                "auto_reduce": True,
            },
        },
    }


def order_receipt(
    order: ReceiptOrder, printer: PrinterSpec, shop: ShopInfo, *, reprint: bool = False, job_id: int | None = None
) -> dict:
    """The receipt of one order, as a canonical document for ``printer``."""
    columns = printer.columns
    commands: list[dict] = []
    reprint_marker = _text(f"*** {_('REIMPRESSÃO')} ***", align="center", bold=True, inverse=True, size="1x2")
    if reprint:
        commands += [reprint_marker, _feed()]
    commands.append(_text(shop.name, align="center", bold=True, size="2x2"))
    if shop.address:
        commands.append(_text(shop.address, align="center"))
    commands.append(_separator("="))
    number = order.number if order.number.startswith("#") else f"#{order.number}"
    commands.append(_text(f"{_('PEDIDO')} {number}", align="center", bold=True, size="2x2"))
    commands.append(_separator("="))
    commands.append(_field(_("Data"), format_datetime(order.created_at), value_align="right"))
    if order.channel == "scheduled":
        commands.append(_field(_("Canal"), _("Agendado"), value_align="right"))
        if order.scheduled_for is not None:
            commands.append(
                _field(
                    _("Retirada"),
                    format_short_datetime(order.scheduled_for),
                    value_align="right",
                    bold=True,
                    size="1x2",
                )
            )
    else:
        commands.append(_field(_("Canal"), _("Balcão"), value_align="right"))
    if order.customer_name.strip():
        commands.append(_field(_("Cliente"), order.customer_name, bold=True))
    commands.append(_separator())
    if order.items:
        commands.append(_items_table(order.items, columns))
    else:
        commands.append(_text(_("(sem itens)"), align="center"))
    commands.append(_separator())
    commands.append(_field(_("TOTAL"), format_money(order.total), value_align="right", bold=True, size="1x2"))
    if order.payment_method:
        commands.append(_field(_("Pagamento"), order.payment_method, value_align="right"))
        if order.amount_received is not None:
            commands.append(_field(_("Recebido"), format_money(order.amount_received), value_align="right"))
            commands.append(
                _field(_("Troco"), format_money(order.amount_received - order.total), value_align="right", bold=True)
            )
    elif order.channel == "scheduled":
        # The counter must know the money is still due when the customer comes.
        commands.append(_field(_("Pagamento"), _("a pagar na retirada"), value_align="right", bold=True))
    if order.notes:
        commands.append(_separator())
        commands.append(_text(f"{_('Observações')}:", bold=True))
        commands.append(_text(order.notes))
    commands.append(_feed())
    commands.append(_qr(order.number, pixel_width=160 if columns < 40 else 200))
    if shop.footer:
        commands.append(_text(shop.footer, align="center"))
    if reprint:
        commands += [_feed(), reprint_marker]
    if job_id is not None:
        commands.append(_text(_("Ref. %(job)s") % {"job": job_id}, align="right", font="B"))
    commands.append(_cut())
    return _document(printer, commands)


def test_page(printer: PrinterSpec, shop: ShopInfo, *, now: datetime) -> dict:
    """A page to check a printer: geometry, profile, code page, accents, styles, a QR and a cut."""
    shape = printer_geometry(printer)
    code_page, code_page_number = code_page_info(printer)
    yes, no = _("sim"), _("não")
    ruler = "".join(str(number % 10) for number in range(1, shape.columns + 1))
    commands = [
        _text(_("PÁGINA DE TESTE"), align="center", bold=True, size="2x2"),
        _text(printer.name, align="center", bold=True),
        _separator("="),
        _field(_("Impressora"), printer.name, value_align="right"),
        _field(
            _("Papel"),
            _("%(width)s mm, %(columns)s colunas (fonte B: %(columns_b)s)")
            % {"width": printer.paper_width, "columns": shape.columns, "columns_b": shape.columns_b},
        ),
        _field(_("Perfil"), printer.profile or _("padrão"), value_align="right"),
        _field(_("Guilhotina"), yes if printer.has_cutter else no, value_align="right"),
        _field(_("Página de código"), f"{code_page} (ESC t {code_page_number})", value_align="right"),
        _field(_("Chinês (GB18030)"), yes if shape.chinese else no, value_align="right"),
        _field(_("Data"), format_datetime(now), value_align="right"),
        _separator(),
        _text(ruler),
        _text(_("Acentos:"), bold=True),
        _text(ACCENTS_SAMPLE),
        _text(ACCENTS_SAMPLE.upper()),
        _separator(),
        _text(_("Negrito"), bold=True),
        _text(_("Sublinhado"), underline="1pt"),
        _text(_("Invertido"), inverse=True),
        _text(_("Fonte B: texto menor, mais colunas"), font="B"),
        _text(_("Grande"), size="2x2"),
        _separator(),
        _qr(f"{shop.name} / {printer.name}", pixel_width=160),
        _text(shop.name, align="center"),
        _cut(),
    ]
    return _document(printer, commands)
