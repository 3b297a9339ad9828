"""Plain text rendering: the layout a text-only client prints, never wider than the paper."""

import pytest

from printing.receipts import PrinterSpec
from printing.rendering import render_text

NARROW = PrinterSpec("58", paper_width=58)
WIDE = PrinterSpec("80", paper_width=80)


def doc(*commands):
    return {"version": "1.0", "profile": {"model": "test"}, "commands": list(commands)}


def command(kind, **data):
    return {"type": kind, "data": data}


def text(content, align="left", **style):
    return command("text", content={"text": content, "align": align, "content_style": style})


def test_a_small_document_prints_exactly_this_layout():
    document = doc(
        text("CANTINA", align="center", bold=True, size="2x2"),
        command("separator", char="="),
        command("text", label={"text": "Total"}, content={"text": "R$ 9,00", "align": "right"}),
        command("text", label={"text": "Cliente"}, content="Ana"),
        command(
            "table",
            definition={
                "columns": [
                    {"name": "Qtd", "width": 3, "align": "right"},
                    {"name": "Item", "width": 20, "align": "left"},
                    {"name": "Valor", "width": 7, "align": "right"},
                ]
            },
            rows=[["2", "Pão de queijo com requeijão", "9,00"]],
            options={"align": "left"},
        ),
        command("feed", lines=1),
        text("obrigado", align="right"),
        command("qr", data="042"),
        command("cut"),
    )
    assert render_text(document, NARROW) == (
        "            CANTINA\n"
        "================================\n"
        "Total:                   R$ 9,00\n"
        "Cliente: Ana\n"
        "Qtd Item                   Valor\n"
        "  2 Pão de queijo com       9,00\n"
        "    requeijão\n"
        "\n"
        "                        obrigado\n"
        "           [QR: 042]\n"
    )


@pytest.mark.parametrize(("printer", "width"), [(NARROW, 32), (WIDE, 48)], ids=["58mm", "80mm"])
def test_wrapped_lines_never_exceed_the_columns(printer, width):
    long_text = "Sanduíche natural de frango com cenoura ralada, alface e maionese caseira " * 3
    document = doc(
        text(long_text),
        text(long_text, size="2x1"),
        text(long_text, size="3x3", align="center"),
        text(long_text, font="B"),
        text("x" * 200),
        text("面条" * 40),
        command("text", label={"text": "Observação"}, content={"text": long_text, "align": "right"}),
    )
    lines = render_text(document, printer).splitlines()
    assert max(len(line) for line in lines) == width
    assert all(len(line) <= width for line in lines)


def test_double_width_text_uses_half_the_columns():
    lines = render_text(doc(text("ABCDEFGHIJ " * 4, size="2x2")), NARROW).splitlines()
    assert lines == ["ABCDEFGHIJ", "ABCDEFGHIJ", "ABCDEFGHIJ", "ABCDEFGHIJ"]


def test_words_longer_than_a_line_are_cut():
    assert render_text(doc(text("a" * 40)), NARROW) == "a" * 32 + "\n" + "a" * 8 + "\n"


def test_explicit_newlines_and_new_line_false_are_kept():
    document = doc(
        command("text", content="Turno: ", new_line=False),
        command("text", content={"text": "42", "content_style": {"bold": True}}),
        text("a\nb"),
    )
    assert render_text(document, WIDE) == "Turno: 42\na\nb\n"


def test_tables_shrink_their_widest_columns_to_fit():
    document = doc(
        command(
            "table",
            columns=[{"name": "A", "width": 30, "align": "left"}, {"name": "B", "width": 20, "align": "left"}],
            rows=[["x" * 30, "y" * 20]],
            options={"column_spacing": 2},
        )
    )
    lines = render_text(document, NARROW).splitlines()
    assert all(len(line) <= 32 for line in lines)
    assert lines[0].startswith("A") and "B" in lines[0]


def test_tables_without_auto_reduce_shrink_every_column_in_proportion():
    document = doc(
        command(
            "table",
            columns=[{"name": "A", "width": 40, "align": "left"}, {"name": "B", "width": 20, "align": "left"}],
            rows=[],
            options={"auto_reduce": False, "column_spacing": 2, "align": "left"},
        )
    )
    assert render_text(document, NARROW) == "A" + " " * 21 + "B\n"  # 20 + 2 + 10 columns


def test_table_without_word_wrap_truncates_cells():
    document = doc(
        command(
            "table",
            columns=[{"name": "", "width": 4, "align": "left"}],
            rows=[["abcdefgh"]],
            options={"word_wrap": False, "align": "left"},
        )
    )
    assert render_text(document, NARROW) == "abcd\n"


def test_pictures_and_devices_leave_only_markers():
    document = doc(
        command("barcode", symbology="ean13", data="1234567890128"),
        command("image", code="CODIGO_EN_BASE64"),
        command("pulse"),
        command("beep"),
        command("raw", hex="1b40"),
        command("cut"),
    )
    assert render_text(document, NARROW) == "     [EAN13: 1234567890128]\n       [imagem inválida]\n"
