"""Print workflows: every job and printer change goes through here.

Jobs: create (order receipts, missing-receipt repair, test pages, documents, reprints), claim,
mark status, cancel, retry, set priority, expire. Printers: tokens (issue, revoke,
authenticate), enable/disable, agent connect/disconnect/report, presence (touch, mark stale).
Reads live in ``printing.selectors``, the agent's wire messages in ``printing.protocol``, the
receipt inputs in ``printing.render_inputs``, periodic work in ``printing.maintenance``.

Views, consumers, admin actions, management commands and the order signal all call these
functions. State changes are conditional updates (``WHERE status = …``) inside transactions, so
concurrent server processes never both claim or both move a job, and a repeated or late agent
message never moves a job that has already finished.
"""

import hmac
import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef
from django.db.models.functions import Now
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orders.models import Order
from orders.staff import username
from printing import notify, selectors, statements
from printing.documents import check_document, validate_document
from printing.kitchen import kitchen_ticket
from printing.models import (
    TOKEN_PREFIX_LENGTH,
    Printer,
    PrinterIncident,
    PrintJob,
    hash_token,
    normalize_channels,
)
from printing.protocol import AGENT_REPORTED_STATUSES, StatusOutcome
from printing.receipts import order_receipt, test_page
from printing.render_inputs import kitchen_order, printer_spec, receipt_order, shop_info
from printing.rendering import render_escpos, render_text
from webhooks.services import event_record, subscribed

log = logging.getLogger("cantina.printing")

Status = PrintJob.Status

# Printer conditions that a person can fix; the job waits and is re-sent when the printer is
# ready again. Anything else (bad_data, interrupted: it may have printed) needs a decision.
RETRYABLE_ERROR_CODES = frozenset({"paper_out", "cover_open", "offline"})
DELIVERY_BATCH = 20

PRIORITY_BY_CHANNEL = {Order.Channel.COUNTER: 1, Order.Channel.SCHEDULED: 3}


class PrintError(Exception):
    """A request that cannot be carried out; ``str()`` is a message for a person."""

    def __init__(self, message, code="invalid"):
        super().__init__(message)
        self.code = code


# --- job creation --------------------------------------------------------------------------


def _render_into(job, document):
    spec = printer_spec(job.printer)
    job.document = document
    job.content = render_text(document, spec)
    job.escpos = render_escpos(document, spec, copies=job.copies)


def database_time_ago(age, *, now=None):
    """The moment ``age`` ago on the database's clock (or before ``now``, when a test gives one).

    Ages that several server processes compare (a job's, a printer's last sign of life) are read
    and written on the one clock they share: a server whose wall clock jumps would otherwise
    expire fresh jobs, or keep dead printers online (tests/test_clock_jumps.py).
    """
    if now is not None:
        return now - age
    return ExpressionWrapper(Now() - age, output_field=DateTimeField())


# --- job creation --------------------------------------------------------------------------


def jobs_create_for_order(*, order_id):
    """Create the jobs of a confirmed order on every printer that auto-prints its channel.

    A printer prints, per channel, either the customer receipt or a kitchen ticket of the items of
    its categories (``kitchen_channels``/``kitchen_categories``; none when it has no such item).
    Idempotent: at most one receipt or ticket per (order, printer), however often it is called.
    Returns the ids of the jobs it created.
    """
    # Which printers auto-print which channels first (a fixed statement, issue 16): when none
    # prints anything, not even the order is read.
    auto_printing = statements.printers_auto_printing()
    if not auto_printing:
        return []
    order = Order.objects.filter(pk=order_id).order_by().first()
    if order is None or order.status in {Order.Status.PENDING, Order.Status.CANCELLED}:
        return []
    created = []
    matching = [pk for pk, channels in auto_printing if order.channel in channels]
    if not matching:
        return []  # an order no printer prints: its items are not even read
    # The lines with their products' categories (kitchen tickets choose by them): one statement.
    lines = statements.order_lines(order.pk)
    order_kinds = [PrintJob.Kind.ORDER_RECEIPT, PrintJob.Kind.KITCHEN_TICKET]
    # Which already have theirs is asked per printer below, under the write lock: asking first as
    # well cost every confirmation a query (issue 16) to spare the rare repeated call a printer load.
    printers = Printer.objects.filter(pk__in=matching).order_by("id")
    # All of an order's receipts or none: an order without any is one whose confirmation was cut
    # short, and jobs_create_missing() finds it.
    with transaction.atomic():
        for printer in printers:
            if statements.order_has_job_on(order.pk, printer.pk, order_kinds):
                continue
            if printer.prints_kitchen_tickets_for(order.channel):
                ticket = kitchen_order(order, lines, printer.kitchen_categories)
                if not ticket.items:
                    continue  # nothing for this station to prepare
                kind = PrintJob.Kind.KITCHEN_TICKET
                build = partial(_kitchen_document, ticket=ticket)
            else:
                kind = PrintJob.Kind.ORDER_RECEIPT
                build = partial(_receipt_document, order=order, lines=lines)
            try:
                with transaction.atomic():
                    job = _job_create(
                        printer=printer,
                        kind=kind,
                        order=order,
                        priority=PRIORITY_BY_CHANNEL.get(order.channel, 5),
                        build=build,
                    )
            except IntegrityError:
                continue  # another process created it first: still exactly one
            created.append(job.pk)
    return created


