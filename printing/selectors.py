"""Read models: what pages, live events, the agent sweep, /health and the dashboard read.

Nothing here changes the database. Each shape has one builder: ``job_summary`` is THE job as
staff pages and live events (/ws/staff/) see it, ``printer_summary`` THE printer; the batch
variants build the same dicts for many rows in one or two queries.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from cantina.timeutils import today_bounds
from printing import statements
from printing.display import (
    PRINTER_STATUS_TONE,
    printer_connection_label,
    printer_connection_tone,
    time_ago,
)
from printing.history import history_message
from printing.models import Printer, PrintJob
from printing.protocol import job_payload

Status = PrintJob.Status
STATUS_LABELS = dict(Status.choices)

# --- jobs and printers as staff pages and live events see them -----------------------------

# values(): every transition sends a summary, and a whole row would also load and decode the
# job's document, text and ESC/POS, which a summary never shows.
_JOB_SUMMARY_FIELDS = (
    "pk",
    "order_id",
    "order__number",
    "printer_id",
    "printer__name",
    "kind",
    "status",
    "attempts",
    "error_code",
    "error_message",
    "created_at",
    "finished_at",
)


def _job_summary(row):
    return {
        "id": row["pk"],
        "order_id": row["order_id"],
        "order_number": row["order__number"],
        "printer_id": row["printer_id"],
        "printer_name": row["printer__name"],
        "kind": row["kind"],
        "status": row["status"],
        "status_label": str(STATUS_LABELS.get(row["status"], row["status"])),
        "attempts": row["attempts"],
        "error_code": row["error_code"],
        "error_message": row["error_message"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }


JOB_SUMMARY_FIELDS = _JOB_SUMMARY_FIELDS


def job_summary_from_row(row):
    """``job_summary`` of a row a caller already read with ``JOB_SUMMARY_FIELDS`` (no query)."""
    return _job_summary(row)


def job_summary_of(job):
    """``job_summary`` of a job just loaded or created, with its printer and order (no query).

    None when a field is not known without a query (a ``created_at`` the database has not
    returned): the caller then reads it after commit.
    """
    created_at = getattr(job, "created_at", None)
    if not hasattr(created_at, "isoformat"):
        return None
    return _job_summary(
        {
            "pk": job.pk,
            "order_id": job.order_id,
            "order__number": job.order.number if job.order_id else None,
            "printer_id": job.printer_id,
            "printer__name": job.printer.name,
            "kind": job.kind,
            "status": job.status,
            "attempts": job.attempts,
            "error_code": job.error_code,
            "error_message": job.error_message,
            "created_at": created_at,
            "finished_at": job.finished_at,
        }
    )


def job_summary(job_id):
    """Plain data about one job, as staff pages show it (None if it no longer exists)."""
    row = PrintJob.objects.filter(pk=job_id).values(*_JOB_SUMMARY_FIELDS).first()
    return _job_summary(row) if row is not None else None


def job_summaries(job_ids):
    """``job_summary`` of each existing job of ``job_ids``, by id, in one query."""
    rows = PrintJob.objects.filter(pk__in=list(job_ids)).values(*_JOB_SUMMARY_FIELDS).order_by("pk")
    return [_job_summary(row) for row in rows]


def annotate_queued(printers):
    """Annotate each printer of the queryset with ``queued``: its jobs not finished yet."""
    return printers.annotate(queued=Count("jobs", filter=Q(jobs__status__in=PrintJob.QUEUED_STATUSES)))


PRINTER_STATUS_LABELS = dict(Printer.Status.choices)


def _printer_summary(row):
    return {
        "id": row["pk"],
        "name": row["name"],
        "connected": row["connected"],
        "status": row["status"],
        "status_label": str(PRINTER_STATUS_LABELS.get(row["status"], row["status"])),
        "last_seen_at": row["last_seen_at"].isoformat() if row["last_seen_at"] else None,
        "queued": row["queued"],
        "is_active": row["is_active"],
    }


def printer_summary(printer):
    """Plain data about one printer, as staff pages show it.

    ``printer`` from ``printersannotate_queued()`` carries its queue count; any other costs a count.
    """
    queued = getattr(printer, "queued", None)
    if queued is None:
        queued = PrintJob.objects.queued().filter(printer=printer).count()
    fields = ("pk", "name", "connected", "status", "last_seen_at", "is_active")
    return _printer_summary({**{field: getattr(printer, field) for field in fields}, "queued": queued})


def printersannotate_queued(printer_ids=None):
    """Printers (all, or these) by name, each annotated with ``queued``: one query."""
    printers = Printer.objects.all() if printer_ids is None else Printer.objects.filter(pk__in=printer_ids)
    return annotate_queued(printers).order_by("name")


def printer_summaries(printer_ids=None):
    """``printer_summary`` of all printers (or these), by name. With ids (a connect, a status
    change: hot in a reconnect storm) one written-out statement, the same data."""
    if printer_ids is not None:
        return [_printer_summary(row) for row in statements.printer_summary_rows(list(printer_ids))]
    return [printer_summary(printer) for printer in printersannotate_queued()]


# --- the agent side: what to (re)send, who may stay connected ------------------------------


def job_payloads(job_ids, *, summaries=None):
    """``new_order`` payloads of these jobs, in the order given (missing ones left out).

    With a ``summaries`` list, also appends each job's ``job_summary`` to it (same query).
    """
    # Two fixed statements (the jobs with printer and order, the orders' items), not querysets:
    # every claim runs this (issue 16). Not the stored document: a payload carries its bytes.
    by_id = statements.jobs_for_delivery(job_ids)
    found = [by_id[job_id] for job_id in job_ids if job_id in by_id]
    if summaries is not None:
        summaries.extend(_job_summary(job) for job in found)
    return [job_payload(job) for job in found]


def jobs_in_flight(*, printer_id):
    """Payloads of jobs already sent to this printer but not finished: re-sent on reconnect."""
    return job_payloads(statements.in_flight_job_ids(printer_id))


def printers_with_pending_jobs(printer_ids):
    """Which of these printers have deliverable pending jobs (one query, for the sweeper)."""
    if not printer_ids:
        return set()
    return set(
        PrintJob.objects.filter(printer_id__in=printer_ids, status=Status.PENDING)
        .exclude(printer__status__in=Printer.BLOCKING_STATUSES)
        .values_list("printer_id", flat=True)
        .distinct()
    )


def jobs_cancelled(job_ids):
    """Which of these jobs are cancelled (one query, for the sweeper's lost-cancel check)."""
    return list(PrintJob.objects.filter(pk__in=list(job_ids), status=Status.CANCELLED).values_list("pk", flat=True))


def printers_auth_state(printer_ids):
    """For the sweeper: {printer_id: (token_hash, is_active, connection_channel)}."""
    return {
        row[0]: row[1:]
        for row in Printer.objects.filter(pk__in=printer_ids).values_list(
            "pk", "token_hash", "is_active", "connection_channel"
        )
    }


# --- monitoring -----------------------------------------------------------------------------


def queue_stats():
    """Counts for monitoring (/health): jobs by status and the age of the oldest pending job."""
    by_status = dict(PrintJob.objects.values_list("status").annotate(n=Count("pk")).order_by())
    oldest = PrintJob.objects.filter(status=Status.PENDING).aggregate(oldest=Min("created_at"))["oldest"]
    printers = Printer.objects.aggregate(
        total=Count("pk", filter=Q(is_active=True)),
        connected=Count("pk", filter=Q(is_active=True, connected=True)),
    )
    return {
        "jobs": {status: by_status.get(status, 0) for status in Status.values},
        "oldest_pending_seconds": (timezone.now() - oldest).total_seconds() if oldest else None,
        "printers": printers,
    }


# --- the print dashboard (/admin/print/) ----------------------------------------------------

RECENT_FAILURES = 10
AGENT_FIELDS = ("id", "name", "url", "model_name", "agent_version", "last_seen", "status", "status_label")


def jobs_url(**filters):
    """The admin job list filtered as given."""
    return f"{reverse('admin:printing_printjob_changelist')}?{urlencode(filters)}"


def when(value, now):
    """A moment as the dashboard shows it: ISO, local display, and "… ago"."""
    if value is None:
        return {"iso": None, "display": _("never"), "ago": "", "ago_or_display": _("never")}
    local = timezone.localtime(value)
    display = date_format(local, "SHORT_DATETIME_FORMAT")
    ago = time_ago(value, now) if value <= now else ""
    return {"iso": local.isoformat(), "display": display, "ago": ago, "ago_or_display": ago or display}


def _seconds(value):
    return _("%(seconds)s s") % {"seconds": number_format(value, decimal_pos=1)}


def _today(now):
    start, end = today_bounds(now)
    jobs = PrintJob.objects.filter(created_at__gte=start, created_at__lt=end)
    counts = dict(jobs.values_list("status").annotate(n=Count("pk")).order_by())
    day_filter = {"created_at__gte": str(start), "created_at__lt": str(end)}
    durations = [
        (finished - created).total_seconds()
        for created, finished in jobs.filter(status=Status.COMPLETED, finished_at__isnull=False).values_list(
            "created_at", "finished_at"
        )
    ]
    average = round(sum(durations) / len(durations), 1) if durations else None
    return {
        "date": start.date().isoformat(),
        "date_display": date_format(start.date(), "DATE_FORMAT"),
        "total": sum(counts.values()),
        "total_url": jobs_url(**day_filter),
        "by_status": [
            {
                "status": status,
                "label": str(label),
                "count": counts.get(status, 0),
                "url": jobs_url(status__exact=status, **day_filter),
            }
            for status, label in Status.choices
        ],
        "average_seconds_to_print": average,
        "average_display": _seconds(average) if average is not None else "—",
    }


def _queue(now):
    queued = PrintJob.objects.queued()
    counts = dict(queued.values_list("status").annotate(n=Count("pk")).order_by())
    oldest = queued.filter(status=Status.PENDING).order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "pending": counts.get(Status.PENDING, 0),
        "in_flight": counts.get(Status.SENT, 0) + counts.get(Status.PRINTING, 0),
        "oldest_pending_seconds": round((now - oldest).total_seconds()) if oldest else None,
        "oldest_pending_display": timesince(oldest, now) if oldest else "—",
        "pending_url": jobs_url(status__exact=Status.PENDING),
        "in_flight_url": jobs_url(status__in=f"{Status.SENT},{Status.PRINTING}"),
    }


