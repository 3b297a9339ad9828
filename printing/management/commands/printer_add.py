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
        parser.add_argument(
            "--kitchen-categories", default="",
            help='comma-separated product categories, e.g. "Lanches,Bebidas": the printer prints kitchen '
                 "tickets of those items (no prices) instead of customer receipts for its auto-print channels",
        )
        parser.add_argument("--has-drawer", action="store_true", help="a cash drawer is plugged into it")

    def handle(self, *args, name, paper_width, no_cutter, auto_print, profile, location, copies,
               kitchen_categories="", has_drawer=False, **options):
        name = name.strip()
        if not name:
            raise CommandError("The printer name must not be empty.")
        channels = [] if auto_print.strip().lower() == "none" else normalize_channels(auto_print)
        unknown = set(channels) - set(Order.Channel.values)
        if unknown:
            raise CommandError(
                f"Unknown channel {', '.join(sorted(unknown))}: use counter, scheduled, both comma-separated, or none."
            )
        categories = [category.strip() for category in kitchen_categories.split(",") if category.strip()]
        if kitchen_categories.strip() and not categories:
            raise CommandError('--kitchen-categories needs category names, e.g. --kitchen-categories "Lanches,Bebidas".')
        if categories and has_drawer:
            raise CommandError("A kitchen printer never opens the cash drawer: drop --has-drawer or --kitchen-categories.")
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
                profile=profile, location=location, copies=copies, has_drawer=has_drawer,
                kitchen_categories=categories, kitchen_channels=channels if categories else [],
            )
            token = services.printer_issue_token(printer=printer)
        self.stdout.write(
            f"Printer {printer.name!r} added (id {printer.pk}, {paper_width} mm, "
            f"auto-print: {', '.join(channels) or 'none'}"
            + (f"; kitchen tickets of {', '.join(categories)}" if categories else "")
            + (", cash drawer" if has_drawer else "")
            + "). Its agent token (shown only once):"
        )
        self.stdout.write(token)