def _receipt_document(job, *, order, lines):
    document = _order_document(job, order, lines, reprint=False)
    if job.printer.has_drawer and order.payment_method == Order.PaymentMethod.CASH:
        # A cash sale opens the drawer plugged into the receipt printer (never a kitchen one).
        document = validate_document({**document, "commands": [DRAWER_PULSE, *document["commands"]]})
    return document


def _kitchen_document(job, *, ticket):
    return kitchen_ticket(ticket, printer_spec(job.printer), station=job.printer.name, job_id=job.pk)


# ESC p: pin 2 of the drawer connector, 100 ms on, 100 ms off (every drawer opens with it).
DRAWER_PULSE = {"type": "pulse", "data": {"pin": 2, "on_time": 100, "off_time": 100}}


# A confirmation whose receipts are missing after this long was cut short, not slow...
MISSING_RECEIPTS_GRACE = timedelta(seconds=10)
# ...and only recent ones are repaired: a printer enabled later must not print old orders.
MISSING_RECEIPTS_WINDOW = timedelta(minutes=30)


def jobs_create_missing(*, now=None):
    """Create the receipts of recently confirmed orders that have none; return the new job ids.

    Receipts are created after the confirmation commits (delivery rule 1), so a process killed
    in between leaves a confirmed order that would never print, with nothing for staff to see.
    Each server process's sweep calls this; creating receipts is idempotent.
    """
    # Orders no printer prints (e.g. no printer auto-prints scheduled orders) are not missing
    # anything: leave them out instead of re-examining them at every sweep.
    channels = {
        channel for _pk, printer_channels in statements.printers_auto_printing() for channel in printer_channels
    }
    if not channels:
        return []
    receipts = PrintJob.objects.filter(order=OuterRef("pk"), kind=PrintJob.Kind.ORDER_RECEIPT)
    order_ids = list(
        Order.objects.filter(
            channel__in=channels,
            confirmed_at__gte=database_time_ago(MISSING_RECEIPTS_WINDOW, now=now),
            confirmed_at__lte=database_time_ago(MISSING_RECEIPTS_GRACE, now=now),
        )
        .exclude(status__in=[Order.Status.PENDING, Order.Status.CANCELLED])
        .exclude(Exists(receipts))
        .order_by("confirmed_at")
        .values_list("pk", flat=True)
    )
    created = []
    for order_id in order_ids:
        jobs = jobs_create_for_order(order_id=order_id)
        if jobs:
            log.warning("order=%s event=receipts_recovered jobs=%s", order_id, ",".join(map(str, jobs)))
        created += jobs
    return created


def _order_document(job, order, lines, *, reprint):
    """The receipt of ``order`` with its ``lines`` (``statements.order_lines``) for ``job``."""
    return order_receipt(
        receipt_order(order, lines), printer_spec(job.printer), shop_info(), reprint=reprint, job_id=job.pk
    )


def _job_create(
    *, printer, kind, build=None, raw=None, order=None, priority=5, copies=None, requested_by=None, message="", **fields
):
    """Create a pending job. ``build(job)`` returns the document to render; ``raw`` is instead
    ``(content, bytes)`` sent to the printer untouched."""
    if raw is not None:
        fields["content"], fields["escpos"] = raw
    job = PrintJob.objects.create(
        printer=printer,
        order=order,
        kind=kind,
        priority=priority,
        copies=copies or printer.copies,
        requested_by=requested_by,
        **fields,
    )
    if raw is None:
        # Paper speaks the canteen's language, whatever language the person confirming uses.
        with translation.override(settings.CANTINA_RECEIPT_LANGUAGE):
            _render_into(job, build(job))
        statements.job_store_rendered(job)
    _record(job, Status.PENDING, message or _("Queued"), summary=selectors.job_summary_of(job))
    transaction.on_commit(partial(notify.job_wakeup, printer.pk, job.pk))
    log.info("job=%s printer=%s kind=%s order=%s status=pending", job.pk, printer.pk, kind, order and order.pk)
    return job


