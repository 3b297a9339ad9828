"""The HTML preview: every command shown, styles visible, all text escaped, nothing external."""

import base64
import io
import re

from PIL import Image

from printing.receipts import PrinterSpec
from printing.rendering import render_html

WIDE = PrinterSpec("80", paper_width=80)
NARROW_NO_CUTTER = PrinterSpec("58", paper_width=58, has_cutter=False)


def doc(*commands):
    return {"version": "1.0", "profile": {"model": "test"}, "commands": list(commands)}


def command(kind, **data):
    return {"type": kind, "data": data}


def png() -> str:
    buffer = io.BytesIO()
    Image.new("L", (40, 20), 0).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


EVERY_COMMAND = doc(
    command(
        "text",
        content={
            "text": "Grande",
            "align": "center",
            "content_style": {"bold": True, "size": "2x2", "underline": "1pt", "inverse": True},
        },
    ),
    command("separator", char="-"),
    command("table", columns=[{"name": "Item", "width": 10}], rows=[["Suco"]]),
    command("feed", lines=2),
    command("qr", data="https://example.com/042", human_text="042"),
    command("barcode", symbology="ean13", data="1234567890128"),
    command("image", code=png()),
    command("cut", mode="partial"),
    command("pulse", pin=0),
    command("beep", times=2),
    command("raw", hex="1b40", comment="reset"),
)


def test_every_command_has_its_own_element():
    html = render_html(EVERY_COMMAND, WIDE)
    for index, kind in enumerate(
        ["text", "separator", "table", "feed", "qr", "barcode", "image", "cut", "pulse", "beep", "raw"]
    ):
        assert f'<div class="cp-cmd cp-{kind}" data-index="{index}">' in html


def test_the_box_is_as_wide_as_the_printers_columns():
    assert 'style="width:48ch"' in render_html(EVERY_COMMAND, WIDE)
    assert 'style="width:32ch"' in render_html(EVERY_COMMAND, NARROW_NO_CUTTER)


def test_styles_are_shown():
    html = render_html(EVERY_COMMAND, WIDE)
    assert '<div class="cp-line cp-center"><span class="cp-b cp-u1 cp-inv" style="font-size:2em">Grande</span>' in html
    assert ".cp-b{font-weight:bold}" in html


def test_qr_barcode_and_image_are_inline_png_images():
    html = render_html(EVERY_COMMAND, WIDE)
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 3
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert 'alt="QR: https://example.com/042"' in html


def test_nothing_external_is_loaded():
    html = render_html(EVERY_COMMAND, WIDE)
    assert "http://" not in html.replace('alt="QR: https://', "")
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "<script" not in html


def test_text_is_escaped():
    hostile = '<script>alert("x")</script> & <b>'
    html = render_html(
        doc(
            command("text", content=hostile),
            command("text", label={"text": "<i>"}, content={"text": hostile, "align": "right"}),
            command("table", columns=[{"name": "<th>", "width": 40}], rows=[[hostile]]),
            command("qr", data=hostile, human_text=hostile),
            command("raw", hex="00", comment='"><script>'),
        ),
        WIDE,
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert "&lt;th&gt;" in html and "&lt;i&gt;" in html


def test_undecodable_image_shows_a_marked_placeholder():
    html = render_html(doc(command("image", code="CODIGO_EN_BASE64")), WIDE)
    assert '<div class="cp-missing">[imagem inválida]</div>' in html


def test_no_cutter_shows_no_cut_mark():
    assert "✂" in render_html(doc(command("cut")), WIDE)
    assert "✂" not in render_html(doc(command("cut")), NARROW_NO_CUTTER)
