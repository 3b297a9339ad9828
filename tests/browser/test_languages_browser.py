"""The counter page in Spanish and in Chinese, in a real Chromium against a real daphne, agent and
(fake) printer: chosen with the language switcher (Spanish) or the language cookie (Chinese), on a
desktop (1280×800) and a portrait tablet (800×1280). Nothing scrolls sideways, no Portuguese or
English is left in the interface (product names, categories and the printer's name are the shop's
data, not interface), money is in reais with the reader's separators, and a sale prints.
"""

import re

import pytest
from playwright.sync_api import expect

from cantina import i18n_check
from tests.browser.conftest import (
    STAFF_PASSWORD,
    STAFF_USERNAME,
    VIEWPORTS,
    WAIT_MS,
    log_in,
    screenshot,
)
from tools.polling import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(300)]

# The shop's data on these pages (tests/browser/conftest.py DEMO) and the languages' own names.
DATA = [
    "Pão de queijo",
    "Coxinha",
    "Esfiha de carne",
    "Misto quente",
    "Sanduíche natural",
    "Suco de laranja",
    "Água mineral",
    "Achocolatado",
    "Brigadeiro",
    "Bolo de cenoura",
    "Salgados",
    "Lanches",
    "Bebidas",
    "Doces",
    "Balcão",
    "Davi",
    STAFF_USERNAME,
    "Português Brasileiro",
    "English",
    "español",
    "简体中文",
    "Cantina Print",
]

LANGUAGES = {
    "es": {
        "confirm": "Confirmar e imprimir",
        "printed": "impreso",
        "online": "en línea",
        "success": re.compile(r"Pedido \d+ confirmado\."),
        "nav": ["Mostrador", "Programados", "Impresoras", "Impresiones"],
    },
    "zh-hans": {
        "confirm": "确认并打印",
        "printed": "已打印",
        "online": "在线",
        "success": re.compile(r"订单 \d+ 已确认。"),
        "nav": ["柜台", "预约订单", "打印机", "打印任务"],
    },
}
# 99 × R$ 12,00 (a typed quantity) + 2 × R$ 4,50 + R$ 6,00: the thousands separator shows, and
# the page script writes it as the server does (orders_tags.money).
CART_TOTAL = {"es": "R$ 1\xa0203,00", "zh-hans": "R$ 1,203.00"}


def portuguese_interface_phrases(language):
    """Brazilian Portuguese translations that must not show in `language`'s interface.

    Phrases with placeholders are split on them; phrases that are also words of the target
    language's own translations (e.g. "Pix", "Pedido") are left out.
    """
    portuguese = i18n_check.read_catalogue(i18n_check.catalogue_path("pt-br"))
    target = " ".join(
        form
        for entry in i18n_check.read_catalogue(i18n_check.catalogue_path(language)).values()
        for form in entry.msgstr
    )
    phrases = set()
    for entry in portuguese.values():
        for form in entry.msgstr:
            for fragment in re.split(r"%\([a-z_]+\)[sd]|\{[a-z_]*\}|[.:!?“”()…—]", form):
                fragment = fragment.strip(" ,·-")
                if len(fragment) >= 4 and fragment not in target and fragment not in " ".join(DATA):
                    phrases.add(fragment)
    return sorted(phrases)


def interface_text(page):
    """What the page shows, minus the shop's data."""
    text = page.evaluate("document.body.innerText")
    for data in sorted(DATA, key=len, reverse=True):
        text = re.sub(re.escape(data), " ", text, flags=re.IGNORECASE)  # categories show in capitals
    return text


def assert_speaks(page, language, where, data=()):
    text = interface_text(page)
    for value in data:  # the customer's name is data, not interface (the last-order card shows it)
        text = text.replace(value, " ")
    leaked = [
        phrase
        for phrase in portuguese_interface_phrases(language)
        if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text)
    ]
    assert leaked == [], f"Portuguese left on the {language} {where}: {leaked}\n---\n{text}"
    if language == "zh-hans":
        latin = sorted(set(re.findall(r"[A-Za-zÀ-ÿ]{2,}", text)) - {"Pix", "JavaScript"})
        assert latin == [], f"untranslated words on the Chinese {where}: {latin}\n---\n{text}"


def assert_fits(page, language, where):
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, f"the {language} {where} scrolls sideways at {page.viewport_size}"


