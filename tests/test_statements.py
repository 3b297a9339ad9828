"""The delivery path's written-out statements (printing.statements) give what the ORM gives.

Claims and agent reports read and write through them (issue 16), so a difference here would be a
wrong payload or a wrong summary on every job: each is compared with the ORM's own answer, on
SQLite and (./dev test's second pass) PostgreSQL.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from printing import selectors, services, statements
from printing.models import PrintJob, PrintJobEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def printer(make_printer):
    return make_printer("Balcão", auto_print=["counter"])


def test_payload_total_is_the_orders_exact_decimal_total(printer, make_order):
    # Prices that floats cannot hold exactly: the sum must still be the ORM's Decimal total.
    order = make_order(items=[("Café", 3, "0.10"), ("Bolo", 7, "3.33"), ("Água", 1, "1999.99")])
    [job_id] = services.jobs_create_for_order(order_id=order.pk)

    [payload] = selectors.job_payloads([job_id])

    assert payload["order_info"]["total_amount"] == str(order.total) == "2023.60"
    assert payload["order_info"]["number"] == order.number
    assert payload["printer_config"] == {
        "paper_width": printer.paper_width,
        "printer_type": "thermal",
        "profile": printer.profile,
        "has_cutter": True,
    }


def test_payload_of_a_job_without_order_and_of_a_missing_job(printer):
    job = services.job_create_test_page(printer=printer)

    payloads = selectors.job_payloads([job.pk + 1000, job.pk])

    assert [payload["job_id"] for payload in payloads] == [job.pk]
    assert payloads[0]["order_info"] is None and payloads[0]["order_id"] is None


def test_summaries_from_statements_equal_the_orms(printer, make_order):
    order = make_order()
    [job_id] = services.jobs_create_for_order(order_id=order.pk)
    PrintJob.objects.filter(pk=job_id).update(finished_at=timezone.now())
    summaries = []

    selectors.job_payloads([job_id], summaries=summaries)
    with transaction.atomic():
        row = statements.job_for_report(job_id, printer.pk)

    expected = selectors.job_summary(job_id)
    assert summaries == [expected]
    assert selectors.job_summary_from_row(row) == expected
    assert timezone.is_aware(row["created_at"]) and timezone.is_aware(row["finished_at"])


def test_a_job_of_another_printer_is_not_found(printer, make_printer, make_order):
    other = make_printer("Cozinha", auto_print=[])
    [job_id] = services.jobs_create_for_order(order_id=make_order().pk)

    with transaction.atomic():
        assert statements.job_for_report(job_id, other.pk) is None
        assert statements.job_for_report(job_id, printer.pk)["pk"] == job_id


def test_pending_jobs_in_delivery_order_without_expired_ones(printer):
    now = timezone.now()
    low = services.job_create_test_page(printer=printer)
    urgent = services.job_create_test_page(printer=printer)
    expired = services.job_create_test_page(printer=printer)
    later = services.job_create_test_page(printer=printer)
    PrintJob.objects.filter(pk=urgent.pk).update(priority=1)
    PrintJob.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(seconds=1))
    PrintJob.objects.filter(pk=later.pk).update(expires_at=now + timedelta(minutes=5))

    with transaction.atomic():
        assert statements.pending_job_ids(printer.pk, now=now, limit=10) == [urgent.pk, low.pk, later.pk]
        assert statements.pending_job_ids(printer.pk, now=now, limit=1) == [urgent.pk]


def test_a_move_happens_only_from_the_stated_status(printer):
    job = services.job_create_test_page(printer=printer)
    now = timezone.now()

    assert not statements.job_move(job.pk, from_status="sent", updates={"status": "printing", "started_at": now})
    assert statements.job_move(job.pk, from_status="pending", updates={"status": "sent", "sent_at": now})
    assert statements.jobs_move([job.pk], from_status="pending", updates={"status": "sent"}) == 0

    job.refresh_from_db()
    assert (job.status, job.sent_at) == ("sent", now)


def test_events_and_rendered_output_are_stored_as_the_orm_reads_them(printer):
    job = services.job_create_test_page(printer=printer)
    at = timezone.now()
    statements.job_events_insert([(job.pk, "sent", "é" * 600, at)])
    job.document = {"version": "1.0", "commands": [{"type": "text", "data": {"content": "Olá"}}]}
    job.content, job.escpos = "Olá", b"\x1b@\x00\xff"

    statements.job_store_rendered(job)

    event = PrintJobEvent.objects.filter(job=job, status="sent").get()
    assert (event.message, event.at) == ("é" * 500, at)
    stored = PrintJob.objects.get(pk=job.pk)
    assert (stored.document, stored.content, bytes(stored.escpos)) == (job.document, "Olá", b"\x1b@\x00\xff")


def test_printers_auto_printing_leaves_out_disabled_and_silent_ones(printer, make_printer):
    make_printer("Cozinha", auto_print=[])
    make_printer("Desligada", auto_print=["counter"], is_active=False)
    both = make_printer("Portaria", auto_print="scheduled, counter")

    assert statements.printers_auto_printing() == [(printer.pk, ["counter"]), (both.pk, ["counter", "scheduled"])]


def test_money_is_decimal(printer, make_order):
    order = make_order(items=[("Pastel", 2, "7.25")])
    [job_id] = services.jobs_create_for_order(order_id=order.pk)

    total = statements.jobs_for_delivery([job_id])[job_id]["order__total"]

    assert isinstance(total, Decimal) and total == Decimal("14.50")


def test_order_lines_are_the_items_in_order_with_their_products_category(make_order):
    from orders.models import OrderItem, Product

    order = make_order(status="pending", items=[("Suco", 1, "6.00")])
    coxinha = Product.objects.create(name="Coxinha", category="Salgados", price=Decimal("7.25"))
    OrderItem.objects.create(order=order, product=coxinha, quantity=3, unit_price=Decimal("7.25"))

    lines = statements.order_lines(order.pk)

    assert [tuple(line) for line in lines] == [
        ("Suco", 1, Decimal("6.00"), ""),  # no product: no category
        ("Coxinha", 3, Decimal("7.25"), "Salgados"),
    ]
    assert order.total == Decimal("27.75")  # the same rule (orders.models.lines_total) as the receipt's


def test_token_prefix_lookup_finds_agent_printers_only_with_real_booleans(make_printer):
    from printing.models import Printer

    agent = make_printer("Balcão")
    cloud = make_printer("Nuvem")
    Printer.objects.filter(pk=cloud.pk).update(transport="cloudprnt", token_prefix=agent.token_prefix)
    agent.refresh_from_db()

    [row] = statements.printers_by_token_prefix(agent.token_prefix, ("id", "is_active", "connected", "token_hash"))

    assert row == {"id": agent.pk, "is_active": True, "connected": False, "token_hash": agent.token_hash}
    assert statements.printers_by_token_prefix("nope", ("id",)) == []


def test_printer_summaries_from_the_statement_equal_the_orms(make_printer, make_order):
    from printing.models import Printer

    first = make_printer("Balcão", auto_print=["counter"])
    second = make_printer("Cozinha", auto_print=[])
    services.jobs_create_for_order(order_id=make_order().pk)
    services.job_create_test_page(printer=second)
    Printer.objects.filter(pk=first.pk).update(connected=True, status="paper_out", last_seen_at=timezone.now())

    fast = selectors.printer_summaries([second.pk, first.pk])

    assert fast == [selectors.printer_summary(p) for p in selectors.printersannotate_queued()]
    assert [(row["name"], row["queued"], row["status_label"]) for row in fast] == [
        ("Balcão", 1, str(Printer.Status("paper_out").label)),
        ("Cozinha", 1, str(Printer.Status("unknown").label)),
    ]


def test_incidents_close_ends_only_open_ones_of_the_reasons_given(make_printer):
    from printing.models import PrinterIncident

    printer = make_printer()
    now = timezone.now()
    PrinterIncident.objects.create(printer=printer, reason="paper_out")
    PrinterIncident.objects.create(printer=printer, reason="no_agent")

    assert statements.incidents_close(printer.pk, ["paper_out", "cover_open"], at=now) == ["paper_out"]
    assert statements.incidents_close(printer.pk, ["paper_out"], at=now) == []

    ended = dict(PrinterIncident.objects.values_list("reason", "ended_at"))
    assert ended == {"paper_out": now, "no_agent": None}


def test_connection_updates_move_only_from_the_state_named_and_stamp_the_database_clock(make_printer):
    from printing.models import Printer

    printer = make_printer()
    before = timezone.now() - timedelta(seconds=5)

    assert not statements.printer_keep_connection(printer.pk, "chan-1")  # not connected yet
    assert statements.printer_come_online(printer.pk, "chan-1")
    assert not statements.printer_come_online(printer.pk, "chan-2")  # already online
    assert statements.printer_keep_connection(printer.pk, "chan-2")

    row = Printer.objects.get(pk=printer.pk)
    assert (row.connected, row.connection_channel) == (True, "chan-2")
    assert row.last_seen_at > before and timezone.is_aware(row.last_seen_at)
    assert statements.printer_reported_as(printer.pk, {"connected": True, "connection_channel": "chan-2"})
    assert not statements.printer_reported_as(printer.pk, {"connection_channel": "chan-1"})


def test_in_flight_jobs_in_delivery_order(printer):
    first, urgent, waiting = (services.job_create_test_page(printer=printer) for _ in range(3))
    PrintJob.objects.filter(pk=urgent.pk).update(priority=1, status="printing")
    PrintJob.objects.filter(pk=first.pk).update(status="sent")

    assert statements.in_flight_job_ids(printer.pk) == [urgent.pk, first.pk]
