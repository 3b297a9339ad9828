"""``python manage.py printing_maintenance [--once] [--interval SECONDS]``: printing.maintenance
as a separate worker (set CANTINA_MAINTENANCE_IN_PROCESS=false on the servers then, or keep both:
every task is safe to run in several processes)."""

import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from printing import maintenance


class Command(BaseCommand):
    help = (
        "Run the periodic printing maintenance (missing receipts, job expiry, stale printers): "
        "every CANTINA_SWEEP_INTERVAL seconds until stopped, or one pass with --once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every task once and exit (0 if all succeeded).")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help=f"Seconds between passes (default: CANTINA_SWEEP_INTERVAL, now {settings.CANTINA_SWEEP_INTERVAL}).",
        )

    def handle(self, *args, once=False, interval=None, **options):
        if interval is not None and interval <= 0:
            raise CommandError(f"--interval must be a positive number of seconds, not {interval:g}.")
        names = ", ".join(task.name for task in maintenance.MAINTENANCE_TASKS)
        if once:
            failed = maintenance.run_pass(force=True, traceback=options["verbosity"] > 1)
            if failed:
                causes = "; ".join(f"{name}: {error}" for name, error in failed.items())
                raise CommandError(
                    f"Maintenance task(s) failed: {causes}. Check the database settings (DATABASE_URL) "
                    "and that migrations are applied (manage.py migrate); -v 2 shows tracebacks."
                )
            self.stdout.write(f"Maintenance pass done: {names}.")
            return
        interval = interval or settings.CANTINA_SWEEP_INTERVAL
        self.stdout.write(f"Running maintenance every {interval:g} s ({names}); Ctrl-C stops.")
        stop = threading.Event()
        try:
            maintenance.run_forever(interval=interval, stop=stop)
        except KeyboardInterrupt:
            stop.set()
            self.stdout.write("Stopped.")
