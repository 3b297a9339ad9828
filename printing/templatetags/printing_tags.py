"""Template helpers for the staff pages: printer state at a glance and the live channel's set-up.

The page script (static/js/live.js) applies the same printer-state rules to live updates, from
the labels given here in the reader's language.
"""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import json_script
from django.utils.translation import get_language, pgettext

from orders.models import Order
from printing.history import history_message as _history_message
from printing.models import Printer, PrintJob

register = template.Library()

# Printer status as the agent reports it → what an attendant needs to know.
CONNECTED_STATE = {
    Printer.Status.READY: "online",
    Printer.Status.UNKNOWN: "online",
    Printer.Status.PAPER_LOW: "paper_low",
    Printer.Status.PAPER_OUT: "paper_out",
    Printer.Status.COVER_OPEN: "cover_open",
    Printer.Status.OFFLINE: "printer_off",
    Printer.Status.ERROR: "error",
}
STATE_LEVEL = {
    "online": "ok",
    "paper_low": "warn",
    "paper_out": "bad",
    "cover_open": "bad",
    "printer_off": "bad",
    "error": "bad",
    "offline": "bad",
    "disabled": "muted",
}


def printer_state_labels():
    return {
        "online": pgettext("printer state", "online"),
        "paper_low": pgettext("printer state", "paper low"),
        "paper_out": pgettext("printer state", "out of paper"),
        "cover_open": pgettext("printer state", "cover open"),
        "printer_off": pgettext("printer state", "printer off"),
        "error": pgettext("printer state", "error"),
        "offline": pgettext("printer state", "offline"),
        "disabled": pgettext("printer state", "disabled"),
    }


def printer_state(printer):
    if not printer.is_active:
        return "disabled"
    if not printer.connected:
        return "offline"
    return CONNECTED_STATE.get(printer.status, "error")


@register.simple_tag
def printer_state_of(printer):
    """{"key", "level", "label"} of a printer's state."""
    key = printer_state(printer)
    return {"key": key, "level": STATE_LEVEL[key], "label": printer_state_labels()[key]}


@register.inclusion_tag("printing/_printer_chips.html")
def printer_chips():
    printers = Printer.objects.filter(is_active=True).order_by("name")
    return {"chips": [(printer, printer_state_of(printer)) for printer in printers]}


@register.simple_tag
def live_config():
    """Everything the page script needs, as a <script type="application/json"> element."""
    config = {
        "socketPath": "/ws/staff/",
        "jobStatusUrl": reverse("printing:jobs_status"),
        "printerStatusUrl": reverse("printing:printers_status"),
        "jobUrl": reverse("printing:job_detail", args=[0]).replace("/0/", "/{id}/"),
        "language": get_language(),
        "timeZone": settings.TIME_ZONE,
        "jobLabels": {status: str(label) for status, label in PrintJob.Status.choices},
        "kindLabels": {kind: str(label) for kind, label in PrintJob.Kind.choices},
        "orderLabels": {status: str(label) for status, label in Order.Status.choices},
        "printerLabels": printer_state_labels(),
        "printerLevels": STATE_LEVEL,
        "printerStates": {str(status): state for status, state in CONNECTED_STATE.items()},
        "text": {
            "live": pgettext("live link", "live"),
            "connecting": pgettext("live link", "connecting…"),
            "offline": pgettext("live link", "disconnected — reconnecting…"),
            "lastSeen": pgettext("printer", "last seen %(time)s"),
            "queued": pgettext("printer", "%(count)s in queue"),
        },
    }
    return json_script(config, "live-config")


@register.filter
def history_message(message):
    """A job history message in the reader's language (printing.history)."""
    return _history_message(message)