def _require_active(printer):
    if not printer.is_active:
        raise PrintError(printer.disabled_message(), "printer_disabled")


def job_create_test_page(*, printer, requested_by=None):
    _require_active(printer)
    with transaction.atomic():
        return _job_create(
            printer=printer,
            kind=PrintJob.Kind.TEST_PAGE,
            copies=1,
            requested_by=requested_by,
            build=lambda job: test_page(printer_spec(printer), shop_info(), now=timezone.localtime()),
        )


def _ensure_active(printer):
    if not printer.is_active:
        raise PrintError(_("Printer “%(name)s” is disabled.") % {"name": printer.name}, "printer_disabled")


def job_create_document(
    *, printer, document, copies=1, priority=5, requested_by=None, title="", source="", expires_at=None
):
    """Queue a poster-format document (validated; raises DocumentError with a precise message).

    Not called by the staff pages: it is the entry point of the print API (issue "Print API").
    What prints differently than written (a size name printed 1x1...) is said in the job's
    history, on its "queued" event.
    """
    normalized, warnings = check_document(document)
    _ensure_active(printer)
    with transaction.atomic():
        return _job_create(
            printer=printer,
            kind=PrintJob.Kind.DOCUMENT,
            copies=copies,
            priority=priority,
            requested_by=requested_by,
            build=lambda job: normalized,
            message=(_("Queued, with warnings: %(warnings)s") % {"warnings": "; ".join(warnings)}) if warnings else "",
            title=title,
            source=source,
            expires_at=expires_at,
        )


# Label printers take whole TSPL/ZPL programs; a megabyte is far above any receipt or label.
RAW_JOB_MAX_BYTES = 1024 * 1024


def job_create_raw(
    *, printer, data, raw_format, copies=1, priority=5, requested_by=None, title="", source="", expires_at=None
):
    """Queue bytes that go to the printer untouched (ESC/POS, TSPL, ZPL or plain text), ``copies`` times.

    The agent prints a job's ``escpos`` bytes as they are, so nothing here interprets them.
    """
    if raw_format not in PrintJob.RawFormat.values:
        raise PrintError(
            _("Unknown raw format “%(format)s”: use %(formats)s.")
            % {"format": raw_format, "formats": ", ".join(PrintJob.RawFormat.values)},
            "bad_raw_format",
        )
    if not data:
        raise PrintError(_("There is nothing to print: the raw data is empty."), "empty")
    if len(data) > RAW_JOB_MAX_BYTES:
        raise PrintError(
            _("The raw data is %(size)s bytes; at most %(max)s bytes can be printed at once.")
            % {"size": len(data), "max": RAW_JOB_MAX_BYTES},
            "too_large",
        )
    _ensure_active(printer)
    from printing.documents import clean_text

    # Only the readable copy staff see is cleaned; the bytes go out as they came.
    content = clean_text(data.decode("utf-8", errors="replace")) if raw_format == PrintJob.RawFormat.TEXT else ""
    with transaction.atomic():
        return _job_create(
            printer=printer,
            kind=PrintJob.Kind.RAW,
            copies=copies,
            priority=priority,
            requested_by=requested_by,
            raw=(content, bytes(data) * copies),
            raw_format=raw_format,
            title=title,
            source=source,
            expires_at=expires_at,
        )


def job_reprint(*, job_id, requested_by=None, force=False):
    """Queue a new job of kind reprint, marked REIMPRESSÃO on paper, for the same order and printer.

    While the original is still waiting (queued, sent, printing) a reprint would print the order
    twice: refused unless ``force`` (a person confirmed it knowing that).
    """
    original = PrintJob.objects.select_related("printer", "order").get(pk=job_id)
    if not original.can_reprint():
        raise PrintError(_("Only order receipts can be reprinted."), "not_reprintable")
    if original.status in PrintJob.QUEUED_STATUSES and not force:
        raise PrintError(
            _(
                "The original receipt (job #%(id)s) is still waiting to print: a reprint now would print it "
                "twice. Wait until it is printed or failed."
            )
            % {"id": original.pk},
            "original_waiting",
        )
    _require_active(original.printer)
    order = Order.objects.get(pk=original.order_id)
    lines = statements.order_lines(order.pk)
    with transaction.atomic():
        return _job_create(
            printer=original.printer,
            kind=PrintJob.Kind.REPRINT,
            order=order,
            priority=2,
            requested_by=requested_by,
            message=_("Reprint of job #%(id)s") % {"id": original.pk},
            build=lambda job: _order_document(job, order, lines, reprint=True),
        )


