"""The staff pages in a real browser, against a real daphne, agent and (fake) printer.

Every wait is on a condition with a timeout (Playwright's expect), never a fixed sleep.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    WAIT_MS,
    PrinterStation,
    connected_printers,
    log_in,
    record_timing,
    screenshot,
)
from tools.polling import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(240)]

# Notes the moment a receipt of this page turns "completed", in the browser's own clock, so the
# measured time does not include Playwright's polling interval.
RECORD_PRINTED_AT = """
new MutationObserver(() => {
  if (!window.__printedAt && document.querySelector('[data-order-jobs] [data-job-badge][data-status="completed"]')) {
    window.__printedAt = Date.now();
  }
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"]});
"""


def tile(page, name):
    return page.locator("[data-add-product]", has_text=name)


def receipt_badges(page):
    return page.locator("[data-order-jobs] [data-job-badge]")


def nav(page, name):
    return page.get_by_role("navigation").get_by_role("link", name=name)


def printer_chip(page, name):
    return page.locator("[data-printer-chip]", has_text=name)


def test_anonymous_visitor_is_sent_to_the_login_page(stack, open_page):
    server = stack["server"]
    page = open_page()
    page.goto(f"{server.http_url}/printers/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/printers/$"))
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
    expect(page.locator("#live-status")).to_have_count(0)


def test_staff_sells_two_items_and_sees_the_receipt_printed_live(stack, open_page):
    server, station = stack["server"], stack["station"]
    page = open_page("desktop")
    page.add_init_script(RECORD_PRINTED_AT)
    log_in(page, server)
    expect(printer_chip(page, "Balcão")).to_contain_text("online")

    tile(page, "Pão de queijo").click()
    tile(page, "Suco de laranja").click()
    expect(page.locator("[data-cart-total]")).to_have_text("R$ 10,50")
    page.get_by_label("Nome do cliente (opcional)").fill("Ana")
    page.locator(".segment", has_text="Pix").click()

    clicked_at = time.time()
    page.get_by_role("button", name="Confirmar e imprimir").click()

    expect(page).to_have_url(re.compile(r"/\?order=\d+$"))
    expect(page.locator(".message.success")).to_have_text(re.compile(r"Pedido \d+ confirmado\."))
    expect(receipt_badges(page)).to_have_count(1)
    expect(receipt_badges(page)).to_have_text("impresso", timeout=WAIT_MS)
    elapsed = page.evaluate("window.__printedAt") / 1000 - clicked_at
    record_timing("click confirm → impresso (loopback)", elapsed)
    print(f"\nclick confirm → “impresso” on loopback: {elapsed * 1000:.0f} ms")

    receipts = wait_for(
        lambda: [text for text in station.received() if "Ana" in text], 20, message="the receipt on the fake printer"
    )
    assert "Pão de queijo" in receipts[-1] and "Suco de laranja" in receipts[-1]


def test_receipt_state_turns_printed_without_reloading_when_the_paper_comes_back(stack, open_page):
    server, station = stack["server"], stack["station"]
    page = open_page("desktop")
    log_in(page, server)
    station.set_state("paper_out")
    try:
        expect(printer_chip(page, "Balcão")).to_contain_text("sem papel")
        tile(page, "Coxinha").click()
        page.get_by_role("button", name="Confirmar e imprimir").click()
        expect(page).to_have_url(re.compile(r"/\?order=\d+$"))
        expect(receipt_badges(page)).to_have_text("na fila")
        page.evaluate("window.__samePage = true")
    finally:
        station.set_state("ready")
    expect(printer_chip(page, "Balcão")).to_contain_text("online")
    expect(receipt_badges(page)).to_have_text("impresso")
    assert page.evaluate("window.__samePage") is True, "the page must update live, not reload"


FAIL_JOB = """
from printing import services
from printing.models import PrintJob
job = PrintJob.objects.get(pk={job_id})
services.job_mark_status(job_id=job.pk, printer_id=job.printer_id, status="failed", error_code="bad_data",
                         message="Papel enroscou")
print(json.dumps(PrintJob.objects.get(pk=job.pk).status))
"""


def test_failed_receipt_shows_the_reason_and_is_retried_from_its_page(stack, open_page):
    server, station = stack["server"], stack["station"]
    page = open_page("desktop")
    log_in(page, server)
    station.set_state("paper_out")
    try:
        expect(printer_chip(page, "Balcão")).to_contain_text("sem papel")
        tile(page, "Esfiha de carne").click()
        page.get_by_role("button", name="Confirmar e imprimir").click()
        expect(receipt_badges(page)).to_have_text("na fila")
        job_id = receipt_badges(page).get_attribute("data-job-badge")
        # As an agent would report a receipt it could not print (reported in another process).
        assert server.manage.python(FAIL_JOB.format(job_id=int(job_id))) == "failed"
        page.reload()
        expect(receipt_badges(page)).to_have_text("falhou")
        expect(page.locator(f'[data-order-jobs] [data-job-error="{job_id}"]')).to_have_text("Papel enroscou")

        page.locator(f'[data-job-chip="{job_id}"]').click()
        expect(page).to_have_url(f"{server.http_url}/jobs/{job_id}/")
        page.get_by_role("button", name="Tentar de novo").click()
        expect(page.locator(".message.success")).to_have_text(f"A impressão nº {job_id} voltou para a fila.")
        headline = page.locator(".job-headline [data-job-badge]")
        expect(headline).to_have_text("na fila")
        page.evaluate("window.__samePage = true")
    finally:
        station.set_state("ready")
    expect(headline).to_have_text("impresso")
    expect(page.locator(".history")).to_contain_text("impresso")
    assert page.evaluate("window.__samePage") is True


def test_scheduled_phone_order_is_created_then_confirmed_and_prints(stack, open_page):
    server = stack["server"]
    page = open_page("tablet")
    log_in(page, server)
    nav(page, "Agendados").click()
    page.get_by_role("link", name="Novo pedido").click()

    tile(page, "Misto quente").click()
    tile(page, "Achocolatado").click()
    page.get_by_label("Nome do cliente").fill("Carla (3º ano)")
    page.get_by_label("Horário da retirada").fill("12:30")
    page.get_by_label("Observações").fill("sem cebola")
    page.get_by_role("button", name="Salvar pedido").click()

    expect(page.locator(".message.success")).to_have_text(
        re.compile(r"Pedido agendado \d+ criado\. Confirme-o para imprimir\.")
    )
    card = page.locator(".order-card", has_text="Carla (3º ano)")
    expect(card.locator(".order-status")).to_have_text("pendente")
    assert page.locator(".slot", has=card).locator(".slot-time").inner_text() == "12:30"

    card.get_by_role("button", name="Confirmar e imprimir").click()
    expect(page.locator(".message.success")).to_have_text(re.compile(r"Pedido \d+ confirmado\."))
    card = page.locator(".order-card", has_text="Carla (3º ano)")
    expect(card.locator(".order-status")).to_have_text("confirmado")
    expect(card.locator("[data-job-badge]")).to_have_text("impresso")


def test_printer_goes_offline_live_when_its_agent_stops(stack, open_page):
    server, workdir = stack["server"], stack["workdir"]
    token = server.manage.add_printer("Cozinha", "--auto-print", "none", "--paper-width", "58")
    kitchen = PrinterStation(server, workdir / "cozinha", "Cozinha", token)
    try:
        wait_for(lambda: connected_printers(server) == 2, 30, interval=0.25, message="the agent of Cozinha to connect")
        page = open_page("desktop")
        log_in(page, server)
        nav(page, "Impressoras").click()
        card = page.locator(".printer-card", has_text="Cozinha")
        expect(card.locator("[data-printer-card-state]")).to_have_text("online")
        expect(printer_chip(page, "Cozinha")).to_contain_text("online")
        page.evaluate("window.__samePage = true")

        kitchen.agent.stop()

        expect(printer_chip(page, "Cozinha")).to_contain_text("offline")
        expect(page.locator(".printer-card", has_text="Cozinha").locator("[data-printer-card-state]")).to_have_text(
            "offline"
        )
        expect(printer_chip(page, "Balcão")).to_contain_text("online")
        assert page.evaluate("window.__samePage") is True
    finally:
        kitchen.stop()


def test_page_shows_it_is_disconnected_and_reconnects_by_itself(stack, open_page):
    server, station = stack["server"], stack["station"]
    agent_connections = station.agent.log().count("connected to ")
    page = open_page("desktop")
    log_in(page, server)
    banner = page.locator("#live-banner")
    expect(banner).to_be_hidden()
    try:
        server.stop()
        expect(page.locator("#live-status")).to_have_attribute("data-state", "offline")
        expect(banner).to_be_visible()
        expect(page.locator("#live-status")).to_contain_text("desconectado")
    finally:
        if not server.healthy():
            server.start()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(banner).to_be_hidden()
    # The next tests need the agent back (the printer's "connected" flag may be stale after a restart).
    wait_for(
        lambda: station.agent.log().count("connected to ") > agent_connections,
        60,
        interval=0.25,
        message="the agent of Balcão to reconnect",
    )


SCHEDULED_ORDERS = """
from datetime import datetime, time
from django.utils import timezone
from orders import services
from orders.models import Product
products = {p.name: p.pk for p in Product.objects.all()}
today = timezone.localdate()
for hour, name, items, confirm in [
    (time(10, 0), "Davi", [("Pão de queijo", 3), ("Suco de laranja", 1)], True),
    (time(10, 0), "Elisa", [("Sanduíche natural", 1), ("Água mineral", 2)], False),
    (time(11, 30), "Fábio", [("Bolo de cenoura", 2)], False),
]:
    services.order_create(
        channel="scheduled", customer_name=name, items=[(products[n], q) for n, q in items],
        scheduled_for=timezone.make_aware(datetime.combine(today, hour)), confirm=confirm, notes="",
    )
print(json.dumps("ok"))
"""


@pytest.fixture(scope="module")
def scheduled_orders(stack):
    stack["server"].manage.python(SCHEDULED_ORDERS)


def test_scheduled_list_follows_another_attendants_confirmation_live(stack, open_page, scheduled_orders):
    server = stack["server"]
    watching, confirming = open_page("desktop"), open_page("tablet")
    for page in (watching, confirming):
        log_in(page, server)
        nav(page, "Agendados").click()
    card = watching.locator(".order-card", has_text="Elisa")
    expect(card.locator(".order-status")).to_have_text("pendente")
    watching.evaluate("window.__samePage = true")

    confirming.locator(".order-card", has_text="Elisa").get_by_role("button", name="Confirmar e imprimir").click()

    expect(card.locator(".order-status")).to_have_text("confirmado")
    expect(card.locator("[data-job-badge]")).to_have_text("impresso")
    assert watching.evaluate("window.__samePage") is True


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
def test_every_page_renders_cleanly_and_is_captured(stack, open_page, scheduled_orders, viewport):
    server = stack["server"]
    page = open_page(viewport)
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda response: response.status >= 400 and problems.append(f"{response.status} {response.url}")
    )

    def check(name):
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{name} scrolls sideways on the {viewport} viewport"
        screenshot(page, name)

    page.goto(f"{server.http_url}/")
    check("login")
    log_in(page, server)
    for name in ("Pão de queijo", "Pão de queijo", "Suco de laranja", "Brigadeiro"):
        tile(page, name).click()
    expect(page.locator("[data-cart-total]")).to_have_text("R$ 18,50")
    check("counter-cart")
    page.get_by_role("button", name="Confirmar e imprimir").click()
    expect(receipt_badges(page)).to_have_text("impresso")
    check("counter-sold")

    nav(page, "Agendados").click()
    expect(page.locator(".order-card", has_text="Davi").locator("[data-job-badge]")).to_have_text("impresso")
    check("scheduled")
    page.get_by_role("link", name="Novo pedido").click()
    tile(page, "Coxinha").click()
    tile(page, "Água mineral").click()
    check("scheduled-new")

    nav(page, "Impressoras").click()
    expect(page.locator(".printer-card", has_text="Balcão")).to_be_visible()
    check("printers")
    nav(page, "Impressões").click()
    expect(page.locator(".jobs-table")).to_be_visible()
    check("jobs")
    page.locator(".jobs-table tbody tr").first.get_by_role("link").click()
    expect(page.locator(".cp-receipt")).to_be_visible()
    check("job-detail")

    assert problems == []
