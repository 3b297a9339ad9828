"""Day close ("Fechamento do dia"): the day's orders, money and receipts, on screen and on paper.

The figures are read here once (``day_close_report``); the page and the printed report show the
same plain data. "The day" comes from cantina.timeutils.day_bounds, like everywhere else.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q

from cantina.timeutils import day_bounds
from orders.models import Order
from printing.models import PrintJob
from printing.receipts import (
    PrinterSpec,
    _,
    _cut,
    _document,
    _field,
    _separator,
    _text,
    format_money,
)

SOLD = (Order.Status.CONFIRMED, Order.Status.READY, Order.Status.DELIVERED)


def day_close_report(day):
    """Plain data about ``day``: sold orders and totals by channel and by payment method,
    cancelled orders, and receipts printed / failed / reprinted."""
    start, end = day_bounds(day)
    orders = list(Order.objects.with_total().filter(created_at__gte=start, created_at__lt=end))
    sold = [order for order in orders if order.status in SOLD]
    by_channel, by_payment = {}, {}
    for order in sold:
        channel = str(order.get_channel_display())
        payment = str(order.get_payment_method_display()) if order.payment_method else _("Not paid yet")
        for table, key in ((by_channel, channel), (by_payment, payment)):
            count, total = table.get(key, (0, Decimal("0.00")))
            table[key] = (count + 1, total + order.total)
    cancelled = [order for order in orders if order.status == Order.Status.CANCELLED]
    jobs = PrintJob.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        printed=Count("pk", filter=Q(kind__in=["order_receipt", "kitchen_ticket"], status="completed")),
        failed=Count("pk", filter=Q(status="failed")),
        reprinted=Count("pk", filter=Q(kind="reprint")),
        waiting=Count("pk", filter=Q(status__in=PrintJob.QUEUED_STATUSES)),
    )
    return {
        "day": day,
        "orders": len(sold),
        "total": sum((order.total for order in sold), Decimal("0.00")),
        "by_channel": sorted(by_channel.items()),
        "by_payment": sorted(by_payment.items()),
        "cancelled": [(order.number, order.customer_name, order.total) for order in cancelled],
        "cancelled_total": sum((order.total for order in cancelled), Decimal("0.00")),
        "jobs": jobs,
    }


def day_close_document(report, printer: PrinterSpec, shop_name: str) -> dict:
    """The report as a print document (no ORM)."""
    commands = [
        _text(_("FECHAMENTO DO DIA"), align="center", bold=True, size="2x2"),
        _text(shop_name, align="center"),
        _text(report["day"].strftime("%d/%m/%Y"), align="center", bold=True),
        _separator("="),
        _field(_("Pedidos"), str(report["orders"]), value_align="right"),
        _field(_("TOTAL"), format_money(report["total"]), value_align="right", bold=True, size="1x2"),
        _separator(),
        _text(_("Por canal"), bold=True),
    ]
    for label, (count, total) in report["by_channel"]:
        commands.append(_field(f"{label} ({count})", format_money(total), value_align="right"))
    commands += [_separator(), _text(_("Por forma de pagamento"), bold=True)]
    for label, (count, total) in report["by_payment"]:
        commands.append(_field(f"{label} ({count})", format_money(total), value_align="right"))
    commands += [_separator(), _field(_("Cancelados"), str(len(report["cancelled"])), value_align="right")]
    for number, customer, total in report["cancelled"]:
        commands.append(_field(f"#{number} {customer}".strip(), format_money(total), value_align="right"))
    jobs = report["jobs"]
    commands += [
        _separator(),
        _field(_("Impressos"), str(jobs["printed"]), value_align="right"),
        _field(_("Falharam"), str(jobs["failed"]), value_align="right"),
        _field(_("Reimpressos"), str(jobs["reprinted"]), value_align="right"),
        _cut(),
    ]
    return _document(printer, commands)
