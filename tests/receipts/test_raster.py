"""Raster printing: whole documents as pictures (PNG, raster_only printers), and text lines a code
page can't carry printed as pictures instead of "?"."""

import io
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from printing.documents import validate_document
from printing.receipts import (
    PrinterSpec,
    ReceiptItem,
    ReceiptOrder,
    ShopInfo,
    order_receipt,
)
from printing.rendering import (
    layout,
    printer_geometry,
    raster,
    render_escpos,
    render_html,
    render_image,
    render_png,
    render_text,
)
from tests.receipts.rasterdecode import split_raster, stack

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
BRASILIA = timezone(timedelta(hours=-3))
SHOP = ShopInfo("Cantina Escola Sol", "Rua das Flores, 123", "Obrigado!")
NARROW = PrinterSpec("Balcão", paper_width=58)
WIDE = PrinterSpec("Cozinha", paper_width=80)
ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"


def doc(*commands):
    return {"version": "1.0", "profile": {"model": "test"}, "commands": list(commands)}


def text(content, **style):
    return {"type": "text", "data": {"content": {"text": content, "content_style": style}}}


def receipt_order(**changes):
    fields = {
        "number": "042",
        "channel": "counter",
        "customer_name": "Maria",
        "created_at": datetime(2025, 3, 5, 12, 30, tzinfo=BRASILIA),
        "items": (ReceiptItem("Pão de queijo", 2, Decimal("4.50")), ReceiptItem("Coxinha", 1, Decimal("7.25"))),
        "total": Decimal("16.25"),
        "payment_method": "Pix",
    }
    return ReceiptOrder(**(fields | changes))


def chinese_order():
    return receipt_order(
        customer_name="王小明",
        items=(ReceiptItem("珍珠奶茶 大杯", 1, Decimal("25.00")), ReceiptItem("芒果冰沙", 2, Decimal("18.00"))),
        total=Decimal("61.00"),
        notes="少冰，半糖",
    )


def png_image(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG"
    return picture.convert("1")


def same_pixels(first: Image.Image, second: Image.Image) -> bool:
    return (
        first.size == second.size and ImageChops.difference(first.convert("L"), second.convert("L")).getbbox() is None
    )


# -- golden pictures -------------------------------------------------------------------------------


@pytest.mark.parametrize("printer", [NARROW, WIDE], ids=["58mm", "80mm"])
def test_receipt_picture_matches_its_golden_png(printer):
    document = order_receipt(receipt_order(), printer, SHOP, job_id=7)
    picture = png_image(render_png(document, printer))
    assert picture.width == printer.dots == {58: 384, 80: 576}[printer.paper_width]
    path = GOLDEN / f"receipt_{printer.paper_width}mm.png"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path} is missing: run with UPDATE_GOLDEN=1 to create it, then look at it")
        path.parent.mkdir(exist_ok=True)
        picture.save(path, optimize=True)
    golden = Image.open(path).convert("1")
    assert same_pixels(picture, golden), f"differs from {path.name} (UPDATE_GOLDEN=1 after checking by eye)"


def test_picture_has_ink_where_the_text_is():
    picture = render_image(doc(text("X" * 32)), NARROW)
    assert picture.mode == "1" and picture.width == 384
    ink = ImageChops.invert(picture.convert("L")).getbbox()
    assert ink is not None
    left, _, right, _ = ink
    assert left < 12 and right > 384 - 12  # 32 font A characters fill the 58 mm line


# -- scripts a code page can't carry ----------------------------------------------------------------


def test_chinese_receipt_on_a_printer_without_gb18030_is_raster_and_has_no_question_marks():
    document = order_receipt(chinese_order(), NARROW, SHOP, job_id=9)
    output = render_escpos(document, NARROW)
    commands, pictures = split_raster(output)
    assert pictures, "the Chinese lines must be printed as raster images"
    assert b"?" not in commands
    assert FS + b"&" not in commands  # no Chinese mode on a printer that has none
    assert all(picture.width == 384 for picture in pictures)
    # The rest keeps the code page: Portuguese labels and prices are still text.
    assert b"PEDIDO #042" in commands and b"R$ 61,00" in commands
    # The previews show the real characters.
    assert "珍珠奶茶" in render_text(document, NARROW)
    assert "珍珠奶茶" in render_html(document, NARROW)