def _failures(now):
    jobs = (
        PrintJob.objects.filter(status=Status.FAILED)
        .select_related("printer", "order")
        .order_by("-finished_at", "-id")[:RECENT_FAILURES]
    )
    return [
        {
            "id": job.pk,
            "label": f"#{job.pk}",
            "url": reverse("admin:printing_printjob_change", args=[job.pk]),
            "printer": job.printer.name,
            "order": job.order.number if job.order else None,
            "order_label": f"#{job.order.number} {job.order.customer_name}".strip() if job.order else "—",
            "kind": str(job.get_kind_display()),
            "error_code": job.error_code,
            "reason": history_message(job.error_message) or job.error_code or _("no reason given"),
            "attempts": job.attempts,
            "finished": when(job.finished_at, now),
        }
        for job in jobs
    ]


def _printers(now):
    return [
        {
            "id": printer.pk,
            "name": printer.name,
            "location": printer.location,
            "url": reverse("admin:printing_printer_change", args=[printer.pk]),
            "is_active": printer.is_active,
            "connected": printer.connected,
            "connection_label": str(printer_connection_label(printer)),
            "connection_tone": printer_connection_tone(printer),
            "status": printer.status,
            "status_label": str(printer.get_status_display()),
            "status_tone": PRINTER_STATUS_TONE.get(printer.status, "muted"),
            "status_message": history_message(printer.status_message),
            "queued": printer.queued,
            "queued_url": jobs_url(printer__id__exact=printer.pk, status__in=",".join(PrintJob.QUEUED_STATUSES)),
            "last_seen": when(printer.last_seen_at, now),
            "model_name": printer.model_name,
            "agent_version": printer.agent_version,
        }
        for printer in printersannotate_queued()
    ]


