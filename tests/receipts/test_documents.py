"""Validation and normalization of print documents (the poster format and its dialects)."""

import pytest

from printing.documents import MAX_COMMANDS, DocumentError, validate_document


def doc(*commands, **extra):
    return {"version": "1.0", "profile": {"model": "test"}, "commands": list(commands), **extra}


def command(kind, **data):
    return {"type": kind, "data": data}


def rejected(document) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        validate_document(document)
    return caught.value


def test_text_dialects_normalize_to_the_same_command():
    canonical = command(
        "text", content={"text": "Oi", "align": "center", "content_style": {"bold": True, "size": "2x2"}}, new_line=True
    )
    string_content = command("text", content="Oi", style={"align": "center", "bold": True, "size": "2x2"}, newline=True)
    new_line_inside = {
        "type": "text",
        "data": {
            "content": {"text": "Oi", "align": "center", "new_line": True, "style": {"bold": True, "size": "2X2"}}
        },
    }
    results = [validate_document(doc(c))["commands"][0] for c in (canonical, string_content, new_line_inside)]
    assert results[0] == results[1] == results[2]
    assert results[0]["data"]["content"] == {
        "text": "Oi",
        "align": "center",
        "content_style": {"bold": True, "size": "2x2", "underline": "0pt", "inverse": False, "font": "A"},
    }


def test_validating_a_canonical_document_again_changes_nothing():
    document = validate_document(
        doc(
            command("text", content="Olá", label={"text": "Nome"}),
            command("separator"),
            command("table", columns=[{"width": 10}], rows=[["a"]]),
            command("qr", data="x", size="medium"),
            command("barcode", symbology="EAN-13", data="1234567890128"),
            command("image", code="CODIGO_EN_BASE64", width=256),
            command("raw", hex="1b 40"),
            command("pulse", pin=1),
            command("beep"),
            command("feed", lines=2),
            command("cut"),
        )
    )
    assert validate_document(document) == document


def test_barcode_symbology_aliases_are_accepted():
    for spelling, expected in [
        ("UPC-A", "upca"),
        ("EAN13", "ean13"),
        ("ean-13", "ean13"),
        ("CODE128", "code128"),
        ("NW7", "codabar"),
        ("Code 39", "code39"),
    ]:
        data = {
            "upca": "012345678905",
            "ean13": "1234567890128",
            "code128": "ABC",
            "codabar": "A123B",
            "code39": "ABC",
        }[expected]
        normalized = validate_document(doc(command("barcode", symbology=spelling, data=data)))
        assert normalized["commands"][0]["data"]["symbology"] == expected


def test_table_columns_may_sit_directly_in_data_or_under_definition():
    direct = validate_document(doc(command("table", columns=[{"name": "A", "width": 5}], rows=[["1"]])))
    nested = validate_document(doc(command("table", definition={"columns": [{"name": "A", "width": 5}]}, rows=[["1"]])))
    assert direct == nested


def test_raw_hex_and_base64_normalize_to_hex():
    hex_form = validate_document(doc(command("raw", hex="1D 43 31")))
    base64_form = validate_document(doc(command("raw", hex="HUMx", format="base64")))
    assert hex_form["commands"][0]["data"]["hex"] == base64_form["commands"][0]["data"]["hex"] == "1D4331"


def test_control_characters_are_stripped_from_text():
    normalized = validate_document(doc(command("text", content="a\x1b@b\tc\r\nd")))
    assert normalized["commands"][0]["data"]["content"]["text"] == "a@b c\nd"


def test_missing_qr_data_names_the_command_and_field():
    error = rejected(doc(command("text", content="x"), command("feed", lines=1), command("cut"), command("qr")))
    assert str(error) == 'command 3 (qr): "data" is required'
    assert (error.index, error.field) == (3, "data")


def test_unknown_command_type_is_rejected():
    error = rejected(doc(command("text", content="x"), command("dance", steps=3)))
    assert str(error).startswith('command 1: "type" must be one of text, separator')
    assert (error.index, error.field) == (1, "type")


def test_bad_text_size_names_the_nested_field():
    error = rejected(doc(command("text", content={"text": "x", "content_style": {"size": "9x1"}})))
    assert error.index == 0
    assert error.field == "content.content_style.size"
    assert 'command 0 (text): "content.content_style.size" must be "WxH"' in str(error)


@pytest.mark.parametrize(
    ("bad_command", "field"),
    [
        (command("text", content="x", content_style={"bold": "yes"}), "content_style.bold"),
        (command("text", content={"text": "x", "align": "middle"}), "content.align"),
        (command("text", content={"text": 5j}), "content.text"),
        (command("text"), "content"),
        (command("separator", char=""), "char"),
        (command("separator", length=0), "length"),
        (command("feed", lines=-1), "lines"),
        (command("feed"), "lines"),
        (command("table", rows=[["a"]]), "columns"),
        (command("table", columns=[{"name": "a", "width": 0}], rows=[]), "columns[0].width"),
        (command("table", columns=[{"name": "a", "width": 3}], rows=[["1", "2"]]), "rows[0]"),
        (command("qr", data="x", correction="Z"), "correction"),
        (command("qr", data="x" * 3000), "data"),
        (command("barcode", symbology="ean13", data="12AB"), "data"),
        (command("barcode", symbology="pdf417", data="1"), "symbology"),
        (command("barcode", symbology="code128", data="x", width=9), "width"),
        (command("image"), "code"),
        (command("image", code="x" * (1024 * 1024 + 1)), "code"),
        (command("cut", mode="diagonal"), "mode"),
        (command("pulse", pin=3), "pin"),
        (command("beep", times=0), "times"),
        (command("raw", hex="zz"), "hex"),
        (command("raw", hex="00" * 4097), "hex"),
        (command("raw", hex="1D 28 45 03 00 01 49 4E", safe_mode=True), "hex"),
    ],
)
def test_invalid_fields_are_rejected_with_index_and_field(bad_command, field):
    error = rejected(doc(command("text", content="ok"), bad_command))
    assert error.index == 1
    assert error.field == field
    assert str(error).startswith(f'command 1 ({bad_command["type"]}): "{field}"')


def test_structurally_invalid_documents_are_rejected():
    assert str(rejected({"version": "1.0"})) == '"commands" is required'
    assert str(rejected(doc())) == '"commands" must be a non-empty list'
    assert "must be an object" in str(rejected(doc("text")))
    assert rejected(doc(command("feed", lines=1), version="one")).field == "version"
    assert "at most 500" in str(rejected(doc(*[command("feed", lines=1)] * (MAX_COMMANDS + 1))))
    assert "not valid JSON" in str(rejected("{not json"))


def test_missing_version_and_profile_get_defaults():
    normalized = validate_document({"commands": [command("feed", lines=1)]})
    assert normalized["version"] == "1.0"
    assert normalized["profile"] == {"model": ""}