def test_chinese_on_a_gb18030_profile_stays_text():
    printer = PrinterSpec("zj", 58, profile="ZJ-5870")
    output = render_escpos(doc(text("珍珠奶茶")), printer)
    assert FS + b"&" + "珍珠奶茶".encode("gb18030") + FS + b"." in output
    assert GS + b"v0" not in output


@pytest.mark.parametrize("content", ["a☃b 😀", "नमस्ते", "გამარჯობა", "안녕하세요", "مرحبا بكم", "שלום"])
def test_characters_no_code_page_holds_print_as_a_picture_not_question_marks(content):
    output = render_escpos(doc(text(content), text("fim")), WIDE)
    commands, pictures = split_raster(output)
    assert len(pictures) == 1 and pictures[0].width == 576
    assert b"?" not in commands
    assert commands.endswith(b"fim" + LF)


def test_portuguese_and_spanish_accents_keep_the_code_page():
    output = render_escpos(doc(text("Ação, coração, niño, señor, ¿qué?")), WIDE)
    assert GS + b"v0" not in output
    assert b"A\x87\xc6o" in output and b"ni\xa4o" in output


def test_a_raster_line_keeps_its_place_between_text_lines():
    output = render_escpos(doc(text("antes"), text("面条", bold=True), text("depois")), NARROW)
    before, after = output.split(GS + b"v0", 1)
    assert before.endswith(b"antes" + LF)
    assert after.endswith(b"depois" + LF)


# -- raster_only printers ---------------------------------------------------------------------------


def test_raster_only_printer_gets_pictures_that_decode_to_the_png():
    printer = PrinterSpec("star", 80, raster_only=True)
    document = order_receipt(chinese_order(), printer, SHOP, job_id=5)
    output = render_escpos(document, printer)
    commands, pictures = split_raster(output)
    assert pictures
    # No text at all: init, code page, the pictures and the cut.
    assert commands == ESC + b"@" + ESC + b"t\x02" + ESC + b"d\x03" + GS + b"VB\x00"
    assert same_pixels(stack(pictures), render_image(document, printer))
    assert same_pixels(stack(pictures), png_image(render_png(document, printer)))


def test_raster_only_draws_qr_codes_and_barcodes_too():
    printer = PrinterSpec("p", 58, raster_only=True)
    document = doc(
        {"type": "qr", "data": {"data": "https://example.com"}},
        {"type": "barcode", "data": {"symbology": "ean13", "data": "1234567890128"}},
    )
    commands, pictures = split_raster(render_escpos(document, printer))
    assert GS + b"(k" not in commands and GS + b"k" not in commands
    assert len(pictures) == 1  # one run of raster strips, sent as one image


def test_raster_only_is_a_printer_option_defaulting_to_false(db):
    from printing.models import Printer

    printer = Printer.objects.create(name="Sem fonte")
    assert printer.raster_only is False
    printer.raster_only = True
    printer.save()
    assert Printer.objects.get(pk=printer.pk).raster_only is True


# -- every text line fits the paper -----------------------------------------------------------------

