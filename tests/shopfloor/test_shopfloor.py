"""Shop floor (issue 17): kitchen tickets, cash and drawer, sold out, edits, printer-down alarm."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import services as order_services
from orders.models import Order, Product
from orders.services import OrderError
from printing import selectors, services
from printing.models import Printer, PrinterIncident, PrintJob

DRAWER_PULSE = b"\x1bp\x00"  # ESC p, pin 0 (connector pin 2)


@pytest.fixture
def menu(db):
    return {
        "misto": Product.objects.create(name="Misto quente", category="Lanches", price=Decimal("9.00")),
        "suco": Product.objects.create(name="Suco de laranja", category="Bebidas", price=Decimal("6.00")),
        "coxinha": Product.objects.create(name="Coxinha", category="Salgados", price=Decimal("7.25")),
    }


@pytest.fixture
def floor(make_printer):
    return {
        "balcao": make_printer("Balcão", has_drawer=True, auto_print=["counter", "scheduled"]),
        "cozinha": make_printer(
            "Cozinha",
            auto_print=["counter", "scheduled"],
            kitchen_channels=["counter", "scheduled"],
            kitchen_categories=["Lanches"],
        ),
    }


def sell(menu, *lines, payment="cash", received=None, committed):
    with committed(execute=True):
        return order_services.order_create(
            channel="counter",
            items=[(menu[name].pk, quantity) for name, quantity in lines],
            customer_name="Ana",
            payment_method=payment,
            amount_received=received,
            confirm=True,
        )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_kitchen_printer_gets_only_its_categories_and_no_prices(menu, floor, committed):
    order = sell(menu, ("misto", 2), ("suco", 1), received="50", committed=committed)
    receipt = PrintJob.objects.get(order=order, printer=floor["balcao"])
    ticket = PrintJob.objects.get(order=order, printer=floor["cozinha"])
    assert (receipt.kind, ticket.kind) == ("order_receipt", "kitchen_ticket")
    assert "2x Misto quente" in ticket.content
    assert "Suco" not in ticket.content
    assert "R$" not in ticket.content and "9,00" not in ticket.content
    assert f"#{order.number}" in ticket.content
    assert "Misto quente" in receipt.content and "Suco de laranja" in receipt.content


def test_no_kitchen_ticket_when_the_kitchen_has_nothing_to_prepare(menu, floor, committed):
    order = sell(menu, ("suco", 1), payment="pix", committed=committed)
    assert list(PrintJob.objects.filter(order=order).values_list("printer__name", "kind")) == [
        ("Balcão", "order_receipt")
    ]


def test_kitchen_ticket_is_created_exactly_once(menu, floor, committed):
    order = sell(menu, ("misto", 1), payment="pix", committed=committed)
    with committed(execute=True):
        services.jobs_create_for_order(order_id=order.pk)
        order.save()
    assert PrintJob.objects.filter(order=order, kind="kitchen_ticket").count() == 1
    ticket = PrintJob.objects.get(order=order, kind="kitchen_ticket")
    assert list(ticket.events.values_list("status", flat=True)) == ["pending"]


def test_cash_sale_prints_received_and_change_and_pulses_only_the_receipt_printer(menu, floor, committed):
    order = sell(menu, ("misto", 1), ("suco", 1), received="20,00", committed=committed)
    assert order.amount_received == Decimal("20.00") and order.change_due == Decimal("5.00")
    receipt = PrintJob.objects.get(order=order, printer=floor["balcao"])
    ticket = PrintJob.objects.get(order=order, printer=floor["cozinha"])
    assert "Recebido" in receipt.content and "R$ 20,00" in receipt.content
    assert "Troco" in receipt.content and "R$ 5,00" in receipt.content
    assert DRAWER_PULSE in bytes(receipt.escpos)
    assert DRAWER_PULSE not in bytes(ticket.escpos)


def test_card_sale_does_not_open_the_drawer(menu, floor, committed):
    order = sell(menu, ("suco", 1), payment="card", committed=committed)
    assert DRAWER_PULSE not in bytes(PrintJob.objects.get(order=order, printer=floor["balcao"]).escpos)


@pytest.mark.parametrize(
    "received, code", [("5", "received_too_little"), ("abc", "bad_received"), ("NaN", "bad_received")]
)
def test_cash_received_below_the_total_or_not_a_number_is_refused(menu, floor, committed, received, code):
    with pytest.raises(OrderError) as error:
        sell(menu, ("misto", 1), received=received, committed=committed)
    assert error.value.code == code
    assert Order.objects.count() == 0


def test_sold_out_product_is_refused_with_a_clear_message(menu):
    order_services.product_set_sold_out(product_id=menu["coxinha"].pk, sold_out=True)
    with pytest.raises(OrderError, match="Coxinha” está esgotado"):
        order_services.order_create(channel="counter", items=[(menu["coxinha"].pk, 1)])


def test_counter_sold_out_toggle_needs_permission_and_hides_the_product(client, attendant_user, menu):
    # Decision (issue 17): the attendant's role has the narrow orders.mark_sold_out, no change_product
    # (tests/shopfloor/test_shopfloor_round2.py); a staff account without it is refused.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    counter_only = get_user_model().objects.create_user("caixa", password="x", is_staff=True)
    counter_only.user_permissions.add(*Permission.objects.filter(codename__in=["sell_at_counter", "view_order"]))
    client.force_login(counter_only)
    assert client.post(f"/products/{menu['coxinha'].pk}/sold-out/").status_code == 403
    client.force_login(attendant_user)
    response = client.post(f"/products/{menu['coxinha'].pk}/sold-out/")
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert f'data-add-product="{menu["coxinha"].pk}"' not in page
    assert f'data-sold-out-product="{menu["coxinha"].pk}"' in page
    client.post(f"/products/{menu['coxinha'].pk}/sold-out/", {"sold_out": "0"})
    assert f'data-add-product="{menu["coxinha"].pk}"' in client.get("/").content.decode()


def test_counter_view_refuses_cash_below_total_and_keeps_the_cart(client, attendant_user, menu):
    client.force_login(attendant_user)
    response = client.post(
        "/", {"product": [menu["misto"].pk], "quantity": [1], "payment_method": "cash", "amount_received": "5"}
    )
    assert response.status_code == 200
    assert "less than the total" in response.content.decode() or "menor que o total" in response.content.decode()
    assert Order.objects.count() == 0


def test_pending_order_can_be_edited_and_a_confirmed_one_cannot(menu):
    order = order_services.order_create(
        channel="scheduled",
        items=[(menu["misto"].pk, 1)],
        customer_name="Bia",
        scheduled_for=timezone.now() + timedelta(hours=2),
    )
    later = timezone.now() + timedelta(hours=3)
    order_services.order_edit(order_id=order.pk, items=[(menu["suco"].pk, 2)], scheduled_for=later, notes="sem gelo")
    order.refresh_from_db()
    assert [(item.name, item.quantity) for item in order.items.all()] == [("Suco de laranja", 2)]
    assert (order.notes, order.scheduled_for) == ("sem gelo", later)
    order_services.order_confirm(order_id=order.pk)
    with pytest.raises(OrderError) as error:
        order_services.order_edit(order_id=order.pk, items=[(menu["misto"].pk, 1)])
    assert error.value.code == "not_editable"


def test_printer_add_sets_up_a_kitchen_printer(db, capsys):
    call_command("printer_add", "Cozinha", "--kitchen-categories", "Lanches, Bebidas")
    printer = Printer.objects.get(name="Cozinha")
    assert printer.kitchen_categories == ["Lanches", "Bebidas"]
    assert printer.kitchen_channels == ["counter", "scheduled"]
    assert not printer.has_drawer
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("cp_")


def test_alarm_after_the_threshold_names_the_printer_and_health_is_503(floor, client, settings, committed):
    settings.CANTINA_PRINTER_ALARM_SECONDS = 30
    printer = floor["cozinha"]
    with committed(execute=True):
        services.printer_connected(printer_id=printer.pk, channel_name="one")
        services.printer_disconnected(printer_id=printer.pk, channel_name="one")
    incident = PrinterIncident.objects.get(printer=printer, ended_at__isnull=True)
    assert incident.reason == "no_agent"
    assert selectors.printer_alarms(now=incident.started_at + timedelta(seconds=29)) == []
    assert client.get("/health").status_code == 200

    PrinterIncident.objects.filter(pk=incident.pk).update(started_at=timezone.now() - timedelta(seconds=31))
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["printer_alarms"] == [
        {"printer": "Cozinha", "reason": "no_agent", "seconds": body["printer_alarms"][0]["seconds"]}
    ]

    with committed(execute=True):
        services.printer_connected(printer_id=printer.pk, channel_name="two")
    assert client.get("/health").status_code == 200
    assert PrinterIncident.objects.get(pk=incident.pk).ended_at is not None


def test_paper_out_opens_an_incident_and_ready_closes_it(floor, settings):
    printer = floor["balcao"]
    services.printer_report(printer_id=printer.pk, status="paper_out")
    services.printer_report(printer_id=printer.pk, status="paper_out")
    assert PrinterIncident.objects.filter(printer=printer, reason="paper_out", ended_at__isnull=True).count() == 1
    alarms = selectors.printer_alarms(
        now=timezone.now() + timedelta(seconds=settings.CANTINA_PRINTER_ALARM_SECONDS + 1)
    )
    assert [(alarm["printer"], alarm["reason"]) for alarm in alarms] == [("Balcão", "paper_out")]
    assert "paper" in alarms[0]["advice"] or "papel" in alarms[0]["advice"]
    services.printer_report(printer_id=printer.pk, status="ready")
    assert not PrinterIncident.objects.filter(ended_at__isnull=True).exists()


def test_printer_that_does_not_auto_print_raises_no_alarm(make_printer):
    printer = make_printer("Escritório", auto_print=[])
    PrinterIncident.objects.create(printer=printer, reason="no_agent", started_at=timezone.now() - timedelta(hours=1))
    assert selectors.printer_alarms() == []


def test_alarm_endpoint_is_for_staff(client, attendant_user, floor):
    assert client.get("/printers/alarms").status_code == 302
    client.force_login(attendant_user)
    assert client.get("/printers/alarms").json() == {"alarms": []}


def test_printers_page_says_offline_and_the_age_of_the_last_report_when_the_agent_is_gone(
    client, attendant_user, make_printer
):
    """Fix 6: not "the printer reports: ready" for a printer whose agent is offline."""
    printer = make_printer(
        "Balcão", status="ready", connected=False, last_seen_at=timezone.now() - timedelta(minutes=5)
    )
    client.force_login(attendant_user)
    page = client.get("/printers/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    reports = page.split("data-printer-reports>", 1)[1].split("</dd>", 1)[0]
    assert "offline (sem agente)" in reports
    assert "último relato há 5" in reports and "minutos" in reports
    assert printer.get_status_display() in reports  # as the last report said, dated


def test_day_close_page_and_printed_report(client, attendant_user, menu, floor, committed):
    sell(menu, ("misto", 2), received="20", committed=committed)  # cash 18,00
    sell(menu, ("suco", 1), payment="pix", committed=committed)  # pix 6,00
    cancelled = sell(menu, ("coxinha", 1), payment="card", committed=committed)
    with committed(execute=True):
        order_services.order_cancel(order_id=cancelled.pk)
    PrintJob.objects.filter(printer=floor["balcao"], order__payment_method="cash").update(status="completed")
    PrintJob.objects.filter(printer=floor["balcao"], order__payment_method="pix").update(status="failed")

    client.force_login(attendant_user)
    page = client.get("/day-close/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Fechamento do dia" in page
    assert "R$ 24,00" in page  # sold: 18 + 6, the cancelled order left out
    payments = page.split("data-by-payment", 1)[1].split("</table>", 1)[0]
    assert "Dinheiro" in payments and "R$ 18,00" in payments and "Pix" in payments and "R$ 6,00" in payments
    assert f"#{cancelled.number}" in page.split("data-cancelled", 1)[1].split("</ul>", 1)[0]
    receipts = page.split("data-receipts", 1)[1].split("</dl>", 1)[0]
    # printed: the cash receipt; failed: the pix receipt; waiting: the kitchen ticket.
    assert re.findall(r"<dd>(\d+)</dd>", receipts) == ["1", "1", "0", "1"]

    with committed(execute=True):
        response = client.post("/day-close/", {"printer": floor["balcao"].pk, "day": timezone.localdate().isoformat()})
    assert response.status_code == 302
    report = PrintJob.objects.filter(kind="document").get()
    assert report.printer == floor["balcao"]
    assert "FECHAMENTO DO DIA" in report.content and "R$ 24,00" in report.content


def test_dashboard_lists_incidents_with_their_duration(client, make_printer):
    from django.contrib.auth import get_user_model

    printer = make_printer("Cozinha")
    now = timezone.now()
    PrinterIncident.objects.create(
        printer=printer, reason="paper_out", started_at=now - timedelta(minutes=7), ended_at=now - timedelta(minutes=2)
    )
    PrinterIncident.objects.create(printer=printer, reason="no_agent", started_at=now - timedelta(minutes=3))
    client.force_login(get_user_model().objects.create_superuser("marta", password="x"))
    page = client.get("/admin/print/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    incidents = page.split('id="dashboard-incidents"', 1)[1].split("</table>", 1)[0]
    assert "sem papel" in incidents and "5\xa0minutos" in incidents
    assert "3\xa0minutos, ainda em curso" in incidents


def test_dashboard_leaves_out_blips_shorter_than_the_alarm_threshold(client, make_printer, settings):
    """A server restart or a printer just added is a second without agent: never an alarm, so
    not an incident staff should read about (nor one that pushes the real ones off the list)."""
    from django.contrib.auth import get_user_model

    settings.CANTINA_PRINTER_ALARM_SECONDS = 30
    printer = make_printer("Cozinha")
    now = timezone.now()
    PrinterIncident.objects.create(  # lasted the threshold: listed
        printer=printer, reason="paper_out", started_at=now - timedelta(minutes=7), ended_at=now - timedelta(minutes=6)
    )
    PrinterIncident.objects.create(  # a 2-second blip at a restart: not listed
        printer=printer, reason="no_agent", started_at=now - timedelta(minutes=5), ended_at=now - timedelta(seconds=298)
    )
    PrinterIncident.objects.create(printer=printer, reason="cover_open", started_at=now - timedelta(seconds=10))
    client.force_login(get_user_model().objects.create_superuser("marta", password="x"))
    page = client.get("/admin/print/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    incidents = page.split('id="dashboard-incidents"', 1)[1].split("</table>", 1)[0]
    assert "sem papel" in incidents
    assert "agente" not in incidents.lower() and "tampa" not in incidents.lower()
    assert [incident.reason for incident in selectors.printer_incidents(now=now)] == ["paper_out"]
    # The open one is listed once it has lasted the threshold.
    later = now + timedelta(seconds=25)
    assert [incident.reason for incident in selectors.printer_incidents(now=later)] == ["cover_open", "paper_out"]


def test_pending_scheduled_order_is_edited_from_its_page_and_a_confirmed_one_is_not(client, attendant_user, menu):
    pickup = timezone.localtime() + timedelta(days=1)
    order = order_services.order_create(
        channel="scheduled",
        items=[(menu["misto"].pk, 1)],
        customer_name="Bia",
        scheduled_for=pickup,
    )
    client.force_login(attendant_user)
    page = client.get(f"/scheduled/{order.pk}/edit/").content.decode()
    assert "Misto quente" in page and 'value="Bia"' in page
    response = client.post(
        f"/scheduled/{order.pk}/edit/",
        {
            "product": [menu["suco"].pk],
            "quantity": [3],
            "customer_name": "Bia",
            "pickup_day": pickup.date().isoformat(),
            "pickup_time": "15:30",
            "notes": "sem gelo",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert [(item.name, item.quantity) for item in order.items.all()] == [("Suco de laranja", 3)]
    assert (order.notes, timezone.localtime(order.scheduled_for).strftime("%H:%M")) == ("sem gelo", "15:30")
    assert 'data-action="edit"' in client.get(f"/scheduled/?day={pickup.date().isoformat()}").content.decode()

    order_services.order_confirm(order_id=order.pk)
    response = client.post(
        f"/scheduled/{order.pk}/edit/", {"product": [menu["misto"].pk], "quantity": [1]}, follow=True
    )
    assert [str(message) for message in response.context["messages"]] == [
        f"Order {order.number} is already confirmed: its items cannot change."
    ] or "já foi confirmado" in response.content.decode()
    assert [(item.name, item.quantity) for item in order.items.all()] == [("Suco de laranja", 3)]


def test_job_history_has_no_repeated_label_and_lists_show_dates(client, attendant_user, floor, committed):
    """Fix 7: no "na fila | na fila"; job lists show the date, not only the time."""
    with committed(execute=True):
        job = services.job_create_test_page(printer=floor["balcao"])
    client.force_login(attendant_user)
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    history = page.split('class="history"', 1)[1].split("</ol>", 1)[0]
    assert history.count("na fila") == 1
    assert "data-event-message" not in history
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert today in history
    assert today in client.get("/jobs/").content.decode()