def dashboard_data(now):
    """Everything the dashboard shows from the database, as plain JSON-ready data.

    The facts about this server process (``server``) are added by ``printing.dashboard_views``.
    """
    printers = _printers(now)
    connected = sum(1 for p in printers if p["connected"] and p["is_active"])
    active = sum(1 for p in printers if p["is_active"])
    return {
        "generated_at": timezone.localtime(now).isoformat(),
        "generated_at_display": date_format(timezone.localtime(now), "H:i:s"),
        "today": _today(now),
        "queue": _queue(now),
        "failures": _failures(now),
        "failures_url": jobs_url(status__exact=Status.FAILED),
        "printers": printers,
        "printers_connected": connected,
        "printers_active": active,
        "printers_summary": _("%(connected)d of %(active)d connected") % {"connected": connected, "active": active},
        "agents": [{key: p[key] for key in AGENT_FIELDS} for p in printers if p["connected"]],
    }


# --- printer-down alarm ----------------------------------------------------------------------


def _alarm_advice(reason):
    from printing.models import PrinterIncident

    return {
        PrinterIncident.Reason.NO_AGENT: _(
            "The printer's agent is not connected: is the printer's computer turned off? Check it and the network."
        ),
        PrinterIncident.Reason.PAPER_OUT: _("The printer is out of paper: check the paper."),
        PrinterIncident.Reason.COVER_OPEN: _("The printer's cover is open: close it."),
    }[reason]