LINE_TEXT = st.text(alphabet=st.sampled_from(list("abcdefghij KLMNOP 0123 çãé 面条奶茶 😀ก")), max_size=80)
STYLE = st.fixed_dictionaries(
    {},
    optional={
        "bold": st.booleans(),
        "size": st.builds(lambda w, h: f"{w}x{h}", st.integers(1, 4), st.integers(1, 3)),
        "font": st.sampled_from(["A", "B"]),
        "underline": st.sampled_from(["0pt", "1pt", "2pt"]),
        "inverse": st.booleans(),
    },
)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    commands=st.lists(
        st.builds(
            lambda content, style, align, new_line: {
                "type": "text",
                "data": {"content": {"text": content, "align": align, "content_style": style}, "new_line": new_line},
            },
            LINE_TEXT,
            STYLE,
            st.sampled_from(["left", "center", "right"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    ),
    printer=st.sampled_from([NARROW, WIDE, PrinterSpec("epson", 80, "TM-T88V")]),
)
def test_every_text_line_is_drawn_within_the_dot_width(commands, printer):
    shape = printer_geometry(printer)
    cells = raster.Cells(shape)
    groups = layout.layout(validate_document(doc(*commands)), shape, plain=False)
    for group in groups:
        for line in group.blocks:
            # Draw on a strip twice as wide: no ink may land past the paper's edge.
            wide = raster.Cells(shape)
            wide.dots = shape.dots * 2
            picture = raster.line_image(line, wide)
            ink = ImageChops.invert(picture.convert("L")).getbbox()
            if ink is not None:
                assert ink[2] <= shape.dots, (line, ink)
            assert raster.line_image(line, cells).width == shape.dots


# -- fonts, startup check, no Django ----------------------------------------------------------------


def test_missing_font_is_a_startup_check_error(settings):
    from printing.checks import raster_fonts

    assert raster_fonts(None) == []
    settings.CANTINA_FONT_CJK = "/nonexistent/wqy-microhei.ttc"
    errors = raster_fonts(None)
    assert [error.id for error in errors] == ["cantina.E002"]
    assert "/nonexistent/wqy-microhei.ttc" in errors[0].msg and "does not exist" in errors[0].msg
    assert "fonts-wqy-microhei" in errors[0].hint


def test_renderers_work_without_django():
    """The agent may render alone: block ``import django`` and render a Chinese receipt."""
    script = r"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError("django is blocked in this test")
sys.meta_path.insert(0, Block())
from datetime import datetime, timezone
from decimal import Decimal
from printing.documents import validate_document
from printing.receipts import PrinterSpec, ReceiptItem, ReceiptOrder, ShopInfo, order_receipt, format_money
from printing.rendering import render_escpos, render_png, render_text
printer = PrinterSpec("p", 58)
order = ReceiptOrder("1", "scheduled", "", datetime(2025, 1, 1, tzinfo=timezone.utc),
                     (ReceiptItem("奶茶", 1, Decimal("25")),), Decimal("25"))
document = order_receipt(order, printer, ShopInfo("Loja"), job_id=3)
text = render_text(document, printer)
assert "PEDIDO #1" in text and "Ref. 3" in text and "a pagar na retirada" in text, text
assert format_money(Decimal("1234.5")) == "R$ 1.234,50"
assert render_png(document, printer).startswith(b"\x89PNG")
assert b"\x1dv0" in render_escpos(document, printer)
assert "django" not in sys.modules
print("ok")
"""
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("size", [(384, 40), (570, 2000), (13, 5)])
def test_raster_bytes_are_what_python_escpos_image_sends(size):
    from escpos.printer import Dummy

    from printing.rendering.to_escpos import raster_bytes

    picture = Image.effect_noise(size, 60).convert("1")
    reference = Dummy()
    reference.image(picture.convert("L"), impl="bitImageRaster")
    assert raster_bytes(picture) == reference.output


def test_inverse_text_is_white_on_black():
    picture = render_image(doc(text("AB", inverse=True)), NARROW)
    # Two inverse characters: their cells' top rows are black ink, the rest of the line white.
    picture = picture.convert("L")
    assert picture.crop((0, 0, 24, 2)).getextrema() == (0, 0)
    assert picture.crop((0, 0, 24, 24)).getextrema() == (0, 255)  # with white letters inside
    assert picture.crop((24, 0, 384, 24)).getextrema() == (255, 255)


def test_right_to_left_text_is_a_shaped_picture():
    output = render_escpos(doc(text("Total: مرحبا بكم"), text("שלום")), NARROW)
    commands, pictures = split_raster(output)
    assert len(pictures) == 1 and b"?" not in commands
    picture = pictures[0].convert("L")
    # Both lines are in the picture; the Arabic sits right of "Total: " (7 cells = 84 dots).
    assert picture.height == 60
    assert ImageChops.invert(picture.crop((84, 0, 384, 30))).getbbox() is not None
    assert ImageChops.invert(picture.crop((0, 30, 384, 60))).getbbox() is not None


@pytest.mark.django_db
def test_a_raster_only_printer_gets_its_receipts_as_pictures(make_printer, make_order):
    from printing.models import PrintJob
    from printing.services import jobs_create_for_order

    text_printer = make_printer(name="Texto")
    raster_printer = make_printer(name="Imagem", raster_only=True)
    order = make_order()
    jobs_create_for_order(order_id=order.pk)
    text_job = PrintJob.objects.get(printer=text_printer, order=order)
    raster_job = PrintJob.objects.get(printer=raster_printer, order=order)
    assert b"PEDIDO" in bytes(text_job.escpos)
    assert b"PEDIDO" not in bytes(raster_job.escpos) and b"\x1dv0" in bytes(raster_job.escpos)