def order_reprint(*, order_id, requested_by=None, force=False):
    """Reprint an order's receipt on every printer that printed it (or would print it now)."""
    jobs = list(
        PrintJob.objects.filter(order_id=order_id, kind=PrintJob.Kind.ORDER_RECEIPT).values_list("pk", flat=True)
    )
    if not jobs:
        raise PrintError(_("This order has not been printed yet."), "not_printed")
    if not force:
        waiting = (
            PrintJob.objects.filter(pk__in=jobs, status__in=PrintJob.QUEUED_STATUSES)
            .values_list("pk", flat=True)
            .first()
        )
        if waiting is not None:
            job_reprint(job_id=waiting, requested_by=requested_by)  # raises original_waiting
    return [job_reprint(job_id=job_id, requested_by=requested_by, force=force) for job_id in jobs]


# --- history and notifications ------------------------------------------------------------


def _record(job, status, message="", summary=None):
    """The job's event, its webhook event and the staff update; ``summary`` (the job as staff
    see it now, if the caller has it) spares a query after commit."""
    statements.job_events_insert([(job.pk, status, message, timezone.now())])
    _job_event(job.pk, status, message, summary=summary)
    if summary is None:
        job_notify_staff(job.pk)
    else:
        transaction.on_commit(partial(notify.staff_job_updated, summary))


def _job_event(job_id, status, message="", summary=None):
    """The ``job.<status>`` webhook event, in the transaction of the transition (outbox)."""
    event_record(
        type=f"job.{status}",
        data=lambda: {"job": summary or selectors.job_summary(job_id), "message": message[:500]},
    )


def job_notify_staff(job_id):
    """Tell staff pages about this job once the current transaction commits."""
    transaction.on_commit(partial(_send_job_summary, job_id))


def jobs_notify_staff(job_ids):
    """``job_notify_staff`` for a batch: one query for all their summaries after commit."""
    if job_ids:
        transaction.on_commit(partial(_send_job_summaries, list(job_ids)))


def _send_job_summary(job_id):
    data = selectors.job_summary(job_id)
    if data is not None:
        notify.staff_job_updated(data)


def _send_job_summaries(job_ids):
    for data in selectors.job_summaries(job_ids):
        notify.staff_job_updated(data)


def _notify_printer(printer_id):
    event_record(
        type="printer.updated",
        data=lambda: {"printer": next(iter(selectors.printer_summaries([printer_id])), None)},
    )

    def send():
        for data in selectors.printer_summaries([printer_id]):
            notify.staff_printer_updated(data)

    transaction.on_commit(send)


# --- delivery -------------------------------------------------------------------------------


def jobs_claim(*, printer_id, limit=DELIVERY_BATCH, channel_name=None, handout_token=None):
    """Claim this printer's pending jobs (pending → sent) in delivery order; return payloads.

    With ``handout_token`` (cloud printers, which fetch one job at a time), at most one job is
    claimed and the token is stored on it: the printer's fetch and confirmation name it.

    Nothing is claimed while the printer reports paper out, cover open or offline. The claim is
    a conditional update, so two consumers (two processes) never both send the same job.

    With ``channel_name``, a connection that another one has replaced claims nothing: it may be
    a dead socket, and the new connection already re-sent what was in flight, so whatever it
    claimed now would sit in ``sent`` unprinted. The printer row is locked, so the claim is
    ordered with ``printer_connected`` of the new connection (and its re-send after it).
    """
    # Most calls find nothing (a wake-up for a job an earlier claim already sent, a reconnect, a
    # status report): a plain read answers them without taking the database's write lock.
    # The statements are written out (printing.statements): every job is claimed (issue 16).
    if not statements.printer_has_pending(printer_id):
        return []
    now = timezone.now()
    with transaction.atomic():
        printer = statements.printer_for_claim(printer_id)
        if printer is None or not printer["is_active"] or printer["status"] in Printer.BLOCKING_STATUSES:
            return []
        if channel_name and printer["connection_channel"] not in ("", channel_name):
            return []
        if handout_token:
            limit = 1
        candidates = statements.pending_job_ids(printer_id, now=now, limit=limit)
        # One conditional UPDATE for the batch: the candidates are locked (PostgreSQL) or the
        # write lock is held (SQLite), so they are all still pending; if not, re-read which moved.
        updates = {"status": Status.SENT, "sent_at": now}
        if handout_token:
            updates["handout_token"] = handout_token
        claimed = candidates
        if statements.jobs_move(candidates, from_status=Status.PENDING, updates=updates) != len(candidates):
            claimed = list(
                PrintJob.objects.filter(pk__in=candidates, status=Status.SENT, sent_at=now)
                .order_by("priority", "id")
                .values_list("pk", flat=True)
            )
        sent_message = _("Handed out to the printer") if handout_token else _("Sent to the agent")
        statements.job_events_insert([(job_id, Status.SENT, sent_message, now) for job_id in claimed])
        webhooks_wanted = bool(claimed) and subscribed("job.sent")  # one query per claim, not per job
        for job_id in claimed:
            log.info("job=%s printer=%s status=sent", job_id, printer_id)
            if webhooks_wanted:
                _job_event(job_id, Status.SENT, sent_message)
    # Read after commit: the write lock is not held while payloads are built. The staff pages'
    # summaries come from the same rows (no query of their own).
    summaries = []
    payloads = selectors.job_payloads(claimed, summaries=summaries)
    for summary in summaries:
        if summary is not None:
            transaction.on_commit(partial(notify.staff_job_updated, summary))
    return payloads


