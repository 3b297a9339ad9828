"""Garbage documents are refused with a DocumentError naming where; nothing else ever escapes."""

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printing.documents import DocumentError, validate_document
from printing.receipts import PrinterSpec
from printing.rendering import render_escpos, render_html, render_text

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)
command_types = st.sampled_from(
    ["text", "separator", "table", "feed", "qr", "barcode", "image", "cut", "pulse", "beep", "raw", "bogus"]
)
field_names = st.sampled_from(
    [
        "content",
        "text",
        "style",
        "content_style",
        "align",
        "bold",
        "size",
        "char",
        "length",
        "lines",
        "data",
        "symbology",
        "code",
        "mode",
        "feed",
        "pin",
        "hex",
        "format",
        "columns",
        "rows",
        "definition",
        "label",
        "pixel_width",
        "correction",
        "times",
        "new_line",
        "newline",
    ]
)
commands = st.fixed_dictionaries(
    {"type": command_types, "data": st.dictionaries(field_names, values, max_size=6) | values}
)
documents = st.one_of(
    values,
    st.fixed_dictionaries(
        {"version": st.sampled_from(["1.0", "2", 1]), "commands": st.lists(commands, max_size=8) | values},
        optional={"profile": st.dictionaries(st.sampled_from(["model", "paper_width", "code_table"]), values) | values},
    ),
)
PRINTERS = [PrinterSpec(name="58", paper_width=58, has_cutter=False), PrinterSpec(name="80", paper_width=80)]


@settings(
    max_examples=int(os.getenv("FUZZ_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(documents)
def test_any_json_is_either_rejected_with_a_document_error_or_renders(document):
    json.dumps(document)  # only JSON-shaped input, as it arrives over the wire
    try:
        normalized = validate_document(document)
    except DocumentError as error:
        assert str(error)
        return
    for printer in PRINTERS:
        assert isinstance(render_escpos(normalized, printer), bytes)
        for line in render_text(normalized, printer).splitlines():
            assert len(line) <= printer.columns
        assert isinstance(render_html(normalized, printer), str)
