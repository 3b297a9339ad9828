from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Print API")

    def ready(self):
        # Registered here because this app wires printing to webhooks: the webhooks app knows
        # nothing of printing, and printing's maintenance runs in every server process.
        from functools import partial

        from django.conf import settings

        from api.idempotency import records_purge
        from printing.maintenance import Task, register
        from webhooks.services import events_purge, webhooks_deliver_due

        # One pass spends at most about one receiver timeout, so the other tasks never wait long.
        register(
            Task("webhooks_deliver", partial(webhooks_deliver_due, budget_seconds=settings.CANTINA_WEBHOOK_TIMEOUT))
        )
        register(Task("webhook_events_purge", events_purge, every_seconds=3600))
        register(Task("idempotency_records_purge", records_purge, every_seconds=3600))
