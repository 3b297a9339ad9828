"""Signal receivers: they only hand off to services, after the transaction commits."""

from functools import partial

from django.db import transaction

from printing import services


def order_saved(sender, instance, **kwargs):
    if instance.status == instance.Status.CONFIRMED:
        transaction.on_commit(partial(services.jobs_create_for_order, order_id=instance.pk))
    elif instance.status == instance.Status.CANCELLED:
        transaction.on_commit(partial(services.jobs_cancel_for_order, order_id=instance.pk))
