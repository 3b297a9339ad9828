"""Shop floor, the rest of issue 17: history in the reader's language, the admin's names and labels,
and the three decisions (an attendant marks sold out, a never-connected agent raises the alarm,
a cash sale in N copies opens the drawer once)."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import roles
from orders import services as order_services
from orders.models import Product
from printing import selectors, services
from printing.history import history_message
from printing.models import Printer, PrinterIncident, PrintJob, PrintJobEvent
from printing.receipts import PrinterSpec
from printing.rendering import render_escpos
from printing.rendering.to_epos_xml import render_epos_xml

DRAWER_PULSE = b"\x1bp"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def menu(db):
    return {
        "misto": Product.objects.create(name="Misto quente", category="Lanches", price=Decimal("9.00")),
        "coxinha": Product.objects.create(name="Coxinha", category="Salgados", price=Decimal("7.25")),
    }


# --- history in the reader's language ------------------------------------------------------------


@pytest.mark.parametrize(
    "stored, english, portuguese",
    [
        ("sending to the printer", "Sending to the printer", "Enviando para a impressora"),  # the agent's
        ("printed", "Printed", "impresso"),  # the agent's
        ("queued at the agent", "Queued at the agent", "Na fila do agente"),
        ("na fila", "Queued", "na fila"),  # stored in Portuguese (the default language)
        ("Enviado ao agente", "Sent to the agent", "Enviado ao agente"),
        ("Queued", "Queued", "na fila"),  # stored in English
        ("Cancelado por marta", "Cancelled by marta", "Cancelado por marta"),
        ("Reimpressão da impressão nº 12", "Reprint of job #12", "Reimpressão da impressão nº 12"),
        ("Paper jam at the cutter", "Paper jam at the cutter", "Paper jam at the cutter"),  # the printer's own
        ("", "", ""),
    ],
)
def test_history_messages_are_shown_in_the_readers_language(stored, english, portuguese):
    with translation.override("en"):
        assert history_message(stored) == english
    with translation.override("pt-br"):
        assert history_message(stored) == portuguese


# The agent's own failure texts (agent/client.py, agent/printers.py), with the parameters it fills in.
AGENT_FAILURES = [
    (
        "the agent stopped while printing this job; it may be partly printed (reprint it if needed)",
        "The agent stopped while printing this job; it may be partly printed (reprint it if needed)",
        "O agente parou enquanto imprimia esta impressão; ela pode ter saído pela metade (reimprima se precisar)",
    ),
    (
        "printer connection broke while printing (the printer stopped reading: 120 of 4096 bytes not taken"
        " after 3 s); may be partly printed",
        "printer connection broke while printing (the printer stopped reading: 120 of 4096 bytes not taken"
        " after 3 s); may be partly printed",
        "a conexão com a impressora caiu durante a impressão (a impressora parou de ler: 120 de 4096 bytes não"
        " recebidos após 3 s); pode ter saído pela metade",
    ),
    (
        "printer connection broke while printing ([Errno 111] Connection refused); may be partly printed",
        "printer connection broke while printing ([Errno 111] Connection refused); may be partly printed",
        "a conexão com a impressora caiu durante a impressão ([Errno 111] Connection refused); pode ter saído"
        " pela metade",  # the operating system's text stays as it came
    ),
    (
        "the printer stopped taking data for 3 s in the middle of the job",
        "the printer stopped taking data for 3 s in the middle of the job",
        "a impressora parou de receber dados por 3 s no meio da impressão",
    ),
    (
        "agent disk full: cannot write its journal, not printing",
        "agent disk full: cannot write its journal, not printing",
        "agente com disco cheio: não consegue gravar seu diário, não está imprimindo",
    ),
]


@pytest.mark.parametrize("stored, english, portuguese", AGENT_FAILURES)
def test_the_agents_failure_texts_are_shown_in_the_readers_language(stored, english, portuguese):
    with translation.override("en"):
        assert history_message(stored) == english
    with translation.override("pt-br"):
        assert history_message(stored) == portuguese


def test_the_agent_still_writes_the_failure_texts_the_server_translates():
    """Each English text above is the agent's: a rewording there must come with the server's."""
    from pathlib import Path

    agent = "".join(path.read_text(encoding="utf-8") for path in Path("agent").glob("*.py"))
    for fragment in [
        "the agent stopped while printing this job; it may be partly printed (reprint it if needed)",
        'f"printer connection broke while printing ({exc}); may be partly printed"',
        'f"the printer stopped reading: {unread} of {len(data)} bytes not taken "',
        '"the printer stopped taking data for {self.write_timeout:g} s in the middle of the job"',
        "cannot write its journal, not printing",
        '"disk_full": "disk full"',
    ]:
        assert fragment in agent, fragment


def test_a_printers_error_message_from_the_agent_is_shown_in_the_readers_language(make_printer):
    printer = make_printer("Cozinha")
    Printer.objects.filter(pk=printer.pk).update(
        status="error", status_message="agent disk full: cannot write its journal, not printing"
    )
    with translation.override("pt-br"):
        [row] = [row for row in selectors.dashboard_data(timezone.now())["printers"] if row["id"] == printer.pk]
    assert row["status_message"] == "agente com disco cheio: não consegue gravar seu diário, não está imprimindo"


def test_a_retry_reason_that_is_a_known_message_is_translated_too():
    with translation.override("pt-br"):
        stored = gettext("Will retry when the printer is ready: %(reason)s") % {
            "reason": gettext("Printer reported a failure")
        }
    assert not stored.startswith("Will retry")  # stored in Portuguese
    with translation.override("en"):
        assert history_message(stored) == "Will retry when the printer is ready: Printer reported a failure"


def job_with_agent_history(printer, committed):
    """A test page printed the way a real agent reports it (English messages), its queue message
    stored in Portuguese (the server's default language)."""
    with committed(execute=True), translation.override("pt-br"):
        job = services.job_create_test_page(printer=printer)
        services.jobs_claim(printer_id=printer.pk)
        services.job_mark_status(
            job_id=job.pk, printer_id=printer.pk, status="printing", message="sending to the printer"
        )
        services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="completed", message="printed")
    stored = list(PrintJobEvent.objects.filter(job=job).values_list("message", flat=True))
    assert stored == ["na fila", "Enviado ao agente", "sending to the printer", "printed"]
    return job


