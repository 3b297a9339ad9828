"""ESC/POS bytes of every command, on 58 and 80 mm paper, asserted byte for byte."""

import base64
import io

import pytest
from PIL import Image

from printing.receipts import PrinterSpec
from printing.rendering import render_escpos

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
INIT = ESC + b"@"
CP850 = ESC + b"t\x02"
START = INIT + CP850  # every copy on the default profile starts like this

PAPERS = [PrinterSpec("58", paper_width=58), PrinterSpec("80", paper_width=80)]


def doc(*commands):
    return {"version": "1.0", "profile": {"model": "test"}, "commands": list(commands)}


def command(kind, **data):
    return {"type": kind, "data": data}


def text(content, **style):
    return command("text", content={"text": content, "content_style": style})


def png(width, height, colour=0) -> str:
    buffer = io.BytesIO()
    Image.new("L", (width, height), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_plain_text_is_framed_by_init_code_page_and_a_line_feed():
    assert render_escpos(doc(text("Oi")), PAPERS[0]) == START + b"Oi" + LF


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_bold_is_switched_on_then_off(printer):
    output = render_escpos(doc(text("Forte", bold=True), text("fraco")), printer)
    assert output == START + ESC + b"E\x01" + b"Forte" + LF + ESC + b"E\x00" + b"fraco" + LF


def test_bold_is_switched_off_at_the_end_of_the_document():
    assert render_escpos(doc(text("Forte", bold=True)), PAPERS[1]).endswith(LF + ESC + b"E\x00")


def test_size_underline_inverse_font_and_alignment_bytes():
    output = render_escpos(
        doc(
            command(
                "text",
                content={
                    "text": "X",
                    "align": "center",
                    "content_style": {"size": "2x3", "underline": "2pt", "inverse": True, "font": "B"},
                },
            )
        ),
        PAPERS[1],
    )
    assert output == (
        START
        + ESC
        + b"a\x01"
        + GS
        + b"!\x12"
        + ESC
        + b"-\x02"
        + ESC
        + b"M\x01"
        + GS
        + b"B\x01"
        + b"X"
        + LF
        + GS
        + b"!\x00"
        + ESC
        + b"-\x00"
        + ESC
        + b"M\x00"
        + GS
        + b"B\x00"
        + ESC
        + b"a\x00"
    )


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_cut_is_omitted_without_a_cutter_but_the_feed_remains(printer):
    no_cutter = PrinterSpec("x", paper_width=printer.paper_width, has_cutter=False)
    output = render_escpos(doc(text("a"), command("cut", mode="full", feed=6)), no_cutter)
    assert GS + b"V" not in output
    assert output == START + b"a" + LF + ESC + b"d\x06"


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_partial_and_full_cuts_feed_then_cut(printer):
    partial = render_escpos(doc(text("a"), command("cut", mode="partial", feed=3)), printer)
    full = render_escpos(doc(text("a"), command("cut", mode="full", feed=0)), printer)
    assert partial == START + b"a" + LF + ESC + b"d\x03" + GS + b"VB\x00"
    assert full == START + b"a" + LF + GS + b"VA\x00"


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_feed_prints_and_feeds_lines(printer):
    assert render_escpos(doc(command("feed", lines=3)), printer) == START + ESC + b"d\x03"


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_qr_is_printed_natively_with_gs_paren_k(printer):
    output = render_escpos(doc(command("qr", data="042", pixel_width=84, correction="Q", align="center")), printer)
    assert output == (
        START
        + ESC
        + b"a\x01"
        + GS
        + b"(k\x04\x001A2\x00"  # model 2
        + GS
        + b"(k\x03\x001C\x04"  # 4 dots per module (84 px / 21 modules)
        + GS
        + b"(k\x03\x001E2"  # correction Q
        + GS
        + b"(k\x06\x001P0042"  # store the data
        + GS
        + b"(k\x03\x001Q0"  # print it
        + LF
        + ESC
        + b"a\x00"
    )


def test_qr_human_text_is_printed_under_the_code():
    output = render_escpos(doc(command("qr", data="042", human_text="Pedido 042")), PAPERS[1])
    assert output.index(GS + b"(k\x03\x001Q0") < output.index(b"Pedido 042")


def test_qr_becomes_a_raster_image_on_profiles_without_native_qr():
    output = render_escpos(doc(command("qr", data="042")), PrinterSpec("p", 58, profile="POS-5890"))
    assert GS + b"(k" not in output
    assert GS + b"v0" in output


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_ean13_barcode_bytes(printer):
    output = render_escpos(
        doc(command("barcode", symbology="EAN13", data="1234567890128", height=80, width=2, hri_position="below")),
        printer,
    )
    assert output == (
        START
        + ESC
        + b"a\x01"
        + GS
        + b"hP"
        + GS
        + b"w\x02"
        + GS
        + b"f\x00"
        + GS
        + b"H\x02"
        + GS
        + b"kC\x0d1234567890128"
        + LF
        + ESC
        + b"a\x00"
    )


def test_code128_gets_a_code_set_and_hri_above():
    output = render_escpos(
        doc(command("barcode", symbology="CODE128", data="ABC123", hri_position="above", hri_font="B")), PAPERS[1]
    )
    assert GS + b"f\x01" + GS + b"H\x01" + GS + b"kI\x08{BABC123" in output


def test_barcode_module_width_shrinks_to_fit_narrow_paper():
    # 10 characters: 145 modules, 435 dots at width 3, 290 at 2 -> 2 on 384 dots
    output = render_escpos(doc(command("barcode", symbology="code128", data="LONGCODE12", width=5)), PAPERS[0])
    assert GS + b"w\x02" in output
    assert GS + b"kI\x0c{BLONGCODE12" in output


@pytest.mark.parametrize(
    ("printer", "width_bytes", "height"), [(PAPERS[0], 48, 38), (PAPERS[1], 72, 58)], ids=["58mm", "80mm"]
)
def test_images_are_scaled_to_the_paper_width_in_dots(printer, width_bytes, height):
    output = render_escpos(doc(command("image", code=png(1000, 100))), printer)
    header = GS + b"v0\x00" + bytes([width_bytes, 0, height, 0])
    assert header in output
    raster = output[output.index(header) + len(header) :][: width_bytes * height]
    assert raster == b"\xff" * (width_bytes * height)  # all black


def test_small_images_are_padded_to_their_alignment():
    output = render_escpos(doc(command("image", code=png(8, 1), align="right")), PAPERS[0])
    header = GS + b"v0\x00" + bytes([48, 0, 1, 0])
    assert output[output.index(header) + len(header) :][:48] == b"\x00" * 47 + b"\xff"


def test_undecodable_image_prints_a_marked_placeholder():
    output = render_escpos(doc(command("image", code="CODIGO_EN_BASE64")), PAPERS[1])
    assert b"[imagem inv\xa0lida]" in output
    assert GS + b"v0" not in output


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
@pytest.mark.parametrize(("pin", "expected"), [(0, ESC + b"p\x00\x32\x32"), (1, ESC + b"p\x01\x32\x32")])
def test_pulse_kicks_the_cash_drawer_pin(printer, pin, expected):
    assert render_escpos(doc(command("pulse", pin=pin)), printer) == START + expected


def test_pulse_times_are_sent_in_two_millisecond_steps():
    output = render_escpos(doc(command("pulse", pin=0, on_time=100, off_time=200)), PAPERS[0])
    assert output == START + ESC + b"p\x00\x32\x64"


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_beep_uses_the_buzzer(printer):
    assert render_escpos(doc(command("beep", times=3, lapse=2)), printer) == START + ESC + b"B\x03\x02"


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_raw_bytes_pass_through_and_what_they_set_stays_in_force(printer):
    # As in poster: after raw bytes nothing is restated (no ESC t, ESC a, ESC M, ESC !...).
    output = render_escpos(doc(command("raw", hex="1B 4D 01 1B 61 01"), text("Fonte B"), text("ok")), printer)
    assert output == START + ESC + b"M\x01" + ESC + b"a\x01" + b"Fonte B" + LF + b"ok" + LF


def test_raw_base64_is_decoded():
    assert render_escpos(doc(command("raw", hex="HUMx", format="base64")), PAPERS[0]).startswith(START + b"\x1dC1")


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_table_rows_are_padded_lines_with_a_bold_header(printer):
    output = render_escpos(
        doc(
            command(
                "table",
                columns=[{"name": "Qtd", "width": 3, "align": "right"}, {"name": "Item", "width": 60, "align": "left"}],
                rows=[["2", "Pão"]],
                options={"align": "left"},
            )
        ),
        printer,
    )
    assert output == (START + ESC + b"E\x01" + b"Qtd Item" + LF + ESC + b"E\x00" + b"  2 P\xc6o" + LF)


@pytest.mark.parametrize("printer", PAPERS, ids=["58mm", "80mm"])
def test_separator_fills_the_paper_and_never_exceeds_it(printer):
    default = render_escpos(doc(command("separator", char="=")), printer)
    too_long = render_escpos(doc(command("separator", char="-+", length=255)), printer)
    assert default == START + b"=" * printer.columns + LF
    assert too_long == START + (b"-+" * 40)[: printer.columns] + LF


ACCENTS = "ç ã õ á é í ó ú â ê ô à"
ACCENTS_CP850 = bytes.fromhex("87 20 c6 20 e4 20 a0 20 82 20 a1 20 a2 20 a3 20 83 20 88 20 93 20 85")
CAPITALS_CP850 = bytes.fromhex("80 20 c7 20 e5 20 b5 20 90 20 d6 20 e0 20 e9 20 b6 20 d2 20 e2 20 b7")


@pytest.mark.parametrize("profile", ["", "default", "TM-T88V", "TM-T20II"])
def test_portuguese_accents_are_encoded_in_code_page_850(profile):
    output = render_escpos(doc(text(ACCENTS), text(ACCENTS.upper())), PrinterSpec("p", 80, profile=profile))
    assert output == INIT + ESC + b"t\x02" + ACCENTS_CP850 + LF + CAPITALS_CP850 + LF


def test_a_profile_without_pc850_uses_pc858():
    output = render_escpos(doc(text("ação")), PrinterSpec("star", 80, profile="TSP600"))
    assert output == INIT + ESC + b"t\x04" + b"a\x87\xc6o" + LF


def test_the_documents_code_table_is_honoured_when_the_profile_has_it():
    document = doc(text("ação"))
    document["profile"]["code_table"] = "WPC1252"
    output = render_escpos(document, PrinterSpec("p", 80, profile="TM-T88V"))
    assert output == INIT + ESC + b"t\x10" + b"a\xe7\xe3o" + LF


def test_chinese_prints_in_gb18030_mode_on_chinese_profiles():
    output = render_escpos(doc(text("面条 ação")), PrinterSpec("zj", 58, profile="ZJ-5870"))
    assert output == INIT + FS + b"." + CP850 + FS + b"&" + "面条".encode("gb18030") + FS + b"." + b" a\x87\xc6o" + LF


def test_chinese_is_a_raster_image_elsewhere():  # more in test_raster.py
    output = render_escpos(doc(text("面条 ação")), PAPERS[0])
    assert output.startswith(START + GS + b"v0\x00" + bytes([48, 0]))
    assert FS + b"&" not in output and b"?" not in output[:16]


def test_copies_are_complete_and_concatenated():
    document = doc(text("Pedido", bold=True), command("cut"))
    one = render_escpos(document, PAPERS[1])
    assert render_escpos(document, PAPERS[1], copies=3) == one * 3
    assert one.startswith(INIT) and one.endswith(GS + b"VB\x00")


def test_copies_must_be_positive():
    with pytest.raises(ValueError):
        render_escpos(doc(text("x")), PAPERS[1], copies=0)


def test_double_width_text_wraps_at_half_the_columns():
    output = render_escpos(doc(text("ABCDEFGHIJ " * 4, size="2x1")), PAPERS[0])
    body = output[len(START + GS + b"!\x10") :]
    printed = [line for line in body.split(LF) if line and not line.startswith(GS)]
    assert printed and all(len(line) <= 16 for line in printed)


def test_columns_follow_paper_width_and_profile():
    assert PrinterSpec("a", 58).columns == 32
    assert PrinterSpec("a", 80).columns == 48
    assert PrinterSpec("a", 80, profile="TM-T88V").columns == 42
    assert PrinterSpec("a", 80, profile="TM-T20II").columns == 48
    assert PrinterSpec("a", 58, profile="POS-5890").columns == 32
    assert PrinterSpec("a", 80, profile="POS-5890").columns == 48  # a 58 mm profile on 80 mm paper: ignored
    assert PrinterSpec("a", 80, profile="no-such-printer").columns == 48
    assert (PrinterSpec("a", 58).dots, PrinterSpec("a", 80).dots) == (384, 576)
