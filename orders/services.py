"""Order workflows: creating orders and moving them through their states.

Views (and anything else that sells) call these functions. Confirming an order is saving it with
status ``confirmed``: the ``post_save`` receiver in ``printing`` then queues its receipts after
the transaction commits. This module never imports ``printing`` (printing knows orders, not the
other way round).

Each transition locks the order row and checks its current state, so two attendants tapping
"confirm" on the same order at the same moment confirm it once and the second gets a clear message.
"""

import logging
from collections import OrderedDict
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils.translation import gettext as _

from cantina.delivery_first import wait_for_delivery
from orders.models import MAX_QUANTITY, MIN_QUANTITY, Order, OrderItem, Product
from orders.staff import username

log = logging.getLogger("cantina.orders")

Status = Order.Status


class OrderError(Exception):
    """A request that cannot be carried out; ``str()`` is a message for a person."""

    def __init__(self, message, code="invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def order_create(
    *,
    channel,
    items,
    customer_name="",
    payment_method="",
    scheduled_for=None,
    notes="",
    confirm=False,
    created_by=None,
    amount_received=None,
    lines=(),
):
    """Create an order from ``items`` — (product_id, quantity) pairs — and return it.

    ``lines`` adds items that are not products, as (name, quantity, unit_price) triples (an
    online shop's own catalogue); each must have a name, a quantity within 1..99 and a price ≥ 0.

    Products must exist and be active; each line's quantity must be within 1..99 (lines of the
    same product are added together first). Names and prices are copied onto the items, so the
    receipt shows what was sold even if the product changes later. With ``confirm=True`` the
    order is confirmed in the same transaction, so its receipts print once it commits.
    ``amount_received`` (cash only, Decimal or its text) must cover the total; the receipt shows
    it and the change.
    """
    if channel not in Order.Channel.values:
        raise OrderError(_("Unknown channel: %(channel)s") % {"channel": channel}, "bad_channel")
    if payment_method and payment_method not in Order.PaymentMethod.values:
        raise OrderError(_("Unknown payment method: %(method)s") % {"method": payment_method}, "bad_payment")
    if channel == Order.Channel.SCHEDULED and scheduled_for is None:
        raise OrderError(_("A scheduled order needs a pickup time."), "no_pickup_time")
    lines = [_custom_line(*line) for line in lines or ()]
    quantities = _merge_lines(items, allow_empty=bool(lines))
    products = Product.objects.in_bulk(list(quantities))
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        if product is None:
            raise OrderError(_("Product #%(id)s does not exist.") % {"id": product_id}, "unknown_product")
        if not product.is_active:
            raise OrderError(
                _("“%(name)s” is no longer for sale: remove it from the order.") % {"name": product.name},
                "inactive_product",
            )
        if product.sold_out:
            raise OrderError(
                _("“%(name)s” is sold out: remove it from the order.") % {"name": product.name},
                "sold_out",
            )
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise OrderError(
                _("The quantity of “%(name)s” must be between %(min)s and %(max)s.")
                % {"name": product.name, "min": MIN_QUANTITY, "max": MAX_QUANTITY},
                "bad_quantity",
            )
    received = _amount_received(
        amount_received,
        payment_method=payment_method,
        total=sum((products[pk].price * quantity for pk, quantity in quantities.items()), Decimal("0.00"))
        + sum((Decimal(unit_price) * quantity for _name, quantity, unit_price in lines), Decimal("0.00")),
    )

    if confirm:
        wait_for_delivery(connection)  # under overload, earlier receipts first (cantina.delivery_first)
    with transaction.atomic():
        order = Order.objects.create(
            channel=channel,
            status=Status.PENDING,
            customer_name=customer_name.strip(),
            payment_method=payment_method,
            scheduled_for=scheduled_for,
            notes=notes.strip(),
            amount_received=received,
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                product=products[product_id],
                name=products[product_id].name,
                quantity=quantity,
                unit_price=products[product_id].price,
            )
            for product_id, quantity in quantities.items()
        )
        OrderItem.objects.bulk_create(
            OrderItem(order=order, name=name, quantity=quantity, unit_price=unit_price)
            for name, quantity, unit_price in lines
        )
        if confirm:
            # Saved with its items already in place: the receipt is built after commit.
            order.status = Status.CONFIRMED
            order.save(update_fields=["status"])
    log.info(
        "order=%s number=%s channel=%s status=%s lines=%s by=%s",
        order.pk,
        order.number,
        channel,
        order.status,
        len(quantities) + len(lines),
        username(created_by) or "-",
    )
    return order


def _amount_received(value, *, payment_method, total):
    """The cash handed over, as Decimal cents, or None; refuses less than the total."""
    if value in (None, ""):
        return None
    if payment_method != Order.PaymentMethod.CASH:
        raise OrderError(_("An amount received is only recorded for cash payments."), "received_not_cash")
    try:
        received = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise OrderError(
            _("The amount received is not a number: %(value)s") % {"value": value}, "bad_received"
        ) from None
    if not received.is_finite() or received < 0 or received >= Decimal("100000000"):
        raise OrderError(_("The amount received is not a number: %(value)s") % {"value": value}, "bad_received")
    received = received.quantize(Decimal("0.01"))
    if received < total:
        raise OrderError(
            _("The amount received (%(received)s) is less than the total (%(total)s).")
            % {"received": received, "total": total.quantize(Decimal("0.01"))},
            "received_too_little",
        )
    return received


