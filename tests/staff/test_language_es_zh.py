"""Staff pages and admin additions in Spanish and Simplified Chinese: chosen with the switcher, the
language cookie or the browser's language; money always in reais (R$), written with the reader's
separators; dates in the reader's format."""

import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from cantina import msgfmt
from orders.templatetags.orders_tags import money
from printing import services
from printing.models import Printer, PrintJob
from tests.staff.test_language import LOCALE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def compiled_translations():
    # .mo files are build output (gitignored): compile them as ./dev does, then reload the catalogues.
    msgfmt.main(LOCALE)
    translation.trans_real._translations.clear()
    translation.trans_real._default = None
    yield


def client_speaking(user, language=None, **headers):
    client = Client(**headers)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def json_element(body, element_id):
    return json.loads(re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', body).group(1))


@pytest.mark.parametrize(
    "language, expected",
    [("pt-br", "R$ 1.234,50"), ("en", "R$ 1,234.50"), ("es", "R$ 1\xa0234,50"), ("zh-hans", "R$ 1,234.50")],
)
def test_money_is_in_reais_with_the_readers_separators(language, expected):
    with translation.override(language):
        assert money(Decimal("1234.50")) == expected
        assert money(Decimal(0)) == expected[:3] + "0" + expected[-3] + "00"


def test_the_switcher_offers_the_four_languages_by_their_own_names(staff_user):
    body = page(client_speaking(staff_user), "/")
    options = re.findall(r'<option value="([^"]+)"(?: selected)?>([^<]+)</option>', body)
    assert options == [("pt-br", "Português Brasileiro"), ("en", "English"), ("es", "español"), ("zh-hans", "简体中文")]


def test_spanish_is_chosen_with_the_switcher(staff_user, products):
    client = client_speaking(staff_user)
    assert client.post("/i18n/setlang/", {"language": "es", "next": "/"}).status_code == 302
    body = page(client, "/")
    assert '<html lang="es">' in body
    for text in (
        "Mostrador",
        "Programados",
        "Impresoras",
        "Impresiones",
        "Confirmar e imprimir",
        "Toque los productos para agregarlos.",
        "Nombre del cliente (opcional)",
        "Efectivo",
        "Tarjeta",
    ):
        assert text in body, text
    assert "R$ 4,50" in body and "R$ 7,25" in body
    assert json_element(body, "money-format") == {"prefix": "R$ ", "decimal": ",", "thousands": "\xa0"}
    config = json_element(body, "live-config")
    assert config["language"] == "es"
    assert config["jobLabels"]["completed"] == "impreso" and config["printerLabels"]["paper_out"] == "sin papel"


def test_the_chosen_language_outlives_the_browser_session(staff_user):
    """A counter tablet keeps its language after the browser restarts: the cookie lasts a year."""
    response = client_speaking(staff_user).post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "zh-hans"
    assert int(cookie["max-age"]) >= 300 * 24 * 60 * 60
    assert cookie["samesite"] == "Lax"


def test_an_unknown_language_is_ignored(staff_user):
    client = client_speaking(staff_user)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert '<html lang="pt-br">' in page(client, "/")


def test_chinese_counter_page(staff_user, products):
    body = page(client_speaking(staff_user, "zh-hans"), "/")
    assert '<html lang="zh-hans">' in body
    for text in (
        "柜台",
        "预约订单",
        "打印机",
        "打印任务",
        "确认并打印",
        "点击商品即可添加。",
        "顾客姓名（选填）",
        "现金",
        "银行卡",
        "退出登录",
        "清空",
    ):
        assert text in body, text
    assert "R$ 4.50" in body and "R$ 7.25" in body
    assert json_element(body, "money-format") == {"prefix": "R$ ", "decimal": ".", "thousands": ","}
    config = json_element(body, "live-config")
    assert config["language"] == "zh-hans"
    assert config["jobLabels"] == {
        "pending": "排队中",
        "sent": "已发送",
        "printing": "打印中",
        "completed": "已打印",
        "failed": "失败",
        "cancelled": "已取消",
    }
    assert config["text"]["offline"] == "已断开，正在重新连接…"


@pytest.mark.parametrize(
    "accept_language, language",
    [
        ("zh-CN,zh;q=0.9,en;q=0.5", "zh-hans"),
        ("zh-Hans", "zh-hans"),
        ("es-MX,es;q=0.9", "es"),
        ("es-ES", "es"),
        ("fr-FR", "pt-br"),
    ],
)
def test_the_browsers_language_is_followed(staff_user, accept_language, language):
    body = page(client_speaking(staff_user, HTTP_ACCEPT_LANGUAGE=accept_language), "/")
    assert f'<html lang="{language}">' in body


def test_refusals_are_translated(staff_user, products):
    for language, text in [
        ("es", "El pedido está vacío: agregue al menos un producto."),
        ("zh-hans", "订单是空的：请至少添加一件商品。"),
    ]:
        response = client_speaking(staff_user, language).post(
            "/", {"product": [], "quantity": [], "payment_method": "cash"}
        )
        assert text in response.content.decode()


@pytest.fixture
def scheduled_tomorrow(db):
    """A phone order for tomorrow 12:30, not paid yet, big enough to show the thousands separator."""
    from orders.models import Order, OrderItem

    tomorrow = timezone.localdate() + timedelta(days=1)
    pickup = timezone.make_aware(datetime.combine(tomorrow, time(12, 30)))
    order = Order.objects.create(customer_name="Davi", channel="scheduled", status="pending", scheduled_for=pickup)
    OrderItem.objects.create(order=order, name="Pão de queijo", quantity=300, unit_price=Decimal("4.50"))
    return tomorrow, order


def test_scheduled_page_in_chinese(staff_user, scheduled_tomorrow):
    day, _order = scheduled_tomorrow
    body = page(client_speaking(staff_user, "zh-hans"), f"/scheduled/?day={day.isoformat()}")
    weekday = "星期" + "一二三四五六日"[day.weekday()]
    assert f"{day.year}年{day.month}月{day.day}日 {weekday}" in body, "the day heading is written the Chinese way"
    assert "R$ 1,350.00" in body, "300 × R$ 4.50"
    for text in ("待确认", "取餐时付款", "确认并打印", "1 个待确认", "新订单"):
        assert text in body, text


def test_scheduled_page_in_spanish(staff_user, scheduled_tomorrow):
    day, _order = scheduled_tomorrow
    body = page(client_speaking(staff_user, "es"), f"/scheduled/?day={day.isoformat()}")
    months = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ]
    assert f"{day.day} de {months[day.month - 1]} de {day.year}" in body
    assert "R$ 1\xa0350,00" in body
    for text in ("pendiente", "Paga al recoger", "1 por confirmar", "Nuevo pedido"):
        assert text in body, text


