"""Cloud printers: hand a job out on a poll, render it on fetch, apply the printer's confirmation.

Exactly once, as for agents:

- A job is claimed (``pending → sent``) when a poll hands it out, through ``jobs_claim`` with a
  hand-out token stored on the job; the printer's fetch and confirmation name that token.
- A job handed out but not confirmed is handed out again, with the same token, to the same
  printer (a printer restarted between fetch and print asks again); never to another printer.
- A confirmation is applied by ``job_mark_status``: a repeated or late one changes nothing, and
  one naming an older hand-out of a job that went back to the queue is ignored.
- A job handed out and not confirmed within ``CANTINA_CLOUD_CONFIRM_SECONDS`` is failed
  ``interrupted`` (it may have printed): a person decides (``cloud_jobs_interrupt``).
- A printer that misses three polls shows offline (``cloud_printers_mark_stale``).
"""

import functools
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from printing import services
from printing.models import CLOUD_SECRET_BYTES, Printer, PrintJob

log = logging.getLogger("cantina.printing.cloud")

Status = PrintJob.Status
DIGEST_REALM = "Cantina Print"
STALE_AFTER_MISSED_POLLS = 3


class CloudError(Exception):
    def __init__(self, message, code="invalid"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Handout:
    job_id: int
    token: str


def digest_ha1(device_id, secret):
    """HTTP Digest's HA1 for the Epson printer's user name (its device ID) and secret."""
    return hashlib.md5(f"{device_id}:{DIGEST_REALM}:{secret}".encode()).hexdigest()


def cloud_printer_issue_secret(*, printer):
    """A new secret for a cloud printer (returned once; only hashes are kept)."""
    secret = printer.issue_token(nbytes=CLOUD_SECRET_BYTES)
    printer.digest_ha1 = digest_ha1(printer.device_id, secret) if printer.device_id else ""
    printer.save(update_fields=["token_hash", "token_prefix", "token_issued_at", "digest_ha1"])
    log.info("printer=%s event=cloud_secret_issued transport=%s", printer.pk, printer.transport)
    return secret


def _new_handout_token():
    # Epson's printjobid takes letters and digits: hex, 80 random bits.
    return secrets.token_hex(10)


def cloud_printer_poll(*, printer, status=None, message=""):
    """A poll from ``printer`` (already authenticated): record that it is alive and what it says
    of itself, then hand out the job it should print next, if any (a ``Handout``) or None.

    ``status`` is a ``Printer.Status`` value when the poll carries one (CloudPRNT), None when it
    doesn't (an Epson GetRequest: the printer is polling, so it is online; a paper or cover
    problem learnt from a failed job holds until ``CANTINA_CLOUD_RETRY_SECONDS`` have passed).
    """
    now = timezone.now()
    updates = {}
    if not printer.connected:
        updates["connected"] = True
    if status is not None:
        if status != printer.status:
            updates.update(status=status, status_message=(message or "")[:200], status_reported_at=now)
    elif printer.status in Printer.BLOCKING_STATUSES | {Printer.Status.UNKNOWN}:
        reported = printer.status_reported_at
        if (
            printer.status in {Printer.Status.OFFLINE, Printer.Status.UNKNOWN}
            or reported is None
            or (now - reported) >= timedelta(seconds=settings.CANTINA_CLOUD_RETRY_SECONDS)
        ):
            updates.update(status=Printer.Status.READY, status_message="")
    seen = printer.last_seen_at
    # Written every other poll or so: offline is three missed polls, so it never shows falsely.
    if updates or seen is None or (now - seen).total_seconds() >= 1.5 * printer.poll_interval:
        updates["last_seen_at"] = now
        if status is not None:
            updates["status_reported_at"] = now
        Printer.objects.filter(pk=printer.pk).update(**updates)
        for field, value in updates.items():
            setattr(printer, field, value)
    if "connected" in updates or "status" in updates:
        log.info("printer=%s event=cloud_poll status=%s connected=true", printer.pk, printer.status)
        services._notify_printer(printer.pk)
    if not printer.is_active or printer.status in Printer.BLOCKING_STATUSES:
        return None
    return _handout(printer)


# Statuses a poll looks at, in one query: handed out first ("sent" and "printing" sort after
# "pending" in reverse), then the queue in delivery order.
POLLED_STATUSES = [Status.PENDING, *PrintJob.IN_FLIGHT_STATUSES]


_SENTINEL = -7_340_033


@functools.lru_cache(maxsize=4)
def _next_job_sql(vendor):
    """The poll's one query, compiled by the ORM once per database vendor: every printer polls
    every few seconds, and building the query each time cost several times running it."""
    queryset = (
        PrintJob.objects.filter(printer_id=_SENTINEL, status__in=POLLED_STATUSES)
        .order_by("-status", "priority", "id")
        .values_list("pk", "status", "handout_token")[:1]
    )
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params), list(params).index(_SENTINEL)


