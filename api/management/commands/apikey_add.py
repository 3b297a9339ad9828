from django.core.management.base import BaseCommand, CommandError

from api import services


class Command(BaseCommand):
    help = "Add a print API key and print it (alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--printers", default="", help="comma-separated printer names; default: all printers")
        parser.add_argument("--scopes", default="print,orders,read", help="comma-separated: print, orders, read")
        parser.add_argument(
            "--origins", default="", help="comma-separated web origins allowed to use the key from a browser"
        )
        parser.add_argument("--rate", type=int, default=None, help="requests per minute (default: the server's)")

    def handle(self, *args, name, printers, scopes, origins, rate, **options):
        if rate is not None and rate < 1:
            raise CommandError("--rate must be at least 1.")
        try:
            api_key, key = services.apikey_create(
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                printer_names=printers.split(","),
                origins=origins.split(","),
                rate_per_minute=rate,
            )
        except services.ApiKeyError as error:
            raise CommandError(str(error)) from None
        where = ", ".join(api_key.printers.values_list("name", flat=True)) or "all printers"
        self.stdout.write(
            f"API key {api_key.name!r} added (id {api_key.pk}, scopes: {', '.join(api_key.scopes)}; {where}). "
            "Send it as 'Authorization: Bearer <key>'; it is shown only once:"
        )
        self.stdout.write(key)
