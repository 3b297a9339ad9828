"""Property: any document made of valid commands renders everywhere, and plain text fits the paper."""

import base64
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from printing.documents import validate_document
from printing.receipts import PrinterSpec
from printing.rendering import render_escpos, render_html, render_text
from printing.rendering.layout import text_width

ALIGN = st.sampled_from(["left", "center", "right"])
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list("çãõáéíóúâêôà ÇÃÕ面条€😀\n\t ")),
    ),
    max_size=120,
)
SHORT_TEXT = st.text(max_size=20)


def _png(width, height, shade):
    buffer = io.BytesIO()
    Image.new("L", (width, height), shade).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


IMAGE_CODES = st.sampled_from([_png(10, 5, 0), _png(900, 30, 100), "CODIGO_EN_BASE64", "", "!!!"])

STYLE = st.fixed_dictionaries(
    {},
    optional={
        "bold": st.booleans(),
        "size": st.builds(lambda w, h: f"{w}x{h}", st.integers(1, 8), st.integers(1, 8)),
        "underline": st.sampled_from(["0pt", "1pt", "2pt"]),
        "inverse": st.booleans(),
        "font": st.sampled_from(["A", "B", "a", "b"]),
    },
)


def command(kind, data):
    return {"type": kind, "data": data}


TEXT_COMMAND = st.one_of(
    st.builds(
        lambda text, align, style, new_line: command(
            "text", {"content": {"text": text, "align": align, "content_style": style}, "new_line": new_line}
        ),
        TEXT,
        ALIGN,
        STYLE,
        st.booleans(),
    ),
    st.builds(lambda text, style: command("text", {"content": text, "style": style, "newline": True}), TEXT, STYLE),
    st.builds(
        lambda label, separator, text, align, style: command(
            "text",
            {
                "label": {"text": label, "separator": separator, "label_style": style},
                "content": {"text": text, "align": align},
            },
        ),
        SHORT_TEXT,
        st.sampled_from([": ", " - ", ""]),
        TEXT,
        ALIGN,
        STYLE,
    ),
)
TABLE_COMMAND = st.integers(1, 6).flatmap(
    lambda count: st.builds(
        lambda columns, rows, spacing, wrap, reduce, headers: command(
            "table",
            {
                "definition": {"columns": columns},
                "rows": rows,
                "show_headers": headers,
                "options": {"column_spacing": spacing, "word_wrap": wrap, "auto_reduce": reduce},
            },
        ),
        st.lists(
            st.fixed_dictionaries({"name": SHORT_TEXT, "width": st.integers(1, 60), "align": ALIGN}),
            min_size=count,
            max_size=count,
        ),
        st.lists(st.lists(TEXT, min_size=0, max_size=count), max_size=4),
        st.integers(0, 8),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    )
)
COMMANDS = st.one_of(
    TEXT_COMMAND,
    TABLE_COMMAND,
    st.builds(
        lambda char, length: command("separator", {"char": char, "length": length}),
        st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1, max_size=6),
        st.one_of(st.none(), st.integers(1, 255)),
    ),
    st.builds(lambda lines: command("feed", {"lines": lines}), st.integers(0, 5)),
    st.builds(
        lambda data, human, width, correction, align: command(
            "qr", {"data": data, "human_text": human, "pixel_width": width, "correction": correction, "align": align}
        ),
        st.text(min_size=1, max_size=200),
        SHORT_TEXT,
        st.integers(1, 1000),
        st.sampled_from("LMQH"),
        ALIGN,
    ),
    st.builds(
        lambda pair, width, height, hri, align: command(
            "barcode",
            {
                "symbology": pair[0],
                "data": pair[1],
                "width": width,
                "height": height,
                "hri_position": hri,
                "align": align,
            },
        ),
        st.sampled_from(
            [
                ("UPC-A", "012345678905"),
                ("upce", "0123456"),
                ("EAN13", "1234567890128"),
                ("ean8", "12345670"),
                ("CODE39", "CODE39 TEST"),
                ("code128", "Pedido #42 / ok"),
                ("itf", "12345678"),
                ("codabar", "A40156B"),
            ]
        ),
        st.integers(2, 6),
        st.integers(1, 255),
        st.sampled_from(["none", "above", "below", "both"]),
        ALIGN,
    ),
    st.builds(
        lambda code, width, align, dithering: command(
            "image", {"code": code, "pixel_width": width, "align": align, "dithering": dithering}
        ),
        IMAGE_CODES,
        st.one_of(st.none(), st.integers(1, 2000)),
        ALIGN,
        st.sampled_from(["threshold", "atkinson"]),
    ),
    st.builds(
        lambda mode, feed: command("cut", {"mode": mode, "feed": feed}),
        st.sampled_from(["full", "partial"]),
        st.integers(0, 10),
    ),
    st.builds(lambda pin: command("pulse", {"pin": pin}), st.sampled_from([0, 1])),
    st.builds(lambda times: command("beep", {"times": times, "lapse": 1}), st.integers(1, 12)),
    st.builds(lambda payload: command("raw", {"hex": payload.hex()}), st.binary(min_size=1, max_size=32)),
)
PRINTERS = st.sampled_from(
    [
        PrinterSpec("58", 58),
        PrinterSpec("80", 80),
        PrinterSpec("epson", 80, "TM-T88V"),
        PrinterSpec("zj", 58, "ZJ-5870", has_cutter=False),
        PrinterSpec("star", 80, "TSP600"),
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands=st.lists(COMMANDS, min_size=1, max_size=8), printer=PRINTERS)
def test_valid_documents_render_everywhere_and_plain_text_fits(commands, printer):
    document = {"version": "1.0", "profile": {"model": "any"}, "commands": commands}
    normalized = validate_document(document)
    assert validate_document(normalized) == normalized

    escpos = render_escpos(document, printer, copies=2)
    text = render_text(document, printer)
    html = render_html(document, printer)

    # Copies are alike, except that only the first opens the cash drawer (one pulse per sale).
    quiet = [command for command in commands if command.get("type") != "pulse"]
    other_copy = render_escpos({**document, "commands": quiet}, printer, copies=1) if quiet else b""
    assert escpos == render_escpos(document, printer, copies=1) + other_copy
    for line in text.split("\n"):
        assert len(line) <= printer.columns
        assert text_width(line) <= printer.columns
    assert html.count('class="cp-cmd ') >= 1
    assert "<script" not in html
