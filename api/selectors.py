"""What API clients read: jobs, printers and orders as plain dicts, within a key's printers."""

from django.db.models import Prefetch
from django.urls import reverse

from orders.models import Order
from printing.models import Printer, PrintJob, PrintJobEvent
from printing.selectors import annotate_queued


def printers_for(client):
    printers = Printer.objects.all()
    if client.printer_ids is not None:
        printers = printers.filter(pk__in=client.printer_ids)
    return printers


def jobs_for(client):
    jobs = PrintJob.objects.select_related("printer").defer("document", "content", "escpos")
    if client.printer_ids is not None:
        jobs = jobs.filter(printer_id__in=client.printer_ids)
    return jobs


def printer_find(client, reference):
    """The printer with this id (int) or name (str) that the key may use, or None."""
    lookup = {"pk": reference} if isinstance(reference, int) else {"name": reference.strip()}
    return printers_for(client).filter(**lookup).first()


def _absolute(request, name, pk):
    return request.build_absolute_uri(reverse(f"api-v1:{name}", kwargs={"job_id" if "job" in name else "order_id": pk}))


def job_url(request, job_id):
    return _absolute(request, "print_job_detail", job_id)


def job_dict(request, job, *, events=None):
    data = {
        "id": job.pk,
        "status": job.status,
        "kind": job.kind,
        "printer": {"id": job.printer_id, "name": job.printer.name},
        "order_id": job.order_id,
        "title": job.title,
        "source": job.source,
        "raw_format": job.raw_format,
        "copies": job.copies,
        "priority": job.priority,
        "attempts": job.attempts,
        "max_retries": job.max_retries,
        "error_code": job.error_code,
        "error_message": job.error_message,
        "created_at": job.created_at.isoformat(),
        "sent_at": job.sent_at.isoformat() if job.sent_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "url": job_url(request, job.pk),
    }
    if events is not None:
        data["events"] = [
            {"status": event.status, "message": event.message, "at": event.at.isoformat()} for event in events
        ]
    return data


def job_detail(request, client, job_id):
    job = jobs_for(client).filter(pk=job_id).first()
    if job is None:
        return None
    return job_dict(request, job, events=PrintJobEvent.objects.filter(job_id=job.pk).order_by("at", "id"))


def printer_dicts(client):
    printers = annotate_queued(printers_for(client))
    return [
        {
            "id": printer.pk,
            "name": printer.name,
            "location": printer.location,
            "paper_width": printer.paper_width,
            "is_active": printer.is_active,
            "connected": printer.connected,
            "status": printer.status,
            "status_label": str(printer.get_status_display()),
            "status_message": printer.status_message,
            "queued": printer.queued,
            "last_seen_at": printer.last_seen_at.isoformat() if printer.last_seen_at else None,
        }
        for printer in printers.order_by("name")
    ]


def order_of_key(client, order_id):
    """An order created with this key (others are not its business), with items and receipts."""
    receipts = (
        PrintJob.objects.select_related("printer")
        .only("pk", "kind", "status", "error_code", "error_message", "order_id", "printer__name", "printer_id")
        .order_by("id")
    )
    if client.printer_ids is not None:
        receipts = receipts.filter(printer_id__in=client.printer_ids)
    return (
        Order.objects.filter(pk=order_id, api_origin__api_key_id=client.key_id)
        .select_related("api_origin")
        .prefetch_related("items", Prefetch("print_jobs", queryset=receipts, to_attr="receipts"))
        .first()
    )


def order_dict(request, order):
    items = order.items.all()
    return {
        "id": order.pk,
        "number": order.number,
        "external_id": order.api_origin.external_id,
        "status": order.status,
        "channel": order.channel,
        "customer_name": order.customer_name,
        "payment_method": order.payment_method,
        "scheduled_for": order.scheduled_for.isoformat() if order.scheduled_for else None,
        "notes": order.notes,
        "total": str(order.total),
        "items": [
            {
                "product": item.product_id,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price": str(item.unit_price),
                "line_total": str(item.line_total),
            }
            for item in items
        ],
        "receipts": [
            {
                "id": job.pk,
                "kind": job.kind,
                "printer": {"id": job.printer_id, "name": job.printer.name},
                "status": job.status,
                "error_code": job.error_code,
                "error_message": job.error_message,
                "url": job_url(request, job.pk),
            }
            for job in order.receipts
        ],
        "created_at": order.created_at.isoformat(),
        "confirmed_at": order.confirmed_at.isoformat() if order.confirmed_at else None,
        "url": _absolute(request, "order_detail", order.pk),
    }
