"""Printers, print jobs and their history.

The database is the source of truth for delivery: a job row exists (committed) before any
wake-up goes through the channel layer, and every state change is a conditional update so two
server processes never both claim or move the same job.
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orders.models import Order

TOKEN_MARK = "cp_"
TOKEN_PREFIX_LENGTH = 12


# Cloud printers type their secret into a web form that takes at most 30 letters, digits, "_", "."
# and "-" (Epson's WebConfig): "cp_" + 27 URL-safe characters, 160 random bits.
CLOUD_SECRET_BYTES = 20
DEVICE_ID_PATTERN = r"[A-Za-z0-9_.-]{1,30}"


def normalize_mac(value):
    """``00-11-62-AA-BB-CC``, ``001162aabbcc`` or ``00:11:62:aa:bb:cc`` -> ``00:11:62:aa:bb:cc``."""
    digits = re.sub(r"[^0-9a-fA-F]", "", str(value or "")).lower()
    if len(digits) != 12 or re.sub(r"[0-9a-fA-F:.\-\s]", "", str(value)):
        return ""
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def hash_token(token):
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


class ChannelSetField(models.JSONField):
    """A subset of the order channels, stored as a JSON list ("counter,scheduled" is accepted)."""

    def get_prep_value(self, value):
        return super().get_prep_value(normalize_channels(value))

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        unknown = set(normalize_channels(value)) - set(Order.Channel.values)
        if unknown:
            raise ValidationError(_("Unknown channel: %(names)s") % {"names": ", ".join(sorted(unknown))})


def normalize_channels(value):
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return sorted({str(item).strip() for item in value if str(item).strip()})


def default_auto_print():
    return [Order.Channel.COUNTER.value, Order.Channel.SCHEDULED.value]


class Printer(models.Model):
    class PaperWidth(models.IntegerChoices):
        MM_58 = 58, _("58 mm")
        MM_80 = 80, _("80 mm")

    class Status(models.TextChoices):
        READY = "ready", pgettext_lazy("printer status", "Ready")
        PAPER_LOW = "paper_low", _("Paper low")
        PAPER_OUT = "paper_out", _("Paper out")
        COVER_OPEN = "cover_open", _("Cover open")
        OFFLINE = "offline", _("Offline")
        ERROR = "error", _("Error")
        UNKNOWN = "unknown", _("Unknown")

    class Transport(models.TextChoices):
        AGENT = "agent", _("Cantina agent")
        CLOUDPRNT = "cloudprnt", _("Star CloudPRNT")
        EPSON_SDP = "epson_sdp", _("Epson Server Direct Print")

    # Jobs wait while the printer reports one of these (delivery rule 5).
    BLOCKING_STATUSES = frozenset({Status.PAPER_OUT, Status.COVER_OPEN, Status.OFFLINE})

    name = models.CharField(_("name"), max_length=80, unique=True)
    location = models.CharField(_("location"), max_length=120, blank=True)
    paper_width = models.PositiveSmallIntegerField(
        _("paper width"), choices=PaperWidth.choices, default=PaperWidth.MM_80
    )
    profile = models.CharField(
        _("printer profile"),
        max_length=60,
        blank=True,
        help_text=_("python-escpos capability profile, e.g. TM-T20II. Empty means generic."),
    )
    has_cutter = models.BooleanField(_("has cutter"), default=True)
    raster_only = models.BooleanField(
        _("print as images only"),
        default=False,
        help_text=_("Send every receipt as a picture, for printers without usable code pages."),
    )
    copies = models.PositiveSmallIntegerField(
        _("copies"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    auto_print = ChannelSetField(
        _("prints automatically"),
        default=default_auto_print,
        blank=True,
        help_text=_("Order channels whose confirmed orders this printer prints by itself."),
    )

    has_drawer = models.BooleanField(
        _("has cash drawer"),
        default=False,
        help_text=_("A cash drawer is plugged into this printer: cash sales open it."),
    )
    kitchen_channels = ChannelSetField(
        _("kitchen tickets for"),
        default=list,
        blank=True,
        help_text=_(
            "Order channels for which this printer prints kitchen tickets (items of its categories, "
            "no prices) instead of customer receipts."
        ),
    )
    kitchen_categories = models.JSONField(
        _("kitchen categories"),
        default=list,
        blank=True,
        help_text=_('Product categories on this printer\'s kitchen tickets, e.g. ["Lanches", "Bebidas"].'),
    )
    transport = models.CharField(
        _("connection"),
        max_length=12,
        choices=Transport.choices,
        default=Transport.AGENT,
        help_text=_("How the printer gets its jobs: through the Cantina agent, or by polling the server itself."),
    )
    mac = models.CharField(
        _("MAC address"),
        max_length=17,
        blank=True,
        help_text=_("Star CloudPRNT printers: the MAC address the printer reports, e.g. 00:11:62:AA:BB:CC."),
    )
    device_id = models.CharField(
        _("device ID"),
        max_length=30,
        blank=True,
        help_text=_("Epson Server Direct Print printers: the ID typed into the printer's settings."),
    )
    poll_interval = models.PositiveSmallIntegerField(
        _("poll interval (seconds)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text=_("How often the printer asks for jobs; it shows offline after three missed polls."),
    )
    # HTTP Digest (Epson): MD5(device ID ":" realm ":" secret), set with the secret; never the secret.
    digest_ha1 = models.CharField(max_length=32, blank=True, editable=False)
    # When a cloud printer last told its own status (a CloudPRNT poll, an Epson status notification).
    status_reported_at = models.DateTimeField(null=True, blank=True, editable=False)

    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    token_prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, blank=True, editable=False, db_index=True)
    token_issued_at = models.DateTimeField(null=True, blank=True, editable=False)

    connected = models.BooleanField(_("connected"), default=False)
    connection_channel = models.CharField(max_length=200, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UNKNOWN)
    status_message = models.CharField(_("status detail"), max_length=200, blank=True)
    model_name = models.CharField(_("model"), max_length=80, blank=True)
    agent_version = models.CharField(_("agent version"), max_length=40, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("printer")
        verbose_name_plural = _("printers")
        constraints = [
            models.UniqueConstraint(fields=["mac"], condition=~Q(mac=""), name="printer_unique_mac"),
            models.UniqueConstraint(fields=["device_id"], condition=~Q(device_id=""), name="printer_unique_device_id"),
        ]

    def __str__(self):
        return self.name

    def prints_kitchen_tickets_for(self, channel):
        return channel in normalize_channels(self.kitchen_channels)

    @property
    def is_cloud(self):
        return self.transport != self.Transport.AGENT

    def disabled_message(self):
        """The one wording of "this printer is disabled", for every refusal."""
        return _("Printer “%(name)s” is disabled.") % {"name": self.name}

    def issue_token(self, *, nbytes=32):
        """Set a new agent token (or cloud printer secret) and return it; only its hash is kept.
        Caller saves."""
        # "cp_" + 256 random bits: never starts with "-" (a command-line flag) and is easy to
        # recognise for secret scanners.
        token = TOKEN_MARK + secrets.token_urlsafe(nbytes)
        self.token_hash = hash_token(token)
        self.token_prefix = token[:TOKEN_PREFIX_LENGTH]
        self.token_issued_at = timezone.now()
        return token

    def revoke_token(self):
        self.token_hash = ""
        self.token_prefix = ""
        self.token_issued_at = None

    def token_matches(self, token):
        return bool(self.token_hash) and hmac.compare_digest(self.token_hash, hash_token(token))


class PrintJobQuerySet(models.QuerySet):
    def queued(self):
        """Jobs not finished yet (pending, sent or printing): PrintJob.QUEUED_STATUSES."""
        return self.filter(status__in=PrintJob.QUEUED_STATUSES)


def default_max_retries():
    return settings.CANTINA_JOB_MAX_RETRIES


class PrintJob(models.Model):
    class Kind(models.TextChoices):
        ORDER_RECEIPT = "order_receipt", _("Order receipt")
        TEST_PAGE = "test_page", _("Test page")
        REPRINT = "reprint", _("Reprint")
        DOCUMENT = "document", _("Document")
        RAW = "raw", _("Raw bytes")
        LOCAL = "local", _("Local job")
        KITCHEN_TICKET = "kitchen_ticket", _("Kitchen ticket")

    class RawFormat(models.TextChoices):
        # What the bytes of a raw job speak; they go to the printer untouched.
        ESCPOS = "escpos", "ESC/POS"
        TSPL = "tspl", "TSPL"
        ZPL = "zpl", "ZPL"
        TEXT = "text", _("Plain text")

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        SENT = "sent", _("Sent")
        PRINTING = "printing", _("Printing")
        COMPLETED = "completed", _("Printed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
    # Delivered but not finished: re-sent with the same id after the agent reconnects.
    IN_FLIGHT_STATUSES = frozenset({Status.SENT, Status.PRINTING})
    # Not finished yet: "queued" on every page, count and filter (in delivery-state order).
    QUEUED_STATUSES = (Status.PENDING, Status.SENT, Status.PRINTING)
    # Not started printing: a person may still cancel it (the agent is told to drop it).
    CANCELLABLE_STATUSES = frozenset({Status.PENDING, Status.SENT})

    objects = PrintJobQuerySet.as_manager()

    printer = models.ForeignKey(Printer, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("printer"))
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="print_jobs")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ORDER_RECEIPT)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    document = models.JSONField(_("document"), default=dict, blank=True)
    content = models.TextField(_("plain text"), blank=True)
    escpos = models.BinaryField(_("ESC/POS bytes"), blank=True, default=b"")
    copies = models.PositiveSmallIntegerField(
        _("copies"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("1 prints first."),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_retries = models.PositiveSmallIntegerField(_("max retries"), default=default_max_retries)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    # Cloud printers: the hand-out this job went out with (CloudPRNT jobToken, Epson printjobid).
    handout_token = models.CharField(max_length=40, blank=True, editable=False)
    error_message = models.CharField(_("error"), max_length=500, blank=True)
    # The database's clock, not this process's: expiry compares it with the database's "now",
    # whatever this server's wall clock did meanwhile (tests/test_clock_jumps.py).
    created_at = models.DateTimeField(_("created at"), db_default=Now(), db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    title = models.CharField(_("title"), max_length=120, blank=True)
    raw_format = models.CharField(_("raw format"), max_length=8, choices=RawFormat.choices, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # Local jobs: printed by the agent for a client on its own PC (agent --listen), then reported.
    local_id = models.CharField(_("local job id"), max_length=64, blank=True, editable=False)
    source = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        editable=False,
        help_text=_(
            "Where a local job came from: the client's protocol, reference and web page origin; "
            "for the print API, the app that sent it."
        ),
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        permissions = [
            ("reprint_printjob", _("Can reprint or retry print jobs created today")),
            ("reprint_any_printjob", _("Can reprint or retry print jobs of any day")),
            ("view_dashboard", _("Can see the print dashboard")),
        ]
        constraints = [
            # One receipt per (order, printer): confirming or saving again never prints twice.
            models.UniqueConstraint(
                fields=["order", "printer", "kind"],
                condition=Q(kind__in=["order_receipt", "kitchen_ticket"]),
                name="one_receipt_per_order_and_printer",
            ),
            models.CheckConstraint(condition=Q(priority__gte=1) & Q(priority__lte=10), name="job_priority_1_to_10"),
            # An agent reports a local job until the server confirms it: recorded once.
            models.UniqueConstraint(
                fields=["printer", "local_id"], condition=Q(kind="local"), name="one_local_job_per_local_id"
            ),
        ]
        indexes = [
            models.Index(fields=["printer", "status", "priority", "id"], name="job_delivery_order"),
            models.Index(fields=["status", "created_at"], name="job_status_age"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} → {self.printer.name}"

    @property
    def is_terminal(self):
        return self.status in self.TERMINAL_STATUSES

    # The rules of what a person may do with a job; services enforce them, views, admin and
    # templates ask them (so a button is shown exactly when the action would be accepted).

    def can_cancel(self):
        return self.status in self.CANCELLABLE_STATUSES

    def can_retry(self):
        # A local job's bytes never reached the server (only its text did): the client that sent
        # it to the agent's listener must send it again.
        return self.status == self.Status.FAILED and self.kind != self.Kind.LOCAL

    def can_reprint(self):
        return self.order_id is not None

    def can_change_priority(self):
        return self.status == self.Status.PENDING


class PrintJobEvent(models.Model):
    """One row per job state change: the job's history as staff and managers see it."""

    job = models.ForeignKey(PrintJob, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=12, choices=PrintJob.Status.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("job event")
        verbose_name_plural = _("job events")

    def __str__(self):
        return f"#{self.job_id} {self.get_status_display()} {timezone.localtime(self.at):%H:%M:%S}"


class PrinterIncident(models.Model):
    """A stretch of time a printer that auto-prints could not print: no agent, paper out, cover open.

    Opened when the condition starts, closed when it ends; it is an alarm once it has lasted
    ``CANTINA_PRINTER_ALARM_SECONDS`` (``/health`` degraded, red bar on the staff pages).
    """

    class Reason(models.TextChoices):
        NO_AGENT = "no_agent", _("No agent connected")
        PAPER_OUT = "paper_out", _("Paper out")
        COVER_OPEN = "cover_open", _("Cover open")

    printer = models.ForeignKey(Printer, on_delete=models.CASCADE, related_name="incidents")
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("printer incident")
        verbose_name_plural = _("printer incidents")
        constraints = [
            models.UniqueConstraint(
                fields=["printer", "reason"], condition=Q(ended_at__isnull=True), name="one_open_incident_per_reason"
            ),
        ]

    def __str__(self):
        return f"{self.printer} {self.get_reason_display()}"

    def duration(self, now=None):
        return (self.ended_at or now or timezone.now()) - self.started_at