def job_mark_status(*, job_id, printer_id, status, error_code="", message=""):
    """Apply an agent's ``print_status`` report. Idempotent; terminal jobs never change."""
    if status not in AGENT_REPORTED_STATUSES:
        return StatusOutcome(ok=False, error="bad_message", message=f"unknown print status {status!r}")
    error_code = (error_code or "")[:40]
    message = (message or "")[:500]
    now = timezone.now()
    with transaction.atomic():
        # The row as staff see it comes with the lock: the summary sent after commit needs no query.
        # Written-out statements (printing.statements): every job gets two reports (issue 16).
        row = statements.job_for_report(job_id, printer_id)
        if row is None:
            return StatusOutcome(ok=False, error="not_found", message=f"job {job_id} is not a job of this printer")
        current = row["status"]
        if current in PrintJob.TERMINAL_STATUSES or status == "received":
            return StatusOutcome(ok=True, changed=False, status=current)

        if status == "printing":
            if current == Status.PRINTING:
                return StatusOutcome(ok=True, status=current)
            updates = {"status": Status.PRINTING, "started_at": now}
            event_message = message or _("Printing")
        elif status == "completed":
            updates = {"status": Status.COMPLETED, "finished_at": now, "error_code": "", "error_message": ""}
            event_message = message or _("Printed")
        else:  # failed
            attempts = row["attempts"] + 1
            reason = message or error_code or _("Printer reported a failure")
            if error_code in RETRYABLE_ERROR_CODES and attempts <= row["max_retries"]:
                updates = {"status": Status.PENDING, "attempts": attempts, "sent_at": None, "started_at": None}
                event_message = _("Will retry when the printer is ready: %(reason)s") % {"reason": reason}
                # The job waits until the agent reports the printer ready again (rule 5).
                Printer.objects.filter(pk=printer_id).update(status=error_code, status_message=reason[:200])
                _incidents_follow_status(printer_id, error_code)
                _notify_printer(printer_id)
            else:
                updates = {"status": Status.FAILED, "attempts": attempts, "finished_at": now}
                event_message = reason
            updates["error_code"] = error_code
            updates["error_message"] = reason
        if not statements.job_move(job_id, from_status=current, updates=updates):
            return StatusOutcome(ok=True, changed=False, status=current)
        new_status = updates["status"]
        statements.job_events_insert([(job_id, new_status, event_message, now)])
        summary = selectors.job_summary_from_row({**row, **updates})
        _job_event(job_id, new_status, event_message, summary=summary)
        transaction.on_commit(partial(notify.staff_job_updated, summary))
    log.info(
        "job=%s printer=%s status=%s%s",
        job_id,
        printer_id,
        new_status,
        f" error_code={error_code}" if error_code else "",
    )
    # Answered here, in the same database call, so that the consumer claims only when there is
    # something to claim (a claim per acknowledgement otherwise, nearly always empty).
    pending = new_status in PrintJob.TERMINAL_STATUSES and statements.printer_has_pending(printer_id)
    return StatusOutcome(ok=True, changed=True, status=new_status, pending=pending)


def job_report(*, job_id, printer_id, channel_name, status, error_code="", message=""):
    """An agent's ``print_status`` and, when it finished a job and more are pending, the claim of
    the next ones, in one database call. Returns (``StatusOutcome``, payloads claimed)."""
    outcome = job_mark_status(
        job_id=job_id, printer_id=printer_id, status=status, error_code=error_code, message=message
    )
    if not (outcome.ok and outcome.changed and outcome.pending):
        return outcome, []
    return outcome, jobs_claim(printer_id=printer_id, channel_name=channel_name)


