"""``manage.py printer_add NAME [...]``: add a printer and print its agent token (or a cloud printer's secret)."""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orders.models import Order
from printing import services
from printing.models import (
    DEVICE_ID_PATTERN,
    Printer,
    normalize_channels,
    normalize_mac,
)


class Command(BaseCommand):
    help = "Add a printer and print its agent token (alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--paper-width", type=int, choices=[58, 80], default=80)
        parser.add_argument("--no-cutter", action="store_true", help="the printer has no paper cutter")
        parser.add_argument(
            "--auto-print",
            default="counter,scheduled",
            help="comma-separated order channels this printer prints by itself (counter, scheduled), or 'none'",
        )
        parser.add_argument("--profile", default="", help="python-escpos printer profile, e.g. TM-T20II")
        parser.add_argument("--location", default="")
        parser.add_argument("--copies", type=int, default=1)
        parser.add_argument(
            "--transport",
            choices=Printer.Transport.values,
            default=Printer.Transport.AGENT,
            help="agent (default), cloudprnt (Star CloudPRNT) or epson_sdp (Epson Server Direct Print)",
        )
        parser.add_argument("--mac", default="", help="CloudPRNT: the printer's MAC address, e.g. 00:11:62:AA:BB:CC")
        parser.add_argument(
            "--device-id", default="", help="Epson SDP: the ID typed into the printer (up to 30 of A-Z a-z 0-9 _ . -)"
        )
        parser.add_argument(
            "--poll-interval", type=int, default=5, help="cloud printers: seconds between polls (default 5)"
        )
        parser.add_argument(
            "--kitchen-categories",
            default="",
            help='comma-separated product categories, e.g. "Lanches,Bebidas": the printer prints kitchen '
            "tickets of those items (no prices) instead of customer receipts for its auto-print channels",
        )
        parser.add_argument("--has-drawer", action="store_true", help="a cash drawer is plugged into it")

    def handle(
        self,
        *args,
        name,
        paper_width,
        no_cutter,
        auto_print,
        profile,
        location,
        copies,
        transport,
        mac,
        device_id,
        poll_interval,
        kitchen_categories="",
        has_drawer=False,
        **options,
    ):
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
            raise CommandError(
                '--kitchen-categories needs category names, e.g. --kitchen-categories "Lanches,Bebidas".'
            )
        if categories and has_drawer:
            raise CommandError(
                "A kitchen printer never opens the cash drawer: drop --has-drawer or --kitchen-categories."
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
        mac, device_id = self._cloud_identity(transport, mac, device_id, poll_interval)
        if Printer.objects.filter(name=name).exists():
            raise CommandError(f"A printer named {name!r} already exists; use printer_token to get a new token.")
        with transaction.atomic():
            printer = Printer.objects.create(
                name=name,
                paper_width=paper_width,
                has_cutter=not no_cutter,
                auto_print=channels,
                profile=profile,
                location=location,
                copies=copies,
                transport=transport,
                mac=mac,
                device_id=device_id,
                poll_interval=poll_interval,
                has_drawer=has_drawer,
                kitchen_categories=categories,
                kitchen_channels=channels if categories else [],
            )
            if printer.is_cloud:
                from printing.cloud.services import cloud_printer_issue_secret

                token = cloud_printer_issue_secret(printer=printer)
            else:
                token = services.printer_issue_token(printer=printer)
        summary = (
            f"Printer {printer.name!r} added (id {printer.pk}, {paper_width} mm, "
            f"auto-print: {', '.join(channels) or 'none'}"
            + (f"; kitchen tickets of {', '.join(categories)}" if categories else "")
            + (", cash drawer" if has_drawer else "")
        )
        if transport == Printer.Transport.CLOUDPRNT:
            self.stdout.write(
                f"{summary}, Star CloudPRNT, MAC {mac}). In the printer's CloudPRNT settings: server URL "
                f"https://<this server>/cloudprnt/ , polling every {poll_interval} s, HTTP authentication "
                "with any user name and this secret as the password (shown only once):"
            )
        elif transport == Printer.Transport.EPSON_SDP:
            self.stdout.write(
                f"{summary}, Epson Server Direct Print). In the printer's Server Direct Print settings: "
                f"URL https://<this server>/epson/sdp/ , ID {device_id}, interval {poll_interval} s, "
                f"authentication user name {device_id} and this secret as the password (shown only once):"
            )
        else:
            self.stdout.write(f"{summary}). Its agent token (shown only once):")
        self.stdout.write(token)

    @staticmethod
    def _cloud_identity(transport, mac, device_id, poll_interval):
        if not 1 <= poll_interval <= 3600:
            raise CommandError("--poll-interval must be between 1 and 3600 seconds.")
        if transport == Printer.Transport.CLOUDPRNT:
            if device_id:
                raise CommandError("--device-id is for --transport epson_sdp; a CloudPRNT printer has a --mac.")
            normalized = normalize_mac(mac)
            if not normalized:
                raise CommandError(
                    f"--transport cloudprnt needs --mac with the printer's MAC address, e.g. 00:11:62:AA:BB:CC (got {mac!r})."
                )
            if Printer.objects.filter(mac=normalized).exists():
                raise CommandError(f"A printer with MAC {normalized} already exists.")
            return normalized, ""
        if transport == Printer.Transport.EPSON_SDP:
            if mac:
                raise CommandError("--mac is for --transport cloudprnt; an Epson printer has a --device-id.")
            device_id = device_id.strip()
            if not re.fullmatch(DEVICE_ID_PATTERN, device_id):
                raise CommandError(
                    "--transport epson_sdp needs --device-id: the ID set in the printer's Server Direct Print "
                    f"settings, up to 30 letters, digits, '_', '.' or '-' (got {device_id!r})."
                )
            if Printer.objects.filter(device_id=device_id).exists():
                raise CommandError(f"A printer with device ID {device_id!r} already exists.")
            return "", device_id
        if mac or device_id:
            raise CommandError("--mac and --device-id are for cloud printers: add --transport cloudprnt or epson_sdp.")
        return "", ""
