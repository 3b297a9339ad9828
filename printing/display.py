"""How printer and job states look to people: badge tones and connection labels.

Shared by the admin (badges), the print dashboard and anything else that shows a state; the
CSS of the tones lives in static/admin_extra/admin_extra.css.
"""

from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from printing.models import Printer, PrintJob

PRINTER_STATUS_TONE = {
    Printer.Status.READY: "ok",
    Printer.Status.PAPER_LOW: "warn",
    Printer.Status.PAPER_OUT: "bad",
    Printer.Status.COVER_OPEN: "bad",
    Printer.Status.ERROR: "bad",
    Printer.Status.OFFLINE: "muted",
    Printer.Status.UNKNOWN: "muted",
}
JOB_STATUS_TONE = {
    PrintJob.Status.PENDING: "info",
    PrintJob.Status.SENT: "info",
    PrintJob.Status.PRINTING: "info",
    PrintJob.Status.COMPLETED: "ok",
    PrintJob.Status.FAILED: "bad",
    PrintJob.Status.CANCELLED: "muted",
}


def printer_connection_label(printer):
    if not printer.is_active:
        return _("Disabled")
    return _("Connected") if printer.connected else _("Not connected")


def printer_connection_tone(printer):
    return "ok" if printer.is_active and printer.connected else "muted"


def time_ago(value, now=None):
    """ "3 minutes ago", or "just now" within the first minute (timesince would say "0 minutes")."""
    now = now or timezone.now()
    if (now - value).total_seconds() < 60:
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(value, now)}