def job_cancel(*, job_id, requested_by=None):
    """Cancel a job that has not started printing; the agent is told to drop it."""
    with transaction.atomic():
        job = PrintJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise PrintError(_("Print job not found."), "not_found")
        if not job.can_cancel():
            raise PrintError(
                _("Job #%(id)s cannot be cancelled: it is %(status)s.")
                % {"id": job.pk, "status": job.get_status_display().lower()},
                "not_cancellable",
            )
        was_sent = job.status == Status.SENT
        PrintJob.objects.filter(pk=job.pk).update(status=Status.CANCELLED, finished_at=timezone.now())
        job.status = Status.CANCELLED
        who = username(requested_by)
        _record(job, Status.CANCELLED, _("Cancelled by %(user)s") % {"user": who} if who else _("Cancelled"))
        if was_sent:
            transaction.on_commit(partial(notify.agent_job_cancelled, job.printer_id, job.pk))
    log.info("job=%s printer=%s status=cancelled", job.pk, job.printer_id)
    return job


def jobs_cancel_for_order(*, order_id):
    """A cancelled order's receipts that have not started printing are not printed."""
    cancelled = []
    for job_id in PrintJob.objects.filter(order_id=order_id, status__in=PrintJob.CANCELLABLE_STATUSES).values_list(
        "pk", flat=True
    ):
        try:
            cancelled.append(job_cancel(job_id=job_id).pk)
        except PrintError:
            pass  # it started printing meanwhile: too late, and staff see it printed
    return cancelled


def job_retry(*, job_id, requested_by=None):
    """Put a failed job back in the queue (a person decided it should print)."""
    with transaction.atomic():
        job = PrintJob.objects.select_for_update().select_related("printer").filter(pk=job_id).first()
        if job is None:
            raise PrintError(_("Print job not found."), "not_found")
        if not job.can_retry():
            raise PrintError(_("Only failed jobs can be retried."), "not_retryable")
        _require_active(job.printer)
        PrintJob.objects.filter(pk=job.pk, status=Status.FAILED).update(
            status=Status.PENDING,
            attempts=0,
            error_code="",
            error_message="",
            sent_at=None,
            started_at=None,
            finished_at=None,
        )
        job.status = Status.PENDING
        who = username(requested_by)
        _record(job, Status.PENDING, _("Retried by %(user)s") % {"user": who} if who else _("Retried"))
        transaction.on_commit(partial(notify.job_wakeup, job.printer_id, job.pk))
    log.info("job=%s printer=%s status=pending retry=manual", job.pk, job.printer_id)
    return job


def job_set_priority(*, job_id, priority, requested_by=None):
    """Change the priority of a job still waiting in the queue (1 prints first).

    Not a state transition: no event is written. Once the job has gone to the agent its place
    in the printer's queue is settled, so only pending jobs can change.
    """
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 10:
        raise PrintError(_("Priority must be a whole number from 1 to 10."), "bad_priority")
    job = PrintJob.objects.filter(pk=job_id).only("pk", "status", "printer_id").first()
    if job is None:
        raise PrintError(_("Print job not found."), "not_found")
    if not PrintJob.objects.filter(pk=job_id, status=Status.PENDING).update(priority=priority):
        raise PrintError(
            _("The priority of job #%(id)s cannot change: it is no longer queued.") % {"id": job_id},
            "not_pending",
        )
    job_notify_staff(job_id)
    who = username(requested_by)
    log.info("job=%s printer=%s priority=%s%s", job_id, job.printer_id, priority, f" user={who}" if who else "")
    return priority


def jobs_expire(*, now=None):
    """Fail jobs that never printed within CANTINA_JOB_EXPIRY_HOURS (or, still queued, by their own
    ``expires_at``), with reason ``expired``."""
    cutoff = database_time_ago(timedelta(hours=settings.CANTINA_JOB_EXPIRY_HOURS), now=now)
    expired = []
    # A job left "printing" by an agent that never came back needs a person as much as one
    # that never left the queue.
    stale = PrintJob.objects.queued().filter(created_at__lt=cutoff) | PrintJob.objects.filter(
        status=Status.PENDING, expires_at__lte=now or Now()
    )
    for job in stale.only("pk", "status", "printer_id"):
        with transaction.atomic():
            if PrintJob.objects.filter(pk=job.pk, status=job.status).update(
                status=Status.FAILED,
                error_code="expired",
                finished_at=now or Now(),
                error_message=_("Not printed within %(hours)s hours") % {"hours": settings.CANTINA_JOB_EXPIRY_HOURS},
            ):
                job.status = Status.FAILED
                _record(job, Status.FAILED, _("Expired: not printed in time"))
                expired.append(job.pk)
                log.info("job=%s printer=%s status=failed error_code=expired", job.pk, job.printer_id)
    return expired


# --- printers and their agents -------------------------------------------------------------