def _never_connected_advice():
    return _(
        "Never connected: install and start the agent on the printer's computer "
        "(Admin → Printers → Issue a new agent token shows the command)."
    )


def _alarm_threshold():
    """How long an incident lasts before it is an alarm (and worth listing)."""
    return timedelta(seconds=settings.CANTINA_PRINTER_ALARM_SECONDS)


def printer_alarms(now=None):
    """Open incidents of active auto-printing printers that have lasted the alarm threshold.

    Plain data for /health, the staff pages' red bar and its JSON endpoint.
    """
    from printing.models import PrinterIncident, normalize_channels

    now = now or timezone.now()
    cutoff = now - _alarm_threshold()
    alarms = []
    for incident in (
        PrinterIncident.objects.filter(ended_at__isnull=True, started_at__lte=cutoff, printer__is_active=True)
        .select_related("printer")
        .order_by("started_at", "id")
    ):
        if not normalize_channels(incident.printer.auto_print):
            continue  # a printer that prints nothing by itself is not an emergency
        never = incident.reason == PrinterIncident.Reason.NO_AGENT and incident.printer.last_seen_at is None
        alarms.append(
            {
                "id": incident.pk,
                "printer_id": incident.printer_id,
                "printer": incident.printer.name,
                "reason": incident.reason,
                "reason_label": str(_("Agent never connected") if never else incident.get_reason_display()),
                "advice": _never_connected_advice() if never else _alarm_advice(incident.reason),
                "since": incident.started_at.isoformat(),
                "seconds": int((now - incident.started_at).total_seconds()),
            }
        )
    return alarms


def printer_incidents(limit=50, now=None):
    """Recent incidents (open first), with their duration, for the dashboard.

    Only those that lasted the alarm threshold (CANTINA_PRINTER_ALARM_SECONDS): the agents of a
    restarted server are away for a second or two, a printer just added waits for its agent's first
    connection, and such blips, which never raised the alarm, would push the real ones off the list.
    """
    from printing.models import PrinterIncident

    now = now or timezone.now()
    threshold = _alarm_threshold()
    lasted = Q(ended_at__isnull=True, started_at__lte=now - threshold) | Q(ended_at__gte=F("started_at") + threshold)
    incidents = list(
        PrinterIncident.objects.filter(lasted).select_related("printer").order_by("-started_at", "-id")[:limit]
    )
    for incident in incidents:
        incident.duration_seconds = int(incident.duration(now).total_seconds())
    return incidents
