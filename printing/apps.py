"""The printing app: connects the order receiver and registers the system checks."""

from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PrintingConfig(AppConfig):
    name = "printing"
    verbose_name = pgettext_lazy("app", "Printers and print jobs")

    def ready(self):
        from django.db.models.signals import post_save

        from orders.models import Order
        from printing import checks  # noqa: F401  (registers system checks)
        from printing.receivers import order_saved

        post_save.connect(order_saved, sender=Order, dispatch_uid="printing.order_saved")
