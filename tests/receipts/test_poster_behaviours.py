"""Documents from the poster and ticket-daemon projects print as their authors meant: one test per
behaviour found in poster's Go renderer, bytes asserted."""

import base64
import io
import re

import pytest
from PIL import Image, ImageChops

from printing.documents import (
    DocumentError,
    DocumentWarning,
    check_document,
    validate_document,
)
from printing.receipts import PrinterSpec
from printing.rendering import render_escpos, render_html, render_image
from tests.receipts.rasterdecode import split_raster

ESC, GS, LF = b"\x1b", b"\x1d", b"\n"
START = ESC + b"@" + ESC + b"t\x02"
NARROW = PrinterSpec("58", paper_width=58)
WIDE = PrinterSpec("80", paper_width=80)
QR_NATIVE = GS + b"(k"


def doc(*commands, profile=None):
    return {"version": "1.0", "profile": profile or {"model": "test"}, "commands": list(commands)}


def command(kind, **data):
    return {"type": kind, "data": data}


def png(width, height, colour=0) -> str:
    buffer = io.BytesIO()
    Image.new("L", (width, height), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


# -- label given as a plain string, its label_style beside it ------------------------------------------


def test_string_label_keeps_the_label_style_beside_it():
    document = doc(
        command("text", label="Total", label_style={"bold": True, "size": "1x2", "underline": "1pt"}, content="R$ 5")
    )
    assert render_escpos(document, NARROW) == (
        START
        + GS
        + b"!\x01"
        + ESC
        + b"E\x01"
        + ESC
        + b"-\x01"
        + b"Total: "
        + GS
        + b"!\x00"
        + ESC
        + b"E\x00"
        + ESC
        + b"-\x00"
        + b"R$ 5"
        + LF
    )
    label = validate_document(document)["commands"][0]["data"]["label"]
    assert label["text"] == "Total" and label["label_style"]["bold"] is True


def test_object_label_style_inside_the_label_still_wins():
    document = doc(
        command("text", label={"text": "A", "label_style": {"bold": True}}, label_style={"bold": False}, content="b")
    )
    assert render_escpos(document, NARROW) == START + ESC + b"E\x01" + b"A: " + ESC + b"E\x00" + b"b" + LF


# -- size names: printed, with a warning; invalid sizes still refused ----------------------------------


def test_size_name_normal_prints_at_1x1_with_a_warning():
    document = doc(command("text", content="x", style={"size": "normal"}))
    normalized, warnings = check_document(document)
    assert render_escpos(document, NARROW) == START + b"x" + LF  # no GS ! at all: 1x1
    assert normalized["commands"][0]["data"]["content"]["content_style"]["size"] == "1x1"
    assert warnings == [('command 0 (text): "style.size" is a size name, printed as "1x1" (write "WxH"), got "normal"')]
    assert isinstance(warnings[0], DocumentWarning)
    assert (warnings[0].index, warnings[0].field, warnings[0].command) == (0, "style.size", "text")
    assert check_document(normalized)[1] == []  # the canonical document is clean


def test_size_name_double_prints_at_2x2():
    document = doc(command("text", content={"text": "y", "content_style": {"size": "DOUBLE"}}))
    assert render_escpos(document, NARROW) == START + GS + b"!\x11" + b"y" + LF + GS + b"!\x00"
    assert len(check_document(document)[1]) == 1


@pytest.mark.parametrize("size", ["huge", "9x9", "0", True, [2, 2]])
def test_truly_invalid_sizes_are_still_refused_precisely(size):
    with pytest.raises(DocumentError) as caught:
        validate_document(doc(command("text", content="x"), command("text", content="z", style={"size": size})))
    assert caught.value.index == 1 and caught.value.field == "style.size"
    assert 'must be "WxH"' in str(caught.value)


# -- QR codes: logo, round modules, printers without native QR -----------------------------------------


def test_qr_with_a_logo_is_drawn_as_an_image_with_the_logo():
    plain = render_image(doc(command("qr", data="https://example.com/42", size=200, correction="H")), WIDE)
    document = doc(command("qr", data="https://example.com/42", size=200, correction="H", logo=png(40, 40)))
    output = render_escpos(document, WIDE)
    commands, pictures = split_raster(output)
    assert QR_NATIVE not in commands and len(pictures) == 1
    with_logo = render_image(document, WIDE)
    assert with_logo.size == plain.size
    # The middle of the code is the logo: solid black where the plain code has its own pattern.
    middle = (with_logo.width // 2 - 4, with_logo.height // 2 - 4, with_logo.width // 2 + 4, with_logo.height // 2 + 4)
    assert with_logo.crop(middle).getextrema() == (0, 0)
    assert ImageChops.difference(plain.convert("L"), with_logo.convert("L")).getbbox() is not None


def test_qr_circle_shape_draws_round_modules_on_large_codes():
    square = render_image(doc(command("qr", data="circle", pixel_width=300)), WIDE)
    document = doc(command("qr", data="circle", pixel_width=300, circle_shape=True))
    commands, pictures = split_raster(render_escpos(document, WIDE))
    assert QR_NATIVE not in commands and len(pictures) == 1
    round_ = render_image(document, WIDE)
    assert round_.size == square.size

    # Round modules leave less ink than square ones.
    def ink(picture):
        return picture.convert("L").histogram()[0]

    assert ink(round_) < ink(square)


def test_qr_circle_shape_on_a_small_code_is_ignored_with_a_warning_like_poster():
    document = doc(command("qr", data="small", pixel_width=200, circle_shape=True))
    normalized, warnings = check_document(document)
    assert "circle_shape" not in normalized["commands"][0]["data"]
    assert len(warnings) == 1 and warnings[0].field == "circle_shape"
    assert QR_NATIVE in render_escpos(document, WIDE)


def test_profile_without_qr_prints_every_qr_as_an_image():
    native = render_escpos(doc(command("qr", data="abc")), WIDE)
    assert QR_NATIVE in native
    output = render_escpos(
        doc(command("qr", data="abc"), command("qr", data="def"), profile={"model": "x", "has_qr": False}), WIDE
    )
    commands, pictures = split_raster(output)
    assert QR_NATIVE not in commands
    assert len(pictures) == 2


# -- barcodes wider than the paper ---------------------------------------------------------------------


def test_barcode_too_wide_for_native_bars_is_a_scaled_image_that_fits():
    data = "CANTINA-PRINT-2026-0001"  # code128: 11 x 26 + 2 = 288 bars: 576 dots at 2 dots per bar
    output = render_escpos(doc(command("barcode", symbology="code128", data=data)), NARROW)
    commands, pictures = split_raster(output)
    assert GS + b"k" not in commands  # never sent natively to overflow
    assert len(pictures) == 1 and pictures[0].width == 384
    ink = ImageChops.invert(pictures[0].convert("L")).getbbox()
    assert ink is not None and ink[2] <= 384
    # On 80 mm paper the same code fits at 2 dots per bar and stays native.
    assert GS + b"w\x02" + GS + b"f\x00" in render_escpos(doc(command("barcode", symbology="code128", data=data)), WIDE)


def test_barcode_html_preview_shows_the_picture_the_paper_gets():
    document = doc(command("barcode", symbology="code128", data="CANTINA-PRINT-2026-0001"))
    html = render_html(document, NARROW)
    uri = re.search(r'src="data:image/png;base64,([^"]+)"', html)[1]
    preview = Image.open(io.BytesIO(base64.b64decode(uri))).convert("1")
    width = float(re.search(r'style="width:([0-9.]+)%"', html)[1])
    _, pictures = split_raster(render_escpos(document, NARROW))
    printed = pictures[0]
    assert width == pytest.approx(100 * preview.width / 384, abs=0.01)
    # The printed strip is the preview placed in the middle of the paper.
    offset = (384 - preview.width) // 2
    assert (
        ImageChops.difference(
            printed.crop((offset, 0, offset + preview.width, preview.height)).convert("L"), preview.convert("L")
        ).getbbox()
        is None
    )


def test_barcode_too_wide_even_at_one_dot_per_bar_is_refused_clearly():
    with pytest.raises(DocumentError) as caught:
        render_escpos(doc(command("text", content="x"), command("barcode", symbology="code128", data="A" * 40)), NARROW)
    assert caught.value.index == 1 and caught.value.field == "data" and caught.value.command == "barcode"
    assert "wider than the paper's 384 dots" in str(caught.value)


# -- raw commands ------------------------------------------------------------------------------------


def test_new_line_false_before_raw_keeps_the_raw_bytes_on_the_same_line():
    document = doc(
        command("text", content="Total", new_line=False), command("raw", hex="1B 21 30"), command("text", content="5")
    )
    assert render_escpos(document, NARROW) == START + b"Total" + ESC + b"!\x30" + b"5" + LF


def test_new_line_true_before_raw_ends_the_line_first():
    document = doc(command("text", content="Total"), command("raw", hex="1B 21 30"))
    assert render_escpos(document, NARROW) == START + b"Total" + LF + ESC + b"!\x30"


def test_after_raw_nothing_is_restated_so_raw_settings_stay_in_force():
    document = doc(
        command("text", content="a", style={"bold": True}),
        command("raw", hex="1B 4D 01 1B 61 02 1B 74 10"),
        command("text", content="b", style={"bold": True}),
        command("text", content="c", align="left"),
    )
    assert render_escpos(document, NARROW) == (
        START
        + ESC
        + b"E\x01"
        + b"a"
        + LF
        + ESC
        + b"M\x01"
        + ESC
        + b"a\x02"
        + ESC
        + b"t\x10"
        + b"b"
        + LF
        + ESC
        + b"E\x00"
        + b"c"
        + LF
    )


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        ("1B 40", "ESC @"),
        ("1B 3D 00", "ESC = 0"),
        ("1B 70 00 19 FA", "ESC p"),
        ("1D 3A", "GS :"),
        ("10 05 04", "DLE ENQ 4"),
    ],
)
def test_safe_mode_blocks_what_poster_blocks(payload, name):
    with pytest.raises(DocumentError) as caught:
        validate_document(doc(command("raw", hex="0A " + payload, safe_mode=True)))
    assert f"contains {name}" in str(caught.value) and "refused in safe_mode" in str(caught.value)
    assert caught.value.field == "hex"
    # Without safe_mode the author gets the bytes.
    assert bytes.fromhex(payload) in render_escpos(doc(command("raw", hex=payload)), NARROW)


def test_safe_mode_lets_ordinary_bytes_through():
    assert render_escpos(doc(command("raw", hex="1B 45 01", safe_mode=True)), NARROW) == START + ESC + b"E\x01"
