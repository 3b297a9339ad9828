"""Order receipts and test pages: what staff and customers read on paper."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from printing import receipts
from printing.documents import validate_document
from printing.receipts import (
    PrinterSpec,
    ReceiptItem,
    ReceiptOrder,
    ShopInfo,
    format_money,
    order_receipt,
)
from printing.rendering import render_escpos, render_html, render_text

BRASILIA = timezone(timedelta(hours=-3))
SHOP = ShopInfo("Cantina Escola Sol", "Rua das Flores, 123 - Centro", "Obrigado e bom apetite!")
NARROW = PrinterSpec("Balcão", paper_width=58)
WIDE = PrinterSpec("Cozinha", paper_width=80)
LONG_NAME = "Suco de laranja natural com acerola e hortelã (500 ml)"


def make_order(**changes):
    fields = dict(
        number="042",
        channel="counter",
        customer_name="Maria da Conceição",
        created_at=datetime(2025, 3, 5, 12, 30, tzinfo=BRASILIA),
        items=(
            ReceiptItem("Pão de queijo", 2, Decimal("4.50")),
            ReceiptItem(LONG_NAME, 1, Decimal("12.00")),
            ReceiptItem("Coxinha", 10, Decimal("123.45")),
        ),
        total=Decimal("1255.50"),
        payment_method="Pix",
        order_id=7,
    )
    fields.update(changes)
    return ReceiptOrder(**fields)


@pytest.mark.parametrize("printer", [NARROW, WIDE], ids=["58mm", "80mm"])
def test_receipt_text_shows_number_customer_items_and_total(printer):
    text = render_text(order_receipt(make_order(), printer, SHOP), printer)
    words = " ".join(text.split())
    assert "PEDIDO #042" in text
    assert "Cantina Escola" in text
    assert "Maria da Conceição" in text
    assert "Pão de queijo" in text and "Coxinha" in text
    assert all(word in words.split() for word in LONG_NAME.split())  # wrapped inside its column
    assert "R$ 9,00" in text and "R$ 1.234,50" in text
    assert "R$ 1.255,50" in text and "TOTAL" in text
    assert "05/03/2025 12:30" in text and "Balcão" in text and "Pix" in text
    assert all(len(line) <= printer.columns for line in text.splitlines())


def test_receipt_on_80mm_reads_like_this():
    text = render_text(order_receipt(make_order(), WIDE, SHOP, job_id=123), WIDE)
    assert text.splitlines()[:20] == [
        "               Cantina Escola Sol",
        "          Rua das Flores, 123 - Centro",
        "================================================",
        "                  PEDIDO #042",
        "================================================",
        "Data:                           05/03/2025 12:30",
        "Canal:                                    Balcão",
        "Cliente: Maria da Conceição",
        "------------------------------------------------",
        "Qtd Item                       Unit.       Total",
        " 2x Pão de queijo            R$ 4,50     R$ 9,00",
        " 1x Suco de laranja         R$ 12,00    R$ 12,00",
        "    natural com acerola e",
        "    hortelã (500 ml)",
        "10x Coxinha                R$ 123,45 R$ 1.234,50",
        "------------------------------------------------",
        "TOTAL:                               R$ 1.255,50",
        "Pagamento:                                   Pix",
        "",
        "                   [QR: 042]",
    ]


def test_scheduled_orders_show_the_pickup_time_in_their_own_timezone():
    order = make_order(
        channel="scheduled",
        scheduled_for=datetime(2025, 3, 6, 10, 15, tzinfo=BRASILIA),
        created_at=datetime(2025, 3, 5, 23, 50, tzinfo=BRASILIA),
    )
    text = render_text(order_receipt(order, NARROW, SHOP), NARROW)
    assert "Agendado" in text
    assert "Retirada:" in text and "06/03 10:15" in text
    assert "05/03/2025 23:50" in text  # not converted to UTC (which would be the 6th)


def test_notes_are_printed_and_wrapped():
    text = render_text(
        order_receipt(make_order(notes="Sem cebola, por favor. Entregar na sala 3B."), NARROW, SHOP), NARROW
    )
    assert "Observações:" in text
    assert "Sem cebola, por favor. Entregar\nna sala 3B." in text


def test_reprint_marker_only_on_reprints_at_top_and_bottom():
    original = render_text(order_receipt(make_order(), WIDE, SHOP), WIDE)
    reprint = render_text(order_receipt(make_order(), WIDE, SHOP, reprint=True), WIDE)
    assert "REIMPRESSÃO" not in original
    assert reprint.count("REIMPRESSÃO") == 2
    assert "REIMPRESSÃO" in reprint.splitlines()[0]


def test_job_reference_is_printed_when_given():
    assert "Ref. 314" in render_text(order_receipt(make_order(), NARROW, SHOP, job_id=314), NARROW)
    assert "Ref." not in render_text(order_receipt(make_order(), NARROW, SHOP), NARROW)


@pytest.mark.parametrize(
    ("language", "reference", "money", "date"),
    [
        ("pt-br", "Ref. 314", "R$ 1.255,50", "05/03/2025 12:30"),
        ("en", "Ref. 314", "R$ 1,255.50", "03/05/2025 12:30"),
        ("es", "Ref. 314", "R$ 1,255.50", "05/03/2025 12:30"),
        ("zh-hans", "编号 314", "R$ 1,255.50", "2025-03-05 12:30"),
    ],
)
def test_receipt_speaks_its_language_down_to_the_reference_money_and_date(language, reference, money, date):
    from django.utils import translation

    with translation.override(language):
        text = render_text(order_receipt(make_order(), WIDE, SHOP, job_id=314), WIDE)
    assert text.rstrip().splitlines()[-1].strip() == reference
    assert "job" not in text
    assert money in text and date in text


def test_no_customer_line_without_a_customer_name():
    for name in ("", "   "):
        text = render_text(order_receipt(make_order(customer_name=name), WIDE, SHOP), WIDE)
        assert "Cliente" not in text
    assert "Cliente: Maria" in render_text(order_receipt(make_order(), WIDE, SHOP), WIDE)


def test_scheduled_receipts_say_whether_the_money_is_still_due():
    scheduled = dict(channel="scheduled", scheduled_for=datetime(2025, 3, 6, 10, 15, tzinfo=BRASILIA))
    unpaid = render_text(order_receipt(make_order(payment_method="", **scheduled), WIDE, SHOP), WIDE)
    assert "Pagamento:" in unpaid and "a pagar na retirada" in unpaid
    paid = render_text(order_receipt(make_order(payment_method="Pix", **scheduled), WIDE, SHOP), WIDE)
    assert "Pix" in paid and "a pagar" not in paid
    counter = render_text(order_receipt(make_order(payment_method=""), WIDE, SHOP), WIDE)
    assert "Pagamento" not in counter  # paid at the counter, nothing is due later


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("pt-br", "R$", "R$ 1.234,50"),
        ("en", "R$", "R$ 1,234.50"),
        ("en", "$", "$1,234.50"),
        ("es", "$", "$1,234.50"),
        ("zh-hans", "¥", "¥1,234.50"),
    ],
)
def test_money_is_the_shops_currency_with_the_languages_separators(settings, language, currency, expected):
    settings.CANTINA_CURRENCY_SYMBOL = currency
    assert format_money(Decimal("1234.5"), language) == expected
    assert format_money(Decimal("-25"), language).startswith("-")


@pytest.mark.parametrize("paper_width", [58, 80])
def test_no_cut_without_a_cutter(paper_width):
    with_cutter = PrinterSpec("a", paper_width=paper_width, has_cutter=True)
    without = PrinterSpec("b", paper_width=paper_width, has_cutter=False)
    assert render_escpos(order_receipt(make_order(), with_cutter, SHOP), with_cutter).count(b"\x1dV") == 1
    assert b"\x1dV" not in render_escpos(order_receipt(make_order(), without, SHOP), without)


def test_two_copies_double_the_content():
    document = order_receipt(make_order(), WIDE, SHOP)
    one = render_escpos(document, WIDE)
    two = render_escpos(document, WIDE, copies=2)
    assert two == one + one
    assert two.count(b"PEDIDO #042") == 2 and two.count(b"\x1dV") == 2


def test_receipt_prints_accents_and_a_native_qr_of_the_order_number():
    escpos = render_escpos(order_receipt(make_order(), WIDE, SHOP), WIDE)
    assert "Maria da Conceição".encode("cp850") in escpos
    assert b"\x1d(k\x06\x001P0042" in escpos


def test_labels_go_through_gettext(monkeypatch):
    monkeypatch.setattr(receipts, "_", lambda message: f"«{message}»")
    text = render_text(order_receipt(make_order(), WIDE, SHOP, reprint=True), WIDE)
    for label in ("PEDIDO", "Data", "Canal", "Balcão", "Cliente", "TOTAL", "Pagamento", "REIMPRESSÃO", "Qtd"):
        assert f"«{label}»" in text


def test_receipt_is_a_canonical_json_document():
    document = order_receipt(make_order(), NARROW, SHOP, reprint=True, job_id=1)
    assert validate_document(document) == document
    assert json.loads(json.dumps(document)) == document


def test_receipt_preview_is_html():
    html = render_html(order_receipt(make_order(customer_name="<b>Zé</b>"), NARROW, SHOP), NARROW)
    assert "&lt;b&gt;Zé&lt;/b&gt;" in html and "<b>Zé" not in html
    assert 'style="width:32ch"' in html


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("0"), "R$ 0,00"),
        (Decimal("4.5"), "R$ 4,50"),
        (Decimal("1234.5"), "R$ 1.234,50"),
        (Decimal("1234567.891"), "R$ 1.234.567,89"),
        (Decimal("0.005"), "R$ 0,01"),
        (Decimal("-12.3"), "-R$ 12,30"),
    ],
)
def test_money_is_formatted_brazilian_style(amount, expected):
    assert format_money(amount) == expected


@pytest.mark.parametrize("printer", [NARROW, PrinterSpec("Epson", 80, profile="TM-T88V", has_cutter=False)])
def test_test_page_describes_the_printer_and_samples_accents(printer):
    document = receipts.test_page(printer, SHOP, now=datetime(2025, 3, 5, 8, 0, tzinfo=BRASILIA))
    text = render_text(document, printer)
    escpos = render_escpos(document, printer)
    words = " ".join(text.split())
    assert printer.name in text
    assert f"{printer.paper_width} mm, {printer.columns} colunas" in text
    assert "CP850 (ESC t 2)" in text
    assert (printer.profile or "padrão") in text
    assert receipts.ACCENTS_SAMPLE in words
    assert "coração, açaí".encode("cp850") in escpos
    assert b"\x1d(k" in escpos
    assert (b"\x1dV" in escpos) == printer.has_cutter
    assert all(len(line) <= printer.columns for line in text.splitlines())


def test_chinese_column_headers_are_measured_in_paper_columns():
    from django.utils import translation

    with translation.override("zh-hans"):
        text = render_text(order_receipt(make_order(), NARROW, SHOP), NARROW)
    header = next(line for line in text.splitlines() if "商品" in line)
    assert header.split() == ["数量", "商品", "小计"]  # "数量" not wrapped onto two lines


def test_staff_pages_and_receipts_write_money_the_same_way(settings):
    from django.template import Context, Template
    from django.utils import translation

    for symbol in ("R$", "¥"):
        settings.CANTINA_CURRENCY_SYMBOL = symbol
        for language in ("pt-br", "en"):
            with translation.override(language):
                page = Template("{% load orders_tags %}{{ value|money }}").render(Context({"value": Decimal("1234.5")}))
                assert page == format_money(Decimal("1234.5"), language)