def printer_issue_token(*, printer):
    """Issue a new agent token (returned once, only its hash is stored); the old one stops working."""
    token = printer.issue_token()
    printer.save(update_fields=["token_hash", "token_prefix", "token_issued_at"])
    transaction.on_commit(partial(notify.agent_recheck, printer.pk))
    log.info("printer=%s event=token_issued", printer.pk)
    return token


def printer_revoke_token(*, printer):
    printer.revoke_token()
    printer.save(update_fields=["token_hash", "token_prefix", "token_issued_at"])
    transaction.on_commit(partial(notify.agent_recheck, printer.pk))
    log.info("printer=%s event=token_revoked", printer.pk)


def printer_set_active(*, printer, active):
    printer.is_active = active
    with transaction.atomic():  # the change and its webhook event commit together
        printer.save(update_fields=["is_active"])
        transaction.on_commit(partial(notify.agent_recheck, printer.pk))
        _notify_printer(printer.pk)
    log.info("printer=%s event=%s", printer.pk, "enabled" if active else "disabled")


AUTH_FIELDS = (
    "id",
    "name",
    "is_active",
    "token_hash",
    "paper_width",
    "profile",
    "has_cutter",
    "status",
    "connected",
)


def printer_authenticate(token):
    """Return plain data about the printer this token belongs to, or None.

    One indexed read (``token_prefix``) of the few columns the connection needs, no model built:
    a restart makes every agent reconnect at once, and each one costs this.
    """
    if not token or len(token) < TOKEN_PREFIX_LENGTH or len(token) > 200:
        return None
    token_hash = hash_token(token)
    # A cloud printer's secret is not an agent token: an agent holding it would take its jobs.
    for row in statements.printers_by_token_prefix(token[:TOKEN_PREFIX_LENGTH], AUTH_FIELDS):
        if row["token_hash"] and hmac.compare_digest(row["token_hash"], token_hash):
            return row
    return None


def agent_session_start(*, token, channel_name, check=False):
    """An agent connection's start, in one database call: who it is and, unless it only checks
    its token (or is refused), the printer marked connected (``printer_connected``).

    Returns the ``printer_authenticate`` data (or None).
    """
    printer = printer_authenticate(token)
    if printer is not None and printer["is_active"] and not check:
        printer_connected(printer_id=printer["id"], channel_name=channel_name, was_connected=printer["connected"])
    return printer


def agent_delivery_start(*, printer_id, channel_name):
    """After a (re)connect, in one database call: the payloads to send, in-flight jobs first
    (re-sent with the same ids, delivery rule 3), then this printer's pending jobs claimed."""
    payloads = selectors.jobs_in_flight(printer_id=printer_id)
    claimed = jobs_claim(printer_id=printer_id, channel_name=channel_name)
    return payloads, claimed


def printer_connected(*, printer_id, channel_name, was_connected=False):
    """Mark the printer connected through ``channel_name``.

    Staff (and webhooks) hear of it only when the printer comes online: an agent that replaces a
    connection the row still holds (a server restart, a reconnect before the old socket's close
    was seen) changes nothing staff see, and the summary sent for it (a queue count per agent)
    was a fifth of a reconnect storm's CPU. ``was_connected`` (what authentication read) only
    picks which conditional update runs first; the update that matches decides.
    """
    came_online = False
    with transaction.atomic():
        # Written-out statements (printing.statements): a restart brings every agent back at once.
        if not was_connected or not statements.printer_keep_connection(printer_id, channel_name):
            came_online = statements.printer_come_online(printer_id, channel_name)
            if not came_online and not was_connected:
                statements.printer_keep_connection(printer_id, channel_name)
        _incident_close(printer_id, PrinterIncident.Reason.NO_AGENT)
        if came_online:
            _notify_printer(printer_id)
    log.info("printer=%s event=agent_connected", printer_id)


def printer_disconnected(*, printer_id, channel_name):
    """Mark the printer offline, unless a newer connection already took it over."""
    with transaction.atomic():
        changed = Printer.objects.filter(pk=printer_id, connection_channel=channel_name).update(
            connected=False, connection_channel="", last_seen_at=Now()
        )
        if changed:
            _incident_open(printer_id, PrinterIncident.Reason.NO_AGENT)
            _notify_printer(printer_id)
    log.info("printer=%s event=agent_disconnected", printer_id)


