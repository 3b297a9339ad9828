"""``manage.py printer_add NAME [...]``: add a printer and print its agent token."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orders.models import Order
from printing import services
from printing.models import Printer, normalize_channels


class Command(BaseCommand):
    help = "Add a printer and print its agent token (alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--paper-width", type=int, choices=[58, 80], default=80)
        parser.add_argument("--no-cutter", action="store_true", help="the printer has no paper cutter")
        parser.add_argument(
            "--auto-print", default="counter,scheduled",
            help="comma-separated order channels this printer prints by itself (counter, scheduled), or 'none'",
        )
        parser.add_argument("--profile", default="", help="python-escpos printer profile, e.g. TM-T20II")
        parser.add_argument("--location", default="")
        parser.add_argument("--copies", type=int, default=1)

    def handle(self, *args, name, paper_width, no_cutter, auto_print, profile, location, copies, **options):
        name = name.strip()
        if not name:
            raise CommandError("The printer name must not be empty.")
        channels = [] if auto_print.strip().lower() == "none" else normalize_channels(auto_print)
        unknown = set(channels) - set(Order.Channel.values)
        if unknown:
            raise CommandError(
                f"Unknown channel {', '.join(sorted(unknown))}: use counter, scheduled, both comma-separated, or none."
            )
        if not 1 <= copies <= 5:
            raise CommandError("--copies must be between 1 and 5.")
        if profile:
            from escpos.capabilities import get_profile

            try:
                get_profile(profile)
            except Exception:
                raise CommandError(
                    f"Unknown printer profile {profile!r}. See python-escpos's capabilities list, e.g. TM-T20II."
                ) from None
        if Printer.objects.filter(name=name).exists():
            raise CommandError(f"A printer named {name!r} already exists; use printer_token to get a new token.")
        with transaction.atomic():
            printer = Printer.objects.create(
                name=name, paper_width=paper_width, has_cutter=not no_cutter, auto_print=channels,
                profile=profile, location=location, copies=copies,
            )
            token = services.printer_issue_token(printer=printer)
        self.stdout.write(
            f"Printer {printer.name!r} added (id {printer.pk}, {paper_width} mm, "
            f"auto-print: {', '.join(channels) or 'none'}). Its agent token (shown only once):"
        )
        self.stdout.write(token)
