"""Printers panel: each printer's state at a glance, its queue, and a test print."""

import pytest
from django.utils import timezone

from printing.models import Printer, PrintJob
from tests.staff.conftest import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def printers(make_printer):
    online = make_printer("Balcão", location="Caixa")
    Printer.objects.filter(pk=online.pk).update(connected=True, status="ready", last_seen_at=timezone.now())
    no_paper = make_printer("Cozinha", paper_width=58)
    Printer.objects.filter(pk=no_paper.pk).update(connected=True, status="paper_out", status_message="Sem papel")
    offline = make_printer("Cantina 2")
    return online, no_paper, offline


def card_states(response):
    from printing.templatetags.printing_tags import printer_state

    return {printer.name: printer_state(printer) for printer in response.context["printers"]}


def test_panel_shows_whether_each_printer_is_online_out_of_paper_or_offline(staff_client, printers):
    response = staff_client.get("/printers/")
    assert response.status_code == 200
    assert card_states(response) == {"Balcão": "online", "Cozinha": "paper_out", "Cantina 2": "offline"}
    body = response.content.decode()
    for label in ("online", "out of paper", "offline", "Sem papel", "58 mm", "Caixa"):
        assert label in body


def test_header_chips_show_every_active_printer(staff_client, printers):
    body = staff_client.get("/").content.decode()
    for printer in printers:
        assert f'data-printer-chip="{printer.pk}"' in body


def test_panel_lists_each_printers_queued_jobs(staff_client, printers, make_order, committed):
    with committed():
        order = make_order(status="confirmed")
    job = PrintJob.objects.filter(order=order, printer=printers[0]).get()
    response = staff_client.get("/printers/")
    cards = {printer.name: printer for printer in response.context["printers"]}
    assert [queued.pk for queued in cards["Balcão"].queued_jobs] == [job.pk]
    assert f'data-job-badge="{job.pk}"' in response.content.decode()


def test_test_print_queues_a_test_page(staff_client, printers, committed):
    with committed():
        response = staff_client.post(f"/printers/{printers[0].pk}/test-print/", follow=True)
    job = PrintJob.objects.get()
    assert (job.printer, job.kind, job.status) == (printers[0], "test_page", "pending")
    assert messages_of(response) == [f"Test page queued on “Balcão” (job #{job.pk})."]


def test_test_print_on_a_disabled_printer_is_refused(staff_client, printers):
    Printer.objects.filter(pk=printers[2].pk).update(is_active=False)
    response = staff_client.post(f"/printers/{printers[2].pk}/test-print/", follow=True)
    assert messages_of(response) == ["Printer “Cantina 2” is disabled."]
    assert not PrintJob.objects.exists()


def test_panel_region_renders_without_the_page_around_it(staff_client, printers):
    response = staff_client.get("/printers/?region=panel")
    body = response.content.decode()
    assert "<html" not in body
    assert "Cozinha" in body


def test_printer_status_endpoint_gives_every_printers_summary(staff_client, printers):
    data = staff_client.get("/printers/status").json()
    by_name = {printer["name"]: printer for printer in data["printers"]}
    assert by_name["Balcão"]["connected"] is True
    assert by_name["Cozinha"]["status"] == "paper_out"
    assert by_name["Cantina 2"]["connected"] is False
    assert set(by_name["Balcão"]) >= {"id", "name", "connected", "status", "last_seen_at", "queued"}


def test_printer_status_endpoint_answers_in_a_fixed_number_of_queries(
    staff_client, printers, make_printer, django_assert_max_num_queries
):
    online, _no_paper, offline = printers
    for n in range(10):
        make_printer(f"Extra {n}")
    PrintJob.objects.create(printer=online)
    PrintJob.objects.create(printer=online, status="sent")
    PrintJob.objects.create(printer=online, status="completed")
    # Session, user, the account's permissions (its own and its groups', once per request) and ONE
    # printers query with their queue counts (was one count per printer).
    with django_assert_max_num_queries(5):
        data = staff_client.get("/printers/status").json()
    by_name = {printer["name"]: printer for printer in data["printers"]}
    assert len(by_name) == 13
    assert (by_name["Balcão"]["queued"], by_name["Cantina 2"]["queued"]) == (2, 0)