def printer_report(*, printer_id, status, model="", agent_version="", message=""):
    """Apply an agent's ``printer_info``. Returns (previous status, new status)."""
    if status not in Printer.Status.values:
        status = Printer.Status.UNKNOWN
    reported = {
        "status": status,
        "model_name": (model or "")[:80],
        "agent_version": (agent_version or "")[:40],
        "status_message": (message or "")[:200],
    }
    # An agent reconnecting says what the row already holds: no write (a restart brings every
    # agent back at once, and SQLite has one writer). ``last_seen_at`` is the sweep's to refresh.
    if statements.printer_reported_as(printer_id, reported):
        return status, status
    with transaction.atomic():
        previous = Printer.objects.filter(pk=printer_id).values_list("status", flat=True).first()
        Printer.objects.filter(pk=printer_id).update(**reported, last_seen_at=Now())
        if previous != status:
            _incidents_follow_status(printer_id, status)
            _notify_printer(printer_id)
            log.info("printer=%s status=%s previous=%s", printer_id, status, previous)
    return previous, status


def printers_touch(printer_ids):
    """Called by each process's sweep for the printers whose agents it holds."""
    if printer_ids:
        Printer.objects.filter(pk__in=printer_ids).update(last_seen_at=Now(), connected=True)


def printers_mark_stale(*, now=None):
    """Mark offline the printers whose server process died without saying goodbye.

    A live connection's process touches ``last_seen_at`` at every sweep, so a printer still
    marked connected but unseen for several sweeps has no connection anywhere.
    """
    unseen_for = timedelta(seconds=max(30, 5 * settings.CANTINA_SWEEP_INTERVAL))
    cutoff = database_time_ago(unseen_for, now=now)
    # Cloud printers poll at their own interval: printing.cloud.services.cloud_printers_mark_stale.
    agents = Printer.objects.filter(transport=Printer.Transport.AGENT)
    stale = list(agents.filter(connected=True, last_seen_at__lt=cutoff).values_list("pk", flat=True))
    for printer_id in stale:
        with transaction.atomic():
            if Printer.objects.filter(pk=printer_id, connected=True, last_seen_at__lt=cutoff).update(
                connected=False, connection_channel=""
            ):
                _incident_open(printer_id, PrinterIncident.Reason.NO_AGENT)
                _notify_printer(printer_id)
                log.info(
                    "printer=%s event=agent_lost reason=not_seen_for=%ss", printer_id, int(unseen_for.total_seconds())
                )
    return stale


def printers_open_never_connected():
    """An active auto-printing agent printer with no agent and no open "no agent" incident gets one.

    A printer whose agent never connected (just added, or enabled) has no disconnect to open it,
    yet it prints nothing: the alarm counts from the first sweep after it was added or enabled.
    """
    open_no_agent = PrinterIncident.objects.filter(
        printer=OuterRef("pk"), reason=PrinterIncident.Reason.NO_AGENT, ended_at__isnull=True
    )
    candidates = Printer.objects.filter(is_active=True, transport=Printer.Transport.AGENT, connected=False).exclude(
        Exists(open_no_agent)
    )
    opened = [pk for pk, channels in candidates.values_list("pk", "auto_print") if normalize_channels(channels)]
    for printer_id in list(opened):
        with transaction.atomic():
            # Under the printer's row lock: an agent connecting meanwhile closes it, or is seen here.
            if Printer.objects.select_for_update().filter(pk=printer_id, connected=False).exists():
                _incident_open(printer_id, PrinterIncident.Reason.NO_AGENT)
            else:
                opened.remove(printer_id)
    return opened


# --- incidents (printer-down alarm) --------------------------------------------------------

STATUS_INCIDENTS = {
    Printer.Status.PAPER_OUT: PrinterIncident.Reason.PAPER_OUT,
    Printer.Status.COVER_OPEN: PrinterIncident.Reason.COVER_OPEN,
}


def _incident_open(printer_id, reason):
    """Open an incident unless one of this reason is open already (at most one, by constraint)."""
    if PrinterIncident.objects.filter(printer_id=printer_id, reason=reason, ended_at__isnull=True).exists():
        return
    try:
        with transaction.atomic():
            PrinterIncident.objects.create(printer_id=printer_id, reason=reason)
    except IntegrityError:
        return  # another process opened it first
    log.info("printer=%s event=incident_opened reason=%s", printer_id, reason)


def _incidents_close(printer_id, reasons):
    # Every connect and status report asks (a written-out statement: a restart brings every agent
    # back at once); nearly always there is nothing to close.
    for reason in statements.incidents_close(printer_id, list(reasons), at=timezone.now()):
        log.info("printer=%s event=incident_closed reason=%s", printer_id, reason)


def _incident_close(printer_id, reason):
    _incidents_close(printer_id, [reason])


def _incidents_follow_status(printer_id, status):
    reason = STATUS_INCIDENTS.get(status)
    if reason is not None:
        _incident_open(printer_id, reason)
    _incidents_close(printer_id, [other for other in STATUS_INCIDENTS.values() if other != reason])