def product_set_sold_out(*, product_id, sold_out, user=None):
    """Mark a product sold out (hidden from the counter, refused in new orders) or back on sale."""
    updated = Product.objects.filter(pk=product_id).update(sold_out=bool(sold_out))
    if not updated:
        raise OrderError(_("Product #%(id)s does not exist.") % {"id": product_id}, "unknown_product")
    product = Product.objects.get(pk=product_id)
    log.info("product=%s sold_out=%s by=%s", product.pk, product.sold_out, username(user) or "-")
    return product


def order_edit(*, order_id, items=None, scheduled_for=None, notes=None, user=None):
    """Change a pending order's items, pickup time or notes (None leaves a field as it is).

    Only pending orders change: a confirmed order's receipt is already printed.
    """
    quantities = _merge_lines(items) if items is not None else None
    products = Product.objects.in_bulk(list(quantities)) if quantities else {}
    for product_id, quantity in (quantities or {}).items():
        product = products.get(product_id)
        if product is None:
            raise OrderError(_("Product #%(id)s does not exist.") % {"id": product_id}, "unknown_product")
        if not product.is_active or product.sold_out:
            raise OrderError(
                _("“%(name)s” is sold out: remove it from the order.") % {"name": product.name}, "sold_out"
            )
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise OrderError(
                _("The quantity of “%(name)s” must be between %(min)s and %(max)s.")
                % {"name": product.name, "min": MIN_QUANTITY, "max": MAX_QUANTITY},
                "bad_quantity",
            )
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise OrderError(_("Order not found."), "not_found")
        if order.status != Status.PENDING:
            raise OrderError(
                _("Order %(number)s is already confirmed: its items cannot change.") % {"number": order.number},
                "not_editable",
            )
        fields = []
        if scheduled_for is not None:
            order.scheduled_for = scheduled_for
            fields.append("scheduled_for")
        if notes is not None:
            order.notes = notes.strip()
            fields.append("notes")
        if quantities is not None:
            order.items.all().delete()
            OrderItem.objects.bulk_create(
                OrderItem(
                    order=order,
                    product=products[pk],
                    name=products[pk].name,
                    quantity=quantity,
                    unit_price=products[pk].price,
                )
                for pk, quantity in quantities.items()
            )
        # Saved even when only items changed: post_save tells the other tablets.
        order.save(update_fields=fields or ["status"])
    log.info(
        "order=%s event=edited fields=%s by=%s",
        order.pk,
        ",".join(fields + (["items"] if items else [])),
        username(user) or "-",
    )
    return order


def _merge_lines(items, allow_empty=False):
    quantities = OrderedDict()
    for product_id, quantity in items or ():
        quantities[int(product_id)] = quantities.get(int(product_id), 0) + int(quantity)
    if not quantities and not allow_empty:
        raise OrderError(_("The order is empty: add at least one product."), "empty")
    return quantities


def _custom_line(name, quantity, unit_price):
    name = (name or "").strip()
    if not name:
        raise OrderError(_("Every item needs a name."), "no_name")
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise OrderError(
            _("The quantity of “%(name)s” must be between %(min)s and %(max)s.")
            % {"name": name, "min": MIN_QUANTITY, "max": MAX_QUANTITY},
            "bad_quantity",
        )
    unit_price = Decimal(unit_price)
    if unit_price < 0:
        raise OrderError(_("The price of “%(name)s” cannot be negative.") % {"name": name}, "bad_price")
    return name[:120], quantity, unit_price.quantize(Decimal("0.01"))


def order_confirm(*, order_id, user=None):
    """pending → confirmed; its receipts print once the transaction commits.

    Under overload, the receipts of orders already confirmed are delivered first (a short wait
    here, see ``cantina.delivery_first``).
    """
    wait_for_delivery(connection)
    return _transition(order_id, action="confirm", target=Status.CONFIRMED, user=user)


def order_mark_ready(*, order_id, user=None):
    """confirmed → ready (the food is waiting at the counter)."""
    return _transition(order_id, action="ready", target=Status.READY, user=user)


def order_mark_delivered(*, order_id, user=None):
    """confirmed or ready → delivered."""
    return _transition(order_id, action="delivered", target=Status.DELIVERED, user=user)


def order_cancel(*, order_id, user=None):
    """Any order not yet delivered → cancelled."""
    return _transition(order_id, action="cancel", target=Status.CANCELLED, user=user)


def _transition(order_id, *, action, target, user):
    """Move the order to ``target`` if ``action`` is among its ``allowed_actions()``."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).order_by().first()
        if order is None:
            raise OrderError(_("Order not found."), "not_found")
        if action not in order.allowed_actions():
            raise OrderError(_refusal(order, target), "bad_transition")
        previous = order.status
        order.status = target
        # save(), not update(): confirming must send post_save so the receipt prints.
        order.save(update_fields=["status"])
    log.info("order=%s status=%s (was %s) by=%s", order.pk, target, previous, username(user) or "-")
    return order


def _refusal(order, target):
    number = order.number
    if order.status == target:
        return {
            Status.CONFIRMED: _("Order %(number)s is already confirmed."),
            Status.READY: _("Order %(number)s is already marked ready."),
            Status.DELIVERED: _("Order %(number)s has already been delivered."),
            Status.CANCELLED: _("Order %(number)s is already cancelled."),
        }[target] % {"number": number}
    if order.status == Status.CANCELLED:
        return _("Order %(number)s is cancelled: it cannot change any more.") % {"number": number}
    if order.status == Status.DELIVERED:
        return _("Order %(number)s has already been delivered: it cannot change any more.") % {"number": number}
    if order.status == Status.PENDING:
        return _("Order %(number)s is not confirmed yet: confirm it first.") % {"number": number}
    return _("Order %(number)s is %(status)s: it cannot be marked %(target)s.") % {
        "number": number,
        "status": str(order.get_status_display()).lower(),
        "target": str(Status(target).label).lower(),
    }
