"""``manage.py printer_token NAME``: issue a new agent token for a printer."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from printing import services
from printing.models import Printer


class Command(BaseCommand):
    help = "Issue a new agent token for a printer (the previous one stops working at once)."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        printer = Printer.objects.filter(name=name.strip()).first()
        if printer is None:
            known = ", ".join(Printer.objects.values_list("name", flat=True)[:20]) or "none yet"
            raise CommandError(f"No printer named {name!r}. Known printers: {known}.")
        if printer.is_cloud:
            from printing.cloud.services import cloud_printer_issue_secret

            with transaction.atomic():
                token = cloud_printer_issue_secret(printer=printer)
            self.stdout.write(
                f"New secret for {printer.name!r} (type it into the printer; the previous one no longer works):"
            )
            self.stdout.write(token)
            return
        with transaction.atomic():
            token = services.printer_issue_token(printer=printer)
        self.stdout.write(f"New agent token for {printer.name!r} (the previous one no longer works):")
        self.stdout.write(token)