def history_of(page):
    history = page.split('class="history"', 1)[1].split("</ol>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", history))


def test_staff_job_page_shows_the_history_in_english_and_in_portuguese(client, attendant_user, make_printer, committed):
    job = job_with_agent_history(make_printer("Balcão"), committed)
    client.force_login(attendant_user)
    english = history_of(client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Sending to the printer" in english and "Sent to the agent" in english
    assert "sending to the printer" not in english and "na fila" not in english and "Enviado" not in english
    assert english.count("Printed") == 1  # the badge, and no repeated message under it

    portuguese = history_of(client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode())
    assert "Enviando para a impressora" in portuguese and "Enviado ao agente" in portuguese
    assert "sending" not in portuguese and "printed" not in portuguese.lower().replace("impresso", "")


def test_a_failure_reason_from_the_agent_is_shown_in_portuguese_on_the_jobs_pages(
    client, attendant_user, make_printer, django_user_model, committed
):
    printer = make_printer("Balcão")
    with committed(execute=True):
        services.job_create_test_page(printer=printer)
    [payload] = services.jobs_claim(printer_id=printer.pk)
    stopped = "the agent stopped while printing this job; it may be partly printed (reprint it if needed)"
    services.job_mark_status(
        job_id=payload["job_id"], printer_id=printer.pk, status="failed", error_code="interrupted", message=stopped
    )
    portuguese = "O agente parou enquanto imprimia esta impressão"
    client.force_login(attendant_user)
    for url in ["/jobs/", f"/jobs/{payload['job_id']}/"]:
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
        assert portuguese in page and stopped not in page, url
    client.force_login(django_user_model.objects.create_superuser("marta", "m@example.com", "x"))
    page = client.get("/admin/printing/printjob/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert portuguese[:40] in page and stopped[:40] not in page


def test_admin_job_history_follows_the_language(client, make_printer, committed, django_user_model):
    job = job_with_agent_history(make_printer("Balcão"), committed)
    client.force_login(django_user_model.objects.create_superuser("marta", "m@example.com", "x"))
    url = f"/admin/printing/printjob/{job.pk}/change/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sending to the printer" in english and "sending to the printer" not in english
    assert ">na fila<" not in english
    portuguese = client.get(url, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Enviando para a impressora" in portuguese and "sending to the printer" not in portuguese


# --- the admin: section names, labels, translations, favicon ------------------------------------


@pytest.fixture
def shop_admin(client, django_user_model, make_printer, make_order, committed):
    client.force_login(django_user_model.objects.create_superuser("marta", "m@example.com", "x"))
    printer = make_printer("Balcão", auto_print=["counter"])
    Product.objects.create(name="Coxinha", category="Salgados", price=Decimal("7.25"))
    with committed(execute=True):
        make_order()
    client.printer = printer
    client.job = PrintJob.objects.get()
    return client


def section_names(page):
    return [
        re.sub(r"<[^>]+>", "", caption).strip()
        for caption in re.findall(r"<caption>(.*?)</caption>", page, flags=re.DOTALL)
    ]


@pytest.mark.parametrize(
    "language, printing, monitoring",
    [
        ("pt-br", "Impressoras e impressões", "Acompanhamento ao vivo"),
        ("en", "Printers and print jobs", "Live monitoring"),
    ],
)
def test_admin_sections_have_distinct_meaningful_names(shop_admin, language, printing, monitoring):
    names = section_names(shop_admin.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode())
    assert printing in names and monitoring in names
    assert len(names) == len(set(n.lower() for n in names)), names
    assert "Impressão" not in names and "Printing" not in names


LOWERCASE_LABEL = re.compile(r"<label[^>]*>\s*([a-zà-ú][^<]*)</label>")
COLUMN_HEADER = re.compile(r'<th scope="col"[^>]*>.*?<(?:a|span)[^>]*>([^<]*)</(?:a|span)>', re.DOTALL)


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_admin_labels_and_column_headers_are_capitalised(shop_admin, language):
    pages = {
        "printer form": f"/admin/printing/printer/{shop_admin.printer.pk}/change/",
        "job page": f"/admin/printing/printjob/{shop_admin.job.pk}/change/",
        "printers": "/admin/printing/printer/",
        "jobs": "/admin/printing/printjob/",
        "orders": "/admin/orders/order/",
        "products": "/admin/orders/product/",
    }
    for name, url in pages.items():
        page = shop_admin.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        lowercase = [label for label in LOWERCASE_LABEL.findall(page) if label.strip()]
        assert lowercase == [], f"{name}: {lowercase}"
        headers = [header.strip() for header in COLUMN_HEADER.findall(page) if header.strip()]
        assert all(header[0].isupper() or not header[0].isalpha() for header in headers), f"{name}: {headers}"
    printer_form = shop_admin.get(pages["printer form"], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    expected = "Imprime automaticamente" if language == "pt-br" else "Prints automatically"
    assert expected in printer_form


def test_admin_in_portuguese_has_no_english_left(shop_admin):
    english = ["Printer", "Product", "Requested by", "unknown", "Access attempts", "Queued", ">History<", "Message"]
    for url in [
        "/admin/",
        "/admin/printing/printer/",
        f"/admin/printing/printer/{shop_admin.printer.pk}/change/",
        "/admin/printing/printjob/",
        f"/admin/printing/printjob/{shop_admin.job.pk}/change/",
        "/admin/orders/order/",
        f"/admin/orders/order/{shop_admin.job.order_id}/change/",
        "/admin/orders/product/",
    ]:
        page = shop_admin.get(url, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
        text = re.sub(r"<script.*?</script>|<[^>]+>", " ", page, flags=re.DOTALL)
        found = [word for word in english if re.search(rf"(?<![\w/.]){re.escape(word.strip('<>'))}(?![\w])", text)]
        assert found == [], f"{url}: {found}"
    printers = shop_admin.get("/admin/printing/printer/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Remover printers selecionados" not in printers and "impressoras selecionados" not in printers
    assert "Remover selecionados: impressoras" in printers


FAVICON_LINK = re.compile(r'<link rel="icon" href="/static/img/favicon\.svg" type="image/svg\+xml">')


def test_admin_pages_link_the_favicon(shop_admin):
    for url in ["/admin/", "/admin/printing/printer/"]:
        assert FAVICON_LINK.search(shop_admin.get(url).content.decode()), url
    assert FAVICON_LINK.search(Client().get("/admin/login/").content.decode())


# --- decision (a): an attendant marks products sold out, and nothing more -----------------------


def test_attendant_has_the_narrow_sold_out_permission_not_change_product(attendant_user):
    assert attendant_user.has_perm(roles.MARK_SOLD_OUT)
    assert not attendant_user.has_perm("orders.change_product")


def test_attendant_marks_sold_out_at_the_counter_and_staff_without_it_cannot(client, attendant_user, staff_user, menu):
    coxinha = menu["coxinha"]
    client.force_login(staff_user)  # staff, no role
    assert client.post(f"/products/{coxinha.pk}/sold-out/").status_code == 403
    assert not Product.objects.get(pk=coxinha.pk).sold_out

    client.force_login(attendant_user)
    page = client.get("/").content.decode()
    assert f'data-sold-out="{coxinha.pk}"' in page  # the one-tap button is offered
    response = client.post(f"/products/{coxinha.pk}/sold-out/")
    assert response.status_code == 302
    assert Product.objects.get(pk=coxinha.pk).sold_out
    page = client.get("/").content.decode()
    assert f'data-add-product="{coxinha.pk}"' not in page and f'data-sold-out-product="{coxinha.pk}"' in page
    client.post(f"/products/{coxinha.pk}/sold-out/", {"sold_out": "0"})
    assert not Product.objects.get(pk=coxinha.pk).sold_out


def test_attendant_still_cannot_change_a_products_price_in_the_admin(client, attendant_user, menu):
    client.force_login(attendant_user)
    url = f"/admin/orders/product/{menu['coxinha'].pk}/change/"
    response = client.post(url, {"name": "Coxinha", "category": "Salgados", "price": "0.01", "is_active": "on"})
    assert response.status_code == 403
    assert Product.objects.get(pk=menu["coxinha"].pk).price == Decimal("7.25")


def test_a_user_without_the_toggle_permission_sees_no_toggle(client, staff_user, menu):
    staff_user.user_permissions.add(*Permission.objects.filter(codename__in=["sell_at_counter", "view_order"]))
    client.force_login(staff_user)
    page = client.get("/").content.decode()
    assert f'data-add-product="{menu["coxinha"].pk}"' in page
    assert "data-sold-out=" not in page


# --- decision (b): a printer whose agent never connected raises the alarm --------------------------


def test_a_printer_whose_agent_never_connected_raises_the_alarm_and_health_names_it(
    client, make_printer, settings, committed
):
    settings.CANTINA_PRINTER_ALARM_SECONDS = 30
    new = make_printer("Cozinha nova", auto_print=["counter"])
    make_printer("Só manual", auto_print=[])  # prints nothing by itself: not an emergency
    make_printer("Desligada", auto_print=["counter"], is_active=False)
    assert services.printers_open_never_connected() == [new.pk]
    assert services.printers_open_never_connected() == []  # one incident, not one per sweep
    incident = PrinterIncident.objects.get()
    assert (incident.printer_id, incident.reason) == (new.pk, "no_agent")

    assert selectors.printer_alarms(now=incident.started_at + timedelta(seconds=29)) == []
    assert client.get("/health").status_code == 200
    PrinterIncident.objects.filter(pk=incident.pk).update(started_at=timezone.now() - timedelta(seconds=31))
    with translation.override("pt-br"):
        alarms = selectors.printer_alarms()
    assert [alarm["printer"] for alarm in alarms] == ["Cozinha nova"]
    assert alarms[0]["advice"].startswith("nunca conectou: instale e inicie o agente")
    assert alarms[0]["reason_label"] == "Agente nunca conectou"
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["printer_alarms"][0]["printer"] == "Cozinha nova"

    with committed(execute=True):
        services.printer_connected(printer_id=new.pk, channel_name="first")
    assert client.get("/health").status_code == 200
    assert services.printers_open_never_connected() == []  # connected now


def test_a_printer_that_was_connected_before_keeps_the_usual_advice(make_printer, committed):
    printer = make_printer("Balcão", auto_print=["counter"])
    with committed(execute=True):
        services.printer_connected(printer_id=printer.pk, channel_name="one")
        services.printer_disconnected(printer_id=printer.pk, channel_name="one")
    assert services.printers_open_never_connected() == []  # the disconnect opened it already
    PrinterIncident.objects.update(started_at=timezone.now() - timedelta(minutes=5))
    with translation.override("pt-br"):
        [alarm] = selectors.printer_alarms()
    assert "nunca conectou" not in alarm["advice"] and "desligado" in alarm["advice"]


def test_the_never_connected_check_runs_in_every_maintenance_pass():
    from printing import maintenance

    assert "printers_never_connected" in [task.name for task in maintenance.MAINTENANCE_TASKS]


# --- decision (c): N copies of a cash sale, one drawer pulse ---------------------------------------


def test_a_cash_sale_printed_in_three_copies_opens_the_drawer_once(menu, make_printer, committed):
    make_printer("Balcão", has_drawer=True, copies=3, auto_print=["counter"])
    with committed(execute=True):
        order = order_services.order_create(
            channel="counter",
            items=[(menu["misto"].pk, 1)],
            customer_name="Ana",
            payment_method="cash",
            amount_received="20",
            confirm=True,
        )
    job = PrintJob.objects.get(order=order, kind=PrintJob.Kind.ORDER_RECEIPT)
    assert job.copies == 3
    data = bytes(job.escpos)
    assert data.count(DRAWER_PULSE) == 1
    assert data.index(DRAWER_PULSE) < data.index(b"Misto quente")  # the first copy opens it
    assert data.count(b"Misto quente") == 3  # and all three copies print


def test_render_escpos_and_epos_pulse_once_whatever_the_copies():
    document = {
        "commands": [
            {"type": "pulse", "data": {"pin": 2, "on_time": 100, "off_time": 100}},
            {"type": "text", "data": {"text": "Recibo"}},
            {"type": "cut"},
        ]
    }
    printer = PrinterSpec(name="Balcão")
    for copies in (1, 2, 5):
        data = render_escpos(document, printer, copies=copies)
        assert data.count(DRAWER_PULSE) == 1, copies
        assert data.count(b"Recibo") == copies
        xml = render_epos_xml(document, printer, copies=copies)
        assert xml.count("<pulse") == 1 and xml.count("Recibo") == copies
    only_pulse = {"commands": document["commands"][:1]}
    assert render_escpos(only_pulse, printer, copies=3).count(DRAWER_PULSE) == 1
    no_pulse = {"commands": document["commands"][1:]}
    assert render_escpos(no_pulse, printer, copies=2).count(DRAWER_PULSE) == 0


def test_a_card_sale_in_copies_never_opens_the_drawer(menu, make_printer, committed):
    make_printer("Balcão", has_drawer=True, copies=2, auto_print=["counter"])
    with committed(execute=True):
        order_services.order_create(
            channel="counter", items=[(menu["misto"].pk, 1)], payment_method="card", confirm=True
        )
    assert DRAWER_PULSE not in bytes(PrintJob.objects.get().escpos)


def test_never_connected_ignores_cloud_printers(make_printer):
    make_printer("Star", auto_print=["counter"], transport=Printer.Transport.CLOUDPRNT, mac="00:11:62:AA:BB:CC")
    assert services.printers_open_never_connected() == []
