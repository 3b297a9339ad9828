"""The ESC/POS parser behind the fake printer: command lengths and readable text."""

import pytest
from escpos.printer import Dummy
from hypothesis import given
from hypothesis import strategies as st

from agent.escpos_parser import Incomplete, StreamParser, next_token, render_text, tokenize


def kinds(data: bytes) -> list[str]:
    return [token.kind for token in tokenize(data)]


@pytest.mark.parametrize(
    "command, length",
    [
        (b"\x1b@", 2),  # ESC @
        (b"\x1b!\x30", 3),  # ESC ! n
        (b"\x1bt\x10", 3),  # ESC t n
        (b"\x1bp\x00\x32\x32", 5),  # ESC p m t1 t2 (drawer kick)
        (b"\x1bD\x08\x10\x00", 5),  # ESC D n1 n2 NUL
        (b"\x1dV\x00", 3),  # GS V 0
        (b"\x1dVA\x10", 4),  # GS V A n
        (b"\x1d!\x11", 3),  # GS ! n
        (b"\x1dL\x00\x00", 4),  # GS L nL nH
        (b"\x1dk\x02" + b"4006381333931\x00", 17),  # GS k m d1..dk NUL
        (b"\x1dkI\x04{B12", 8),  # GS k m n d1..dn
        (b"\x1d(k\x03\x001C\x05", 8),  # GS ( k pL pH cn fn n
        (b"\x1d8L\x02\x00\x00\x00AB", 9),  # GS 8 L p1..p4 data
        (b"\x1c.", 2),  # FS .
        (b"\x1cp\x01\x00", 4),  # FS p n m
        (b"\x10\x04\x01", 3),  # DLE EOT n
        (b"\x10\x14\x01\x00\x05", 5),  # DLE DC4 1 m t
    ],
)
def test_command_lengths(command, length):
    token, end = next_token(command + b"rest")
    assert end == length
    assert token.raw == command[:length]


def test_esc_star_bit_image_length_comes_from_its_header():
    # ESC * 33 nL nH: 24-dot double density, 3 bytes per column; 2 columns = 6 bytes.
    image = b"\x1b*\x21\x02\x00" + b"\x10\x04\x01\x0a\x1b\x40"
    token, end = next_token(image + b"X")
    assert (token.kind, end) == ("image", len(image))


def test_raster_image_data_is_never_read_as_commands_or_status_queries():
    # GS v 0 with 2 bytes x 3 rows of data that happen to look like DLE EOT, ESC @ and LF.
    raster = b"\x1dv0\x00\x02\x00\x03\x00" + b"\x10\x04\x01\x1b@\x0a"
    assert kinds(raster + b"after") == ["image", "text"]


def test_qr_code_data_is_taken_from_its_length_field():
    printer = Dummy()
    printer.qr("https://cantina.example/p/42", native=True)
    assert "[QR: https://cantina.example/p/42]" in render_text(printer.output)


def test_incomplete_command_asks_for_more_bytes():
    with pytest.raises(Incomplete):
        next_token(b"\x1dv0\x00\x02\x00\x03\x00\x00")


def test_stream_parser_gives_the_same_tokens_whatever_the_chunking():
    printer = Dummy()
    printer.textln("Pão de queijo")
    printer.image(_small_image())
    printer.qr("x", native=True)
    printer.barcode("4006381333931", "EAN13")
    printer.cut()
    data = b"\x10\x04\x01" + printer.output + b"\x10\x04\x04"
    whole = list(tokenize(data))
    for size in (1, 2, 3, 7, 64):
        parser = StreamParser()
        tokens = []
        for start in range(0, len(data), size):
            tokens.extend(parser.feed(data[start : start + size]))
        assert parser.pending() == b""
        assert b"".join(t.raw for t in tokens) == data
        assert [t.kind for t in tokens if t.kind != "text"] == [t.kind for t in whole if t.kind != "text"]


@given(st.binary(max_size=300))
def test_tokenize_never_crashes_and_loses_no_byte(data):
    assert b"".join(token.raw for token in tokenize(data)) == data


@pytest.mark.parametrize("table, encoding", [(0, "cp437"), (2, "cp850"), (3, "cp860"), (19, "cp858"), (16, "cp1252")])
def test_text_is_decoded_with_the_selected_code_page(table, encoding):
    text = "Pão de queijo, coração" if encoding != "cp437" else "Café, açúcar"
    data = b"\x1b@" + bytes([0x1B, 0x74, table]) + text.encode(encoding) + b"\n"
    assert render_text(data).strip() == text


def test_text_from_python_escpos_reads_right_with_accents():
    printer = Dummy()
    printer.set(align="center", bold=True)
    printer.textln("Pão de queijo, coração — 2 × R$ 5,00 €")
    printer.set(bold=False)
    printer.textln("AÇAÍ ÀS MAÇÃS")
    printer.cut()
    text = render_text(printer.output)
    assert "Pão de queijo, coração — 2 × R$ 5,00 €" in text
    assert "AÇAÍ ÀS MAÇÃS" in text
    assert "cut" in text
    assert "\x1b" not in text and "\x1d" not in text


def test_init_resets_the_code_page():
    data = b"\x1bt\x02\xc6\n\x1b@\xc6\n"
    assert render_text(data).split("\n")[:2] == ["ã", "╞"]  # 0xC6 in CP850, then in CP437


def _small_image():
    from PIL import Image

    return Image.new("1", (16, 8), 0)
