"""Signal receivers: they only hand off to services, after the transaction commits."""

from functools import partial

from django.db import transaction

from printing import services


def order_saved(sender, instance, **kwargs):
    if instance.status == instance.Status.CONFIRMED:
        # Robust: the order is confirmed whatever happens here. If queuing its receipts fails (the
        # database restarting right after the commit), the request must not answer "nothing was
        # saved"; the error is logged and services.jobs_create_missing() queues them shortly.
        # (A function, not a partial: Django's robust on_commit logs the callback's __qualname__.)
        order_id = instance.pk

        def queue_receipts():
            services.jobs_create_for_order(order_id=order_id)

        transaction.on_commit(queue_receipts, robust=True)
    elif instance.status == instance.Status.CANCELLED:
        transaction.on_commit(partial(services.jobs_cancel_for_order, order_id=instance.pk))
