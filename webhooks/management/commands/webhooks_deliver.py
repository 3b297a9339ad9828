import time

from django.core.management.base import BaseCommand

from webhooks.services import webhooks_deliver_due


class Command(BaseCommand):
    help = "Deliver due webhook events (signed POSTs with retries); runs until stopped unless --once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes")

    def handle(self, *args, once, interval, **options):
        while True:
            delivered = webhooks_deliver_due()
            if delivered:
                self.stdout.write(f"delivered {delivered}")
            if once:
                return
            time.sleep(interval)
