"""Signal receivers: they only hand off to services, after the transaction commits."""

from functools import partial

from django.db import transaction

from printing import notify, services


def order_saved(sender, instance, **kwargs):
    order_id, status, data = instance.pk, instance.status, _order_data(instance)
    if status == instance.Status.CONFIRMED:
        # Robust: the order is confirmed whatever happens here. If queuing its receipts fails (the
        # database restarting right after the commit), the request must not answer "nothing was
        # saved"; the error is logged and services.jobs_create_missing() queues them shortly.
        # (A function, not a partial: Django's robust on_commit logs the callback's __qualname__.)
        def queue_receipts():
            services.jobs_create_for_order(order_id=order_id)

        transaction.on_commit(queue_receipts, robust=True)
    elif status == instance.Status.CANCELLED:
        # Not robust: a cancel whose queued receipts could not be cancelled must say so.
        transaction.on_commit(partial(services.jobs_cancel_for_order, order_id=order_id))

    # Every change of an order (confirm, ready, delivered, cancel, edit) reaches the other tablets.
    def order_updated():
        notify.staff_order_updated(data)

    transaction.on_commit(order_updated, robust=True)


def _order_data(order):
    return {
        "id": order.pk,
        "number": order.number,
        "channel": order.channel,
        "status": order.status,
    }
