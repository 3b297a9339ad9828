"""Receipt glue: ORM rows → the pure renderer inputs of ``printing.receipts``.

The renderers (``printing.receipts``, ``printing.rendering``) know nothing of Django models;
this module is the one place that turns a printer, the shop settings and an order into their
plain dataclasses.
"""

from django.conf import settings
from django.utils import timezone

from orders.models import lines_total
from printing.receipts import PrinterSpec, ReceiptItem, ReceiptOrder, ShopInfo


def printer_spec(printer):
    return PrinterSpec(
        name=printer.name,
        paper_width=printer.paper_width,
        profile=printer.profile,
        has_cutter=printer.has_cutter,
        raster_only=printer.raster_only,
    )


def shop_info():
    return ShopInfo(
        name=settings.CANTINA_SHOP_NAME,
        address=settings.CANTINA_SHOP_ADDRESS,
        footer=settings.CANTINA_RECEIPT_FOOTER,
    )


def receipt_order(order, lines):
    """``order`` with its ``lines`` (``printing.statements.order_lines``)."""
    items = tuple(ReceiptItem(name=line.name, quantity=line.quantity, unit_price=line.unit_price) for line in lines)
    return ReceiptOrder(
        number=order.number,
        channel=order.channel,
        customer_name=order.customer_name,
        created_at=timezone.localtime(order.created_at),
        items=items,
        total=lines_total(lines),
        scheduled_for=timezone.localtime(order.scheduled_for) if order.scheduled_for else None,
        notes=order.notes,
        payment_method=order.get_payment_method_display() if order.payment_method else "",
        order_id=order.pk,
        amount_received=order.amount_received,
    )


def kitchen_order(order, lines, categories):
    """The order's ``lines`` of ``categories`` for a kitchen ticket (each line's product's category)."""
    from printing.kitchen import KitchenOrder, kitchen_items

    return KitchenOrder(
        number=order.number,
        channel=order.channel,
        customer_name=order.customer_name,
        created_at=timezone.localtime(order.created_at),
        items=kitchen_items([(line.name, line.quantity, line.category) for line in lines], categories),
        scheduled_for=timezone.localtime(order.scheduled_for) if order.scheduled_for else None,
        notes=order.notes,
    )