def _next_job(printer_id):
    """(id, status, hand-out token) of the job a poll should hand out, or None."""
    sql, params, slot = _next_job_sql(connection.vendor)
    params = list(params)
    params[slot] = printer_id
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _handout(printer):
    row = _next_job(printer.pk)
    if row is None:
        return None  # the usual answer, in one indexed read
    job_id, status, token = row
    if status != Status.PENDING:
        # Handed out before and never confirmed: the same job again, with the same token.
        if not token:  # in flight from before the printer became a cloud printer
            PrintJob.objects.filter(pk=job_id, handout_token="").update(handout_token=_new_handout_token())
            token = PrintJob.objects.filter(pk=job_id).values_list("handout_token", flat=True).first()
        return Handout(job_id, token)
    token = _new_handout_token()
    claimed = services.jobs_claim(printer_id=printer.pk, handout_token=token)
    if not claimed:
        return None
    log.info("job=%s printer=%s event=handed_out", claimed[0]["job_id"], printer.pk)
    return Handout(claimed[0]["job_id"], token)


def _handed_out_job(printer, token):
    jobs = PrintJob.objects.filter(printer_id=printer.pk)
    if token:
        return jobs.filter(handout_token=token).first()
    # CloudPRNT before jobToken: the printer fetches and confirms "the current job".
    return jobs.filter(status__in=PrintJob.IN_FLIGHT_STATUSES).order_by("priority", "id").first()


def cloud_job_fetch(*, printer, token):
    """The job the printer fetches (marked printing), or CloudError ``not_found``."""
    job = _handed_out_job(printer, token)
    if job is None or job.status not in PrintJob.IN_FLIGHT_STATUSES:
        raise CloudError(_("No job was handed out to this printer with that token."), "not_found")
    if job.status == Status.SENT:
        services.job_mark_status(
            job_id=job.pk, printer_id=printer.pk, status="printing", message=_("Fetched by the printer")
        )
    return PrintJob.objects.select_related("printer", "order").get(pk=job.pk)


def cloud_job_confirm(*, printer, token, success, error_code="", message=""):
    """Apply the printer's result for the job handed out with ``token``. Idempotent: a repeated
    or late confirmation, or one for an older hand-out, changes nothing. Returns the job id or None."""
    job = _handed_out_job(printer, token)
    if job is None or job.status not in PrintJob.IN_FLIGHT_STATUSES:
        log.info("printer=%s event=confirmation_ignored token=%s", printer.pk, (token or "")[:8])
        return job.pk if job is not None else None
    if success:
        services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="completed", message=message)
    else:
        services.job_mark_status(
            job_id=job.pk,
            printer_id=printer.pk,
            status="failed",
            error_code=error_code or "error",
            message=message,
        )
    return job.pk


def cloud_printer_report_status(*, printer, status, message=""):
    """A status the printer sent by itself (Epson status notification)."""
    now = timezone.now()
    updates = {"status_reported_at": now, "last_seen_at": now, "connected": True}
    changed = status != printer.status or not printer.connected
    if status != printer.status:
        updates.update(status=status, status_message=(message or "")[:200])
    Printer.objects.filter(pk=printer.pk).update(**updates)
    if changed:
        log.info("printer=%s status=%s previous=%s", printer.pk, status, printer.status)
        services._notify_printer(printer.pk)


def cloud_printer_status_learnt(*, printer):
    """A job result told the printer's condition (Epson): it holds for CANTINA_CLOUD_RETRY_SECONDS."""
    Printer.objects.filter(pk=printer.pk).update(status_reported_at=timezone.now())


def cloud_printers_mark_stale(*, now=None):
    """Cloud printers that missed three polls show offline; returns their ids."""
    now = now or timezone.now()
    stale = []
    candidates = Printer.objects.filter(connected=True).exclude(transport=Printer.Transport.AGENT)
    for printer_id, interval, seen in candidates.values_list("pk", "poll_interval", "last_seen_at"):
        cutoff = now - timedelta(seconds=STALE_AFTER_MISSED_POLLS * max(1, interval))
        if seen is not None and seen >= cutoff:
            continue
        with transaction.atomic():
            if Printer.objects.filter(pk=printer_id, connected=True, last_seen_at=seen).update(connected=False):
                stale.append(printer_id)
                services._notify_printer(printer_id)
                log.info("printer=%s event=cloud_printer_lost not_seen_since=%s", printer_id, seen and seen.isoformat())
    return stale


def cloud_jobs_interrupt(*, now=None):
    """Fail ``interrupted`` the jobs handed out to cloud printers and never confirmed in time."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CANTINA_CLOUD_CONFIRM_SECONDS)
    overdue = PrintJob.objects.filter(status__in=PrintJob.IN_FLIGHT_STATUSES, sent_at__lt=cutoff).exclude(
        printer__transport=Printer.Transport.AGENT
    )
    failed = []
    reason = _(
        "Handed out to the printer but never confirmed: it may have printed. Check the paper, then retry or reprint."
    )
    for job in overdue.only("pk", "status", "printer_id"):
        with transaction.atomic():
            if PrintJob.objects.filter(pk=job.pk, status=job.status).update(
                status=Status.FAILED,
                error_code="interrupted",
                error_message=reason[:500],
                finished_at=now,
            ):
                job.status = Status.FAILED
                services._record(job, Status.FAILED, reason)
                failed.append(job.pk)
                log.info("job=%s printer=%s status=failed error_code=interrupted", job.pk, job.printer_id)
    return failed


def cloud_maintenance(*, now=None):
    """The periodic work of cloud printers (run by every server process's maintenance)."""
    return {"stale": cloud_printers_mark_stale(now=now), "interrupted": cloud_jobs_interrupt(now=now)}
