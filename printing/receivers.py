"""Signal receivers: they only hand off to services, after the transaction commits."""

from functools import partial

from django.db import transaction

from printing import notify, services


def order_saved(sender, instance, **kwargs):
    transaction.on_commit(partial(_order_committed, instance.pk, instance.status, _order_data(instance)))


def _order_committed(order_id, status, data):
    from orders.models import Order

    if status == Order.Status.CONFIRMED:
        services.jobs_create_for_order(order_id=order_id)
    elif status == Order.Status.CANCELLED:
        services.jobs_cancel_for_order(order_id=order_id)
    # Every change of an order (confirm, ready, delivered, cancel, edit) reaches the other tablets.
    notify.staff_order_updated(data)


def _order_data(order):
    return {
        "id": order.pk,
        "number": order.number,
        "channel": order.channel,
        "status": order.status,
    }
