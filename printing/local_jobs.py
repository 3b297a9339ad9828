"""Local jobs: what an agent printed for a client on its own PC (``agent --listen``).

The agent prints them itself, through the same queue and journal as the server's jobs, and
reports each finished one with a ``local_job`` message (agent protocol v1), again after every
reconnect until the server confirms it. Here each report becomes one ``PrintJob`` of kind
``local`` with its history, so the admin, the dashboard and the staff pages see everything that
came out of the printer. Recording is idempotent: one job per (printer, local id).
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from printing import services
from printing.models import PrintJob, PrintJobEvent

log = logging.getLogger("cantina.printing")

LOCAL_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
FINAL_STATUSES = {"completed": PrintJob.Status.COMPLETED, "failed": PrintJob.Status.FAILED}
MAX_CONTENT = 16_000
MAX_EVENTS = 10


class LocalJobError(ValueError):
    """A ``local_job`` message that cannot be recorded; ``str()`` says why (protocol text, English)."""


@dataclass(frozen=True)
class LocalJobReport:
    """A validated ``local_job`` message."""

    local_id: str
    status: str
    source: str
    kind: str
    client_ref: str
    origin: str
    error_code: str
    message: str
    content: str
    events: tuple  # ((status, datetime | None, message), ...)


def _string(content, key, limit, required=False):
    value = content.get(key)
    if value is None:
        if required:
            raise LocalJobError(f'local_job needs "{key}".')
        return ""
    if not isinstance(value, str):
        raise LocalJobError(f'local_job "{key}" must be a string.')
    return value[:limit]


def _moment(value):
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_job_parse(content):
    """Check a ``local_job`` message (a dict); return a LocalJobReport or raise LocalJobError."""
    local_id = _string(content, "local_id", 64, required=True)
    if not LOCAL_ID.fullmatch(local_id):
        raise LocalJobError('local_job "local_id" must be 8 to 64 letters, digits, "-" or "_".')
    status = content.get("status")
    if status not in FINAL_STATUSES:
        raise LocalJobError('local_job "status" must be completed or failed (report finished jobs).')
    client = content.get("client") if isinstance(content.get("client"), dict) else {}
    events = content.get("events") or []
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise LocalJobError(f'local_job "events" must be a list of at most {MAX_EVENTS} events.')
    parsed = []
    for event in events:
        if not isinstance(event, dict) or event.get("status") not in PrintJob.Status.values:
            raise LocalJobError('each local_job event needs a "status" among the job states.')
        message = event.get("message")
        parsed.append((event["status"], _moment(event.get("at")), message[:500] if isinstance(message, str) else ""))
    return LocalJobReport(
        local_id=local_id,
        status=status,
        source=_string(content, "source", 40, required=True),
        kind=_string(content, "kind", 20),
        client_ref=(client.get("ref") or "")[:100] if isinstance(client.get("ref") or "", str) else "",
        origin=(client.get("origin") or "")[:100] if isinstance(client.get("origin") or "", str) else "",
        error_code=_string(content, "error_code", 40),
        message=_string(content, "message", 500),
        content=_string(content, "content", MAX_CONTENT),
        events=tuple(parsed),
    )


def _source_label(report):
    parts = [report.source]
    if report.client_ref:
        parts.append(report.client_ref)
    if report.origin:
        parts.append(report.origin)
    return " · ".join(parts)[:200]


def local_job_record(*, printer_id, report):
    """Record one finished local job (idempotent). Returns (job id, status, error code)."""
    existing = (
        PrintJob.objects.filter(printer_id=printer_id, kind=PrintJob.Kind.LOCAL, local_id=report.local_id)
        .values_list("pk", "status", "error_code")
        .first()
    )
    if existing:
        return existing
    now = timezone.now()
    times = {status: at for status, at, _message in report.events if at is not None}
    created_at = times.get(PrintJob.Status.PENDING) or now
    finished_at = times.get(report.status) or now
    status = FINAL_STATUSES[report.status]
    source = _source_label(report)
    try:
        with transaction.atomic():
            job = PrintJob.objects.create(
                printer_id=printer_id,
                kind=PrintJob.Kind.LOCAL,
                status=status,
                local_id=report.local_id,
                source=source,
                content=report.content,
                document={
                    "local": {
                        "source": report.source,
                        "kind": report.kind,
                        "client_ref": report.client_ref,
                        "origin": report.origin,
                    }
                },
                copies=1,
                attempts=1,
                max_retries=0,
                error_code=report.error_code if status == PrintJob.Status.FAILED else "",
                error_message=(report.message or report.error_code)[:500] if status == PrintJob.Status.FAILED else "",
                created_at=created_at,
                sent_at=created_at,
                started_at=times.get(PrintJob.Status.PRINTING),
                finished_at=finished_at,
            )
            labels = {
                PrintJob.Status.PENDING: _("Local job from %(source)s") % {"source": source},
                PrintJob.Status.PRINTING: _("Printing"),
                PrintJob.Status.COMPLETED: _("Printed"),
            }
            events = report.events or ((status, finished_at, report.message),)
            PrintJobEvent.objects.bulk_create(
                [
                    PrintJobEvent(
                        job=job,
                        status=event_status,
                        at=at or now,
                        message=(
                            message
                            if event_status == PrintJob.Status.FAILED and message
                            else labels.get(event_status, message)
                        )[:500],
                    )
                    for event_status, at, message in events
                ]
            )
            services.job_notify_staff(job.pk)
    except IntegrityError:  # the same report through another connection, at the same moment
        return (
            PrintJob.objects.filter(printer_id=printer_id, kind=PrintJob.Kind.LOCAL, local_id=report.local_id)
            .values_list("pk", "status", "error_code")
            .get()
        )
    log.info(
        "job=%s printer=%s kind=local source=%s status=%s%s",
        job.pk,
        printer_id,
        report.source,
        status,
        f" error_code={report.error_code}" if report.error_code else "",
    )
    return job.pk, job.status, job.error_code