@pytest.fixture
def failed_job(make_printer, make_order, django_capture_on_commit_callbacks):
    printer = make_printer("Cozinha")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed")
    job = PrintJob.objects.get(order=order, printer=printer)
    PrintJob.objects.filter(pk=job.pk).update(status="failed", error_code="bad_data", error_message="Papel enroscou")
    return job


def test_jobs_pages_in_spanish_and_chinese(staff_user, failed_job):
    created = timezone.localtime(failed_job.created_at)
    spanish = page(client_speaking(staff_user, "es"), "/jobs/")
    assert "falló" in spanish and "Todos los estados" in spanish and "Filtrar" in spanish
    assert created.strftime("%d/%m/%Y") in spanish
    chinese = page(client_speaking(staff_user, "zh-hans"), "/jobs/")
    assert "失败" in chinese and "全部状态" in chinese and "筛选" in chinese
    assert f"{created.year}年{created.month}月{created.day}日" in chinese
    detail = page(client_speaking(staff_user, "zh-hans"), f"/jobs/{failed_job.pk}/")
    assert "重试" in detail and "小票预览" in detail and "历史记录" in detail


def test_printers_page_in_chinese(staff_user, make_printer):
    printer = make_printer("Cozinha")
    Printer.objects.filter(pk=printer.pk).update(connected=True, status="paper_out")
    body = page(client_speaking(staff_user, "zh-hans"), "/printers/")
    assert "缺纸" in body and "打印测试页" in body and "柜台订单" in body


@pytest.fixture
def manager(db):
    return get_user_model().objects.create_superuser("marta", "marta@example.com", "marta-pass-123")


@pytest.mark.parametrize(
    "language, texts",
    [
        ("es", ["Panel de impresión", "Cola actual", "Agentes conectados", "Fallas recientes"]),
        ("zh-hans", ["打印概览", "当前队列", "已连接的打印代理", "最近的故障"]),
    ],
)
def test_print_dashboard_in_spanish_and_chinese(manager, language, texts):
    body = page(client_speaking(manager, language), "/admin/print/")
    assert f'lang="{language}"' in body
    for text in texts:
        assert text in body, text


def test_admin_printer_actions_in_chinese(manager, make_printer):
    printer = make_printer("Cozinha")
    client = client_speaking(manager, "zh-hans")
    listing = page(client, "/admin/printing/printer/")
    for text in ("打印测试页", "启用所选打印机", "签发新的代理令牌", "吊销代理令牌"):
        assert text in listing, text
    change = page(client, f"/admin/printing/printer/{printer.pk}/change/")
    assert "签发新令牌" in change and "纸张与打印" in change


@pytest.mark.parametrize(
    "language, title, paper",
    [("es", "PÁGINA DE PRUEBA", "columnas"), ("zh-hans", "测试页", "列"), ("pt-br", "PÁGINA DE TESTE", "colunas")],
)
def test_the_test_page_speaks_the_receipt_language(settings, make_printer, language, title, paper):
    """Staff's "Test print" is rendered by the server, in CANTINA_RECEIPT_LANGUAGE like every receipt."""
    settings.CANTINA_RECEIPT_LANGUAGE = language
    printer = make_printer("Cozinha")
    with translation.override("en"):  # whoever asks for it, the paper speaks the canteen's language
        job = services.job_create_test_page(printer=printer)
    content = PrintJob.objects.get(pk=job.pk).content
    assert title in content and paper in content
