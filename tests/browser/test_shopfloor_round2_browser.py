"""Shop floor, the rest of issue 17, in a real Chromium against a real daphne, agent and fake printer:
the admin lists fit 1280 px with realistic data and link the favicon, job history in the reader's
language, the scheduled page in two columns on a desktop (one on a tablet), sold out in one tap
by an attendant (and a sale holding it refused), the day close and its printed report, and the
edit of a pending scheduled order with the admin's "reimprimir" prompt for a confirmed one.

Screenshots (not committed) go to /work/artifacts/shop2/.
"""

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DEMO,
    STAFF_PASSWORD,
    STAFF_USERNAME,
    WAIT_MS,
    PrinterStation,
    connected_printers,
    log_in,
    screenshot,
)
from tools.polling import wait_for
from tools.processes import DaphneServer

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(300)]

ARTIFACTS = Path("/work/artifacts/shop2")
ATTENDANT, ATTENDANT_PASSWORD = "bia", "bia-pass-123"

# What a canteen's admin really holds: long names, several jobs, failures with long messages.
REALISTIC = """
from decimal import Decimal
from django.utils import timezone
from orders import services as orders
from orders.models import Product
from printing import services
from printing.models import Printer, PrintJob
for name, location in [
    ("Impressora da cozinha industrial do segundo andar (chapa e fritadeira)", "Cozinha industrial, ao lado da coifa, bancada 3"),
    ("Bar de sucos e vitaminas — entrada principal do refeitório", "Refeitório dos funcionários, bloco B, térreo"),
]:
    printer = Printer.objects.create(name=name, location=location, auto_print=[], model_name="TM-T20III Receipt Printer")
    services.printer_issue_token(printer=printer)
    for n in range(4):
        job = services.job_create_test_page(printer=printer)
    services.jobs_claim(printer_id=printer.pk)
    services.job_mark_status(
        job_id=job.pk, printer_id=printer.pk, status="failed", error_code="bad_data",
        message="A impressora recusou os dados: a tampa do papel foi aberta no meio da impressão e o rolo acabou " * 2,
    )
Product.objects.create(category="Pratos do dia", name="Parmegiana de frango com arroz, feijão, fritas e salada da casa", price=Decimal("32.90"))
for n, (customer, payment) in enumerate([
    ("Maria Aparecida dos Santos Oliveira Ferreira (professora do 5º ano B)", "pix"),
    ("João Pedro", "cash"),
    ("Ana", "card"),
]):
    orders.order_create(
        channel="counter", items=[(Product.objects.get(name="Coxinha").pk, 2), (Product.objects.get(name="Suco de laranja").pk, 1)],
        customer_name=customer, payment_method=payment, amount_received="50" if payment == "cash" else None, confirm=True,
    )
print(json.dumps("ok"))
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory, compiled_translations):
    workdir = tmp_path_factory.mktemp("shopfloor2")
    server = DaphneServer(workdir / "server")
    server.manage.python(DEMO.format(username=STAFF_USERNAME, password=STAFF_PASSWORD))
    server.manage.create_staff(ATTENDANT, ATTENDANT_PASSWORD, role="Atendente")
    token = server.manage.add_printer("Balcão", "--auto-print", "counter,scheduled", "--has-drawer")
    server.start()
    station = PrinterStation(server, workdir / "balcao", "Balcão", token)
    try:
        wait_for(lambda: connected_printers(server) == 1, 30, interval=0.25, message="the agent of Balcão to connect")
        server.manage.python(REALISTIC)
        wait_for(
            lambda: all(
                job["status"] == "completed" for job in server.manage.jobs() if job["printer__name"] == "Balcão"
            ),
            60,
            message="the three sales to print",
        )
        yield {"server": server, "station": station}
    finally:
        station.stop()
        server.stop()


def keep(path, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / name)


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in_as(page, server, username, password):
    """The login form whatever the page's language (log_in reads the Portuguese labels)."""
    page.goto(f"{server.http_url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    expect(page).to_have_url(f"{server.http_url}/")


# --- fix 9: the admin ---------------------------------------------------------------------------

CHANGELISTS = {
    "printers": ("/admin/printing/printer/", "column-printer_status"),
    "print jobs": ("/admin/printing/printjob/", "column-job_status"),
    "orders": ("/admin/orders/order/", "column-status"),
    "products": ("/admin/orders/product/", "column-sold_out"),
}


def test_admin_changelists_fit_1280_pixels_with_the_status_column_visible(shop, open_page):
    server = shop["server"]
    page = open_page("desktop")  # 1280×800
    assert page.viewport_size == {"width": 1280, "height": 800}
    log_in(page, server)
    for name, (path, status_column) in CHANGELISTS.items():
        page.goto(f"{server.http_url}{path}")
        expect(page.locator("#result_list")).to_be_visible()
        assert page.locator("#result_list tbody tr").count() >= 2, name
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{name}: the page is {widths[0]} px wide in a {widths[1]} px window"
        # Django scrolls a too-wide list inside its box: that hides the status column just the same.
        inner = page.evaluate(
            "(box => [box.scrollWidth, box.clientWidth])(document.querySelector('#changelist .results'))"
        )
        assert inner[0] <= inner[1], f"{name}: the list is {inner[0]} px wide in a {inner[1]} px box"
        header = page.locator(f"#result_list thead th.{status_column}")
        expect(header).to_be_visible()
        box = header.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, f"{name}: status column at {box}"
        if name == "printers":
            expect(page.locator("#result_list")).to_contain_text("Impressora da cozinha industrial")
            keep(screenshot(page, "admin-printers-1280"), "admin-printer-list-1280.png")


def test_admin_links_its_favicon_and_the_server_serves_it(shop, open_page):
    server = shop["server"]
    page = open_page("desktop")
    page.goto(f"{server.http_url}/admin/login/")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("type", "image/svg+xml")
    response = page.request.get(f"{server.http_url}{icon.get_attribute('href')}")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.body()
    log_in(page, server)
    page.goto(f"{server.http_url}/admin/")
    expect(page.locator('link[rel="icon"]')).to_have_attribute("href", icon.get_attribute("href"))
    # Two distinct sections where there were two "IMPRESSÃO".
    captions = [text.strip().lower() for text in page.locator("#content-main caption").all_inner_texts()]
    assert len(captions) == len(set(captions)), captions
    assert "impressoras e impressões" in captions and "impressão" not in captions


# --- fix 9 (e): history in the reader's language ----------------------------------------------


@pytest.fixture
def open_in(browser):
    """open_in(viewport, locale) → a page in a fresh context with that browser language."""
    from tests.browser.conftest import VIEWPORTS

    contexts = []

    def open_(viewport, locale):
        context = browser.new_context(viewport=VIEWPORTS[viewport], locale=locale, timezone_id="America/Sao_Paulo")
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.mark.parametrize(
    "viewport, locale, shown, hidden",
    [
        ("desktop", "en-US", ["Sending to the printer", "Sent to the agent", "Printed"], ["Enviando", "sending to"]),
        ("tablet", "pt-BR", ["Enviando para a impressora", "Enviado ao agente", "impresso"], ["Sending", "sending to"]),
    ],
)
def test_job_history_is_shown_in_the_readers_language(shop, open_in, viewport, locale, shown, hidden):
    server = shop["server"]
    job_id = next(job["id"] for job in server.manage.jobs() if job["printer__name"] == "Balcão")
    page = open_in(viewport, locale)
    log_in_as(page, server, STAFF_USERNAME, STAFF_PASSWORD)
    page.goto(f"{server.http_url}/jobs/{job_id}/")
    history = page.locator("ol.history")
    for text in shown:
        expect(history).to_contain_text(text)
    for text in hidden:
        expect(history).not_to_contain_text(text)
    assert no_sideways_scroll(page)
    if locale == "en-US":
        keep(screenshot(page, "history-english"), "history-in-english.png")
    page.goto(f"{server.http_url}/admin/printing/printjob/{job_id}/change/")
    admin_history = page.locator(".inline-group")
    expect(admin_history).to_contain_text(shown[0])
    expect(admin_history).not_to_contain_text("sending to the printer")


# --- fix 12: the scheduled page uses a desktop's width ------------------------------------------

SCHEDULED_DAY = """
from datetime import datetime, time, timedelta
from django.utils import timezone
from orders import services
from orders.models import Product
day = timezone.localdate() + timedelta(days=2)
for name, hour, minute in [("Caio", 11, 30), ("Duda", 12, 0), ("Enzo", 12, 30), ("Fabi", 13, 0), ("Gui", 13, 30)]:
    services.order_create(
        channel="scheduled", items=[(Product.objects.get(name="Misto quente").pk, 1)], customer_name=name,
        scheduled_for=timezone.make_aware(datetime.combine(day, time(hour, minute))), payment_method="pix",
    )
print(json.dumps(day.isoformat()))
"""


@pytest.fixture(scope="module")
def scheduled_day(shop):
    return shop["server"].manage.python(SCHEDULED_DAY)


@pytest.mark.parametrize(
    "size, columns",
    [({"width": 1440, "height": 900}, 2), ({"width": 1280, "height": 800}, 2), ({"width": 800, "height": 1280}, 1)],
)
def test_scheduled_page_uses_two_columns_on_a_desktop_and_one_on_a_tablet(
    shop, open_page, scheduled_day, size, columns
):
    server = shop["server"]
    page = open_page("desktop" if columns == 2 else "tablet")
    page.set_viewport_size(size)
    log_in(page, server)
    page.goto(f"{server.http_url}/scheduled/?day={scheduled_day}")
    slots = page.locator(".scheduled-columns > .slot")
    expect(slots).to_have_count(5)
    # One snapshot in the page: a live update may replace the slots between two separate reads.
    boxes = page.evaluate(
        """[...document.querySelectorAll('.scheduled-columns > .slot')].map(slot => {
            const box = slot.getBoundingClientRect();
            return {x: box.x, y: box.y, width: box.width};
        })"""
    )
    assert len(boxes) == 5, boxes
    lefts = sorted({round(box["x"]) for box in boxes})
    assert len(lefts) == columns, boxes
    if columns == 2:
        assert round(boxes[0]["y"]) == round(boxes[1]["y"])  # side by side
        assert boxes[1]["x"] >= boxes[0]["x"] + boxes[0]["width"]
    else:
        assert all(box["width"] > size["width"] * 0.8 for box in boxes)  # the tablet layout, full width
    assert no_sideways_scroll(page)
    expect(page.locator(".order-card", has_text="Caio")).to_contain_text("Pix")
    if size["width"] == 1440:
        keep(screenshot(page, "scheduled-1440"), "scheduled-desktop-1440.png")


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_counter_last_order_card_shows_customer_and_payment(shop, open_page, viewport):
    server = shop["server"]
    page = open_page(viewport)
    log_in(page, server)
    page.locator("[data-add-product]", has_text="Pão de queijo").click()
    customer = f"Último {viewport}"
    page.get_by_label("Nome do cliente (opcional)").fill(customer)
    page.locator(".segment", has_text="Pix").click()
    page.get_by_role("button", name="Confirmar e imprimir").click()
    expect(page).to_have_url(re.compile(r"/\?order=\d+$"))
    card = page.locator(".last-order-who")
    expect(card).to_contain_text(customer)
    expect(card).to_contain_text("Pix")
    assert no_sideways_scroll(page)


# --- sold out, by an attendant, and a sale that holds it --------------------------------------


@pytest.mark.parametrize("viewport, product", [("desktop", "Brigadeiro"), ("tablet", "Bolo de cenoura")])
def test_attendant_marks_sold_out_in_one_tap_and_a_sale_holding_it_is_refused(shop, open_page, viewport, product):
    server = shop["server"]
    selling = open_page(viewport)  # a second tablet (or till) at the same counter
    log_in(selling, server)
    selling.locator("[data-add-product]", has_text=product).click()
    expect(selling.locator("[data-cart-total]")).not_to_have_text("R$ 0,00")

    attendant = open_page(viewport)
    log_in(attendant, server, ATTENDANT, ATTENDANT_PASSWORD)  # role Atendente: mark_sold_out only
    tile = attendant.locator("[data-add-product]", has_text=product)
    expect(tile).to_be_visible()
    attendant.get_by_role("button", name=f"Marcar {product} como esgotado").click()  # one tap
    expect(attendant.locator(".message.success")).to_contain_text(f"“{product}” esgotado")
    expect(tile).to_have_count(0)
    expect(attendant.locator(".sold-out-list")).to_contain_text(product)
    assert no_sideways_scroll(attendant)
    keep(screenshot(attendant, f"sold-out-{viewport}"), f"sold-out-{viewport}.png")

    before = len(server.manage.jobs())
    selling.get_by_role("button", name="Confirmar e imprimir").click()
    expect(selling.locator(".form-error")).to_contain_text(f"“{product}” está esgotado: tire-o do pedido.")
    expect(selling.locator("[data-add-product]", has_text=product)).to_have_count(0)
    assert len(server.manage.jobs()) == before  # nothing was sold, nothing printed
    keep(screenshot(selling, f"sold-out-refused-{viewport}"), f"sold-out-refused-{viewport}.png")

    attendant.locator(".sold-out-list li", has_text=product).get_by_role("button", name="Voltou").click()
    expect(attendant.locator("[data-add-product]", has_text=product)).to_be_visible()


# --- day close --------------------------------------------------------------------------------

DAY_TOTALS = """
from django.utils import timezone, translation
from orders.templatetags.orders_tags import money
from printing.day_close import day_close_report
with translation.override("pt-br"):
    report = day_close_report(timezone.localdate())
    print(json.dumps({
        "total": money(report["total"]) if isinstance(report, dict) else money(report.total),
        "channels": [[str(label), figures[0], money(figures[1])] for label, figures in (report["by_channel"] if isinstance(report, dict) else report.by_channel)],
        "payments": [[str(label), figures[0], money(figures[1])] for label, figures in (report["by_payment"] if isinstance(report, dict) else report.by_payment)],
    }))
"""


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_day_close_shows_totals_by_channel_and_payment_and_prints_the_report(shop, open_page, viewport):
    server, station = shop["server"], shop["station"]
    page = open_page(viewport)
    log_in(page, server)
    page.goto(f"{server.http_url}/day-close/")
    expected = server.manage.python(DAY_TOTALS)
    assert {label for label, _count, _total in expected["payments"]} >= {"Pix", "Dinheiro", "Cartão"}
    expect(page.locator("[data-day-total]")).to_have_text(expected["total"])
    channels = page.locator("table.report").first
    for label, count, total in expected["channels"]:
        expect(channels.locator("tr", has_text=label)).to_contain_text(total)
        expect(channels.locator("tr", has_text=label)).to_contain_text(str(count))
    for label, count, total in expected["payments"]:
        row = page.locator("table[data-by-payment] tr", has_text=label)
        expect(row).to_contain_text(total)
        expect(row).to_contain_text(str(count))
    assert no_sideways_scroll(page)

    printed_before = len(station.received())
    page.locator("#id_printer").select_option(label="Balcão")
    page.get_by_role("button", name="Imprimir o fechamento").click()
    message = page.locator(".message.success")
    expect(message).to_contain_text("Fechamento na fila em “Balcão”")
    job_id = int(re.search(r"#(\d+)", message.inner_text()).group(1))
    job = next(job for job in server.manage.jobs() if job["id"] == job_id)
    assert job["kind"] == "document" and job["printer__name"] == "Balcão"
    report = wait_for(
        lambda: [text for text in station.received()[printed_before:] if expected["total"] in text],
        30,
        message="the printed day close",
    )
    assert "Pix" in report[-1] and "Dinheiro" in report[-1]


# --- edit before confirming; the confirmed order's "reimprimir" prompt -----------------------------

PENDING_SCHEDULED = """
from datetime import datetime, time, timedelta
from django.utils import timezone
from orders import services
from orders.models import Product
day = timezone.localdate() + timedelta(days=1)
order = services.order_create(
    channel="scheduled", items=[(Product.objects.get(name="Coxinha").pk, 1)], customer_name={customer!r},
    scheduled_for=timezone.make_aware(datetime.combine(day, time(12, 0))), notes="sem pimenta",
)
print(json.dumps({{"id": order.pk, "number": order.number, "day": day.isoformat()}}))
"""

ORDER_STATE = """
from django.utils import timezone
from orders.models import Order
order = Order.objects.get(pk={order_id})
print(json.dumps({{
    "status": order.status, "notes": order.notes,
    "pickup": timezone.localtime(order.scheduled_for).strftime("%H:%M"),
    "items": sorted([item.name, item.quantity] for item in order.items.all()),
}}))
"""


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_pending_scheduled_order_is_edited_and_a_confirmed_ones_admin_edit_prompts_a_reprint(shop, open_page, viewport):
    server, station = shop["server"], shop["station"]
    customer = f"Edição {viewport}"
    order = server.manage.python(PENDING_SCHEDULED.format(customer=customer))
    page = open_page(viewport)
    log_in(page, server)
    page.goto(f"{server.http_url}/scheduled/?day={order['day']}")
    card = page.locator(".order-card", has_text=customer)
    card.get_by_role("link", name="Editar").click()
    expect(page).to_have_url(re.compile(rf"/scheduled/{order['id']}/edit/"))
    page.locator("[data-add-product]", has_text="Suco de laranja").click()
    page.get_by_label("Horário da retirada").fill("13:45")
    page.get_by_label("Observações").fill("sem pimenta, com guardanapo extra")
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="Salvar pedido").click()
    expect(page.locator(".message.success")).to_contain_text(f"Pedido {order['number']} salvo.")
    state = server.manage.python(ORDER_STATE.format(order_id=order["id"]))
    assert state == {
        "status": "pending",
        "notes": "sem pimenta, com guardanapo extra",
        "pickup": "13:45",
        "items": [["Coxinha", 1], ["Suco de laranja", 1]],
    }
    page.goto(f"{server.http_url}/scheduled/?day={order['day']}")
    card = page.locator(".order-card", has_text=customer)
    expect(card).to_contain_text("Suco de laranja")
    expect(card).to_contain_text("com guardanapo extra")

    # Confirmed and printed: changing its items in the admin says the paper must be reprinted.
    card.get_by_role("button", name=re.compile("Confirmar")).click()
    wait_for(lambda: any(customer in text for text in station.received()), 30, message="the confirmed order's receipt")
    page.goto(f"{server.http_url}/admin/orders/order/{order['id']}/change/")
    quantity = page.locator("input[name$='-0-quantity']").first
    quantity.fill("3")
    page.locator("input[name='_continue']").click()
    warning = page.locator(".messagelist .warning")
    expect(warning).to_contain_text(f"O pedido #{order['number']} já foi impresso com outros itens: reimprima")
    expect(warning.get_by_role("link")).to_contain_text("Reimprimir")
    keep(screenshot(page, f"admin-reprint-prompt-{viewport}"), f"admin-reprint-prompt-{viewport}.png")
    assert server.manage.python(ORDER_STATE.format(order_id=order["id"]))["items"][0] == ["Coxinha", 3]