@pytest.fixture
def new_page(browser):
    contexts = []

    def open_(viewport, cookies=()):
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            locale="pt-BR",
            timezone_id="America/Sao_Paulo",
            has_touch=viewport == "tablet",
        )
        context.set_default_timeout(WAIT_MS)
        context.add_cookies(list(cookies))
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def open_counter(new_page, server, language, viewport):
    if language == "es":
        # Spanish with the switcher in the top bar, after logging in in Portuguese.
        page = new_page(viewport)
        log_in(page, server)
        page.locator("#language-select").select_option("es")
        expect(page.locator("html")).to_have_attribute("lang", "es")
    else:
        # Chinese with the language cookie: even the login page is Chinese.
        page = new_page(viewport, [{"name": "django_language", "value": language, "url": server.http_url}])
        page.goto(f"{server.http_url}/accounts/login/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert_speaks(page, language, "login page")
        assert_fits(page, language, "login page")
        page.get_by_label("用户名").fill(STAFF_USERNAME)
        page.get_by_label("密码").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(f"{server.http_url}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    return page


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
@pytest.mark.parametrize("language", ["es", "zh-hans"])
def test_counter_sale_in_spanish_and_chinese(stack, new_page, language, viewport):
    server, station = stack["server"], stack["station"]
    words = LANGUAGES[language]
    page = open_counter(new_page, server, language, viewport)
    for name in words["nav"]:
        expect(page.get_by_role("navigation").get_by_role("link", name=name)).to_be_visible()
    expect(page.locator("[data-printer-chip]", has_text="Balcão")).to_contain_text(words["online"])
    assert_speaks(page, language, "counter page")
    assert_fits(page, language, "counter page")
    screenshot(page, f"counter-{language}")

    page.locator("[data-add-product]", has_text="Pão de queijo").click()
    page.locator("[data-add-product]", has_text="Pão de queijo").click()
    page.locator("[data-add-product]", has_text="Suco de laranja").click()
    page.locator("[data-add-product]", has_text="Sanduíche natural").click()
    page.get_by_role("spinbutton", name="Sanduíche natural").fill("99")
    expect(page.locator("[data-cart-total]")).to_have_text(CART_TOTAL[language])
    customer = f"Cliente {language} {viewport}"
    page.locator("#id_customer_name").fill(customer)
    assert_speaks(page, language, "counter page with a cart")
    assert_fits(page, language, "counter page with a cart")
    screenshot(page, f"counter-cart-{language}")

    page.get_by_role("button", name=words["confirm"]).click()
    expect(page.locator(".message.success")).to_have_text(words["success"])
    expect(page.locator("[data-order-jobs] [data-job-badge]")).to_have_text(words["printed"])
    assert_speaks(page, language, "counter page after a sale", data=[customer])
    assert_fits(page, language, "counter page after a sale")
    screenshot(page, f"counter-sold-{language}")

    receipts = wait_for(
        lambda: [text for text in station.received() if customer in text],
        30,
        message="the sale's receipt on the fake printer",
    )
    assert "Sanduíche natural" in receipts[-1]


SCHEDULED_ORDER = """
from datetime import datetime, time
from django.utils import timezone
from orders import services
from orders.models import Product
products = {p.name: p.pk for p in Product.objects.all()}
services.order_create(
    channel="scheduled", customer_name="Davi", items=[(products["Bolo de cenoura"], 2), (products["Água mineral"], 1)],
    scheduled_for=timezone.make_aware(datetime.combine(timezone.localdate(), time(11, 30))), confirm=True, notes="",
)
print(json.dumps("ok"))
"""


@pytest.fixture(scope="module")
def scheduled_order(stack):
    stack["server"].manage.python(SCHEDULED_ORDER)


@pytest.mark.parametrize("viewport", ["desktop", "tablet"])
@pytest.mark.parametrize("language", ["es", "zh-hans"])
def test_the_other_staff_pages_in_spanish_and_chinese(stack, new_page, scheduled_order, language, viewport):
    server = stack["server"]
    words = LANGUAGES[language]
    page = open_counter(new_page, server, language, viewport)
    for index, (name, ready) in enumerate(
        [
            (words["nav"][1], ".order-card"),
            (words["nav"][2], ".printer-card"),
            (words["nav"][3], ".jobs-table"),
        ]
    ):
        page.get_by_role("navigation").get_by_role("link", name=name).click()
        expect(page.locator(ready).first).to_be_visible()
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        where = ["scheduled page", "printers page", "jobs page"][index]
        assert_speaks(page, language, where)
        assert_fits(page, language, where)
        screenshot(page, f"{where.split()[0]}-{language}")
    page.locator(".jobs-table tbody tr").first.get_by_role("link").first.click()
    expect(page.locator(".cp-receipt")).to_be_visible()
    # Not assert_speaks: the receipt preview is in the receipts' language (CANTINA_RECEIPT_LANGUAGE).
    assert_fits(page, language, "job page")
    screenshot(page, f"job-{language}")
