"""Print documents: the poster/ticket-daemon command format, validated and normalized.

A *document* is a JSON object ``{"version": "1.0", "profile": {...}, "commands": [...]}`` in the format
of ``shared/poster/document.schema.json`` (what ticket-daemon accepts), so a web POS written for
ticket-daemon can send its documents unchanged. Real documents come in several dialects (``content``
as a string or an object, ``style`` or ``content_style``, ``newline`` or ``new_line``, ``UPC-A`` or
``upca``, table ``columns`` with or without ``definition``...). :func:`validate_document` accepts
them all and returns one canonical dialect, with every default filled in, that the renderers read
without further checks. Unknown keys are ignored; unknown commands and bad values are rejected with
a :class:`DocumentError` naming the command's index (0-based, as in ``document["commands"][i]``)
and the field.

The canonical document is plain JSON data (it is stored on print jobs) and validating it again
returns an equal document.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from typing import Any, Literal, overload

MAX_COMMANDS = 500
MAX_TEXT_LENGTH = 10_000
MAX_RAW_BYTES = 4096
MAX_IMAGE_BASE64 = 1024 * 1024
MAX_TABLE_COLUMNS = 16
MAX_TABLE_ROWS = 500
MAX_BARCODE_LENGTH = 80
MAX_PIXEL_WIDTH = 4096

COMMAND_TYPES = (
    "text",
    "separator",
    "table",
    "feed",
    "qr",
    "barcode",
    "image",
    "cut",
    "pulse",
    "beep",
    "raw",
)
ALIGNMENTS = ("left", "center", "right")

# Largest QR payload in bytes for each error correction level (version 40, byte mode).
QR_CAPACITY = {"L": 2953, "M": 2331, "Q": 1663, "H": 1273}
QR_SIZE_NAMES = {"small": 128, "medium": 200, "large": 300}

# Canonical symbology -> (python-escpos name, check pattern, human description).
BARCODE_SYMBOLOGIES = {
    "upca": ("UPC-A", r"[0-9]{11,12}", "11 or 12 digits"),
    "upce": ("UPC-E", r"[0-9]{7,8}|[0-9]{11,12}", "7, 8, 11 or 12 digits"),
    "ean13": ("EAN13", r"[0-9]{12,13}", "12 or 13 digits"),
    "ean8": ("EAN8", r"[0-9]{7,8}", "7 or 8 digits"),
    "code39": ("CODE39", r"[0-9A-Z $%+\-./]+|\*[0-9A-Z $%+\-./]+\*", "digits, A-Z, space and $%+-./"),
    "code128": ("CODE128", r"[\x20-\x7e]+", "printable ASCII"),
    "itf": ("ITF", r"(?:[0-9]{2})+", "an even number of digits"),
    "codabar": ("NW7", r"[A-Da-d][0-9$+\-./:]+[A-Da-d]", "A-D, then digits and $+-./:, then A-D"),
}
BARCODE_ALIASES = {
    "upc": "upca",
    "upca": "upca",
    "upce": "upce",
    "ean13": "ean13",
    "ean": "ean13",
    "jan13": "ean13",
    "jan": "ean13",
    "ean8": "ean8",
    "jan8": "ean8",
    "code39": "code39",
    "code128": "code128",
    "itf": "itf",
    "itf14": "itf",
    "interleaved2of5": "itf",
    "codabar": "codabar",
    "nw7": "codabar",
}
HRI_POSITIONS = {"none": "none", "off": "none", "above": "above", "below": "below", "both": "both"}

# ESC/POS sequences a raw command with safe_mode may not contain: they rewrite the printer's
# non-volatile settings or memory (GS ( E user setup, GS ( C / FS q NV data, GS ( M settings).
# Poster's safe mode blocks ESC @ (full reset), ESC = 0 (printer disabled until a person steps in),
# DLE ENQ 4 (real-time request), ESC p (drawer kick) and GS : (macro definition) too.
UNSAFE_RAW_SEQUENCES = {
    b"\x1d(E": "GS ( E (user setup)",
    b"\x1d(C": "GS ( C (NV memory)",
    b"\x1cq": "FS q (NV bit image)",
    b"\x1d(M": "GS ( M (printer settings)",
    b"\x1b@": "ESC @ (printer reset)",
    b"\x1b=\x00": "ESC = 0 (printer disabled)",
    b"\x10\x05\x04": "DLE ENQ 4 (real-time request)",
    b"\x1bp": "ESC p (cash drawer)",
    b"\x1d:": "GS : (macro definition)",
}

# Size names poster's renderer tolerates although its schema wants "WxH": printed N x N, with a warning.
SIZE_NAMES = {
    "normal": 1,
    "single": 1,
    "double": 2,
    "triple": 3,
    "quad": 4,
    "penta": 5,
    "hexa": 6,
    "hepta": 7,
    "octa": 8,
}
# QR circle modules need room to be readable: poster draws them only above this pixel width.
QR_CIRCLE_MIN_PIXEL_WIDTH = 257

DEFAULT_STYLE = {"bold": False, "size": "1x1", "underline": "0pt", "inverse": False, "font": "A"}

_CONTROL_CHARS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SIZE = re.compile(r"([1-8])\s*[xX×]\s*([1-8])")
_VERSION = re.compile(r"\d+\.\d+")


class DocumentError(ValueError):
    """A document that cannot be printed.

    ``str(error)`` is a message for humans, e.g. ``command 3 (qr): "data" is required``;
    ``index`` is the command's position (0-based) and ``field`` the offending field, when known.
    """

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None, command: str | None = None):
        self.index = index
        self.field = field
        self.command = command
        self.detail = message
        if index is not None:
            prefix = f"command {index} ({command}): " if command else f"command {index}: "
        else:
            prefix = ""
        super().__init__(prefix + message)


class DocumentWarning(str):
    """Something printed differently from what the document literally says (e.g. a size name).

    A ``str`` (the message for humans, shaped like DocumentError's) with ``index``, ``field`` and
    ``command`` attributes, so it can be stored in a job's history as it is.
    """

    index: int | None  # type: ignore[assignment]  # shadows str.index() on purpose: the same attributes as DocumentError
    field: str | None
    command: str | None

    def __new__(cls, message: str, *, index: int | None = None, field: str | None = None, command: str | None = None):
        if index is not None:
            prefix = f"command {index} ({command}): " if command else f"command {index}: "
        else:
            prefix = ""
        warning = super().__new__(cls, prefix + message)
        warning.index, warning.field, warning.command = index, field, command
        return warning


class _Fields:
    """Reads one command's fields, turning every problem into a precise DocumentError."""

    def __init__(
        self, data: dict, index: int | None, command: str | None, prefix: str = "", warnings: list | None = None
    ):
        self.data = data
        self.index = index
        self.command = command
        self.prefix = prefix
        self.warnings = warnings if warnings is not None else []

    def error(self, field: str, message: str) -> DocumentError:
        path = f"{self.prefix}{field}"
        return DocumentError(f'"{path}" {message}', index=self.index, field=path, command=self.command)

    def warn(self, field: str, message: str) -> None:
        path = f"{self.prefix}{field}"
        self.warnings.append(DocumentWarning(f'"{path}" {message}', index=self.index, field=path, command=self.command))

    def nested(self, field: str, value: Any) -> _Fields:
        if not isinstance(value, dict):
            raise self.error(field, "must be an object")
        return _Fields(value, self.index, self.command, f"{self.prefix}{field}.", self.warnings)

    def get(self, *names: str) -> tuple[str, Any]:
        """The first of ``names`` present (dialect spellings of one field)."""
        for name in names:
            if name in self.data and self.data[name] is not None:
                return name, self.data[name]
        return names[0], None

    @overload
    def string(
        self,
        *names: str,
        default: str,
        required: bool = False,
        max_length: int = MAX_TEXT_LENGTH,
        allow_numbers: bool = False,
    ) -> str: ...

    @overload
    def string(
        self,
        *names: str,
        default: None = None,
        required: Literal[True],
        max_length: int = MAX_TEXT_LENGTH,
        allow_numbers: bool = False,
    ) -> str: ...

    @overload
    def string(
        self,
        *names: str,
        default: None = None,
        required: bool = False,
        max_length: int = MAX_TEXT_LENGTH,
        allow_numbers: bool = False,
    ) -> str | None: ...

    def string(
        self,
        *names: str,
        default: str | None = None,
        required: bool = False,
        max_length: int = MAX_TEXT_LENGTH,
        allow_numbers: bool = False,
    ) -> str | None:
        name, value = self.get(*names)
        if value is None:
            if required:
                raise self.error(name, "is required")
            return default
        if allow_numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, got {_type_name(value)}")
        if len(value) > max_length:
            raise self.error(name, f"is too long ({len(value)} characters, at most {max_length})")
        return value

    @overload
    def boolean(self, *names: str, default: bool) -> bool: ...

    @overload
    def boolean(self, *names: str, default: None) -> bool | None: ...

    def boolean(self, *names: str, default: bool | None) -> bool | None:
        name, value = self.get(*names)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {_json(value)}")
        return value

    @overload
    def integer(
        self, *names: str, default: int, minimum: int | None = None, maximum: int | None = None, required: bool = False
    ) -> int: ...

    @overload
    def integer(
        self,
        *names: str,
        default: None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        required: Literal[True],
    ) -> int: ...

    @overload
    def integer(
        self,
        *names: str,
        default: None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None: ...

    def integer(
        self,
        *names: str,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        name, value = self.get(*names)
        if value is None:
            if required:
                raise self.error(name, "is required")
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(name, f"must be an integer, got {_json(value)}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise self.error(name, f"must be between {minimum} and {maximum}, got {value}")
        return value

    def choice(self, *names: str, choices: dict[Any, Any] | tuple[str, ...], default: Any) -> Any:
        """``default`` or the value ``choices`` maps the field to (a tuple maps each to itself)."""
        name, value = self.get(*names)
        if value is None:
            return default
        key = value.strip().lower() if isinstance(value, str) else value
        mapping = choices if isinstance(choices, dict) else {c: c for c in choices}
        if isinstance(key, (list, dict, bool)) or key not in mapping:
            allowed = ", ".join(sorted({str(v) for v in mapping.values()}))
            raise self.error(name, f"must be one of {allowed}, got {_json(value)}")
        return mapping[key]


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def clean_text(text: str) -> str:
    """Printable text: NFC, tabs as spaces, no control characters but newlines.

    Control characters are dropped so user text can never smuggle ESC/POS commands.
    """
    text = text.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n").replace("\t", " ")
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_CHARS.sub("", text)
    if any(unicodedata.category(char) == "Cf" for char in text):
        text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return text


def _style(fields: _Fields, field: str, value: Any) -> dict:
    if value is None:
        return dict(DEFAULT_STYLE)
    style = fields.nested(field, value)
    size_name, size = style.get("size")
    if size is None:
        size = "1x1"
    elif isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= 8:
        size = f"{size}x{size}"
    elif isinstance(size, str) and size.strip().isdigit() and 1 <= int(size.strip()) <= 8:
        size = f"{int(size)}x{int(size)}"
    elif isinstance(size, str) and (match := _SIZE.fullmatch(size.strip())):
        size = f"{match[1]}x{match[2]}"
    elif isinstance(size, str) and size.strip().lower() in SIZE_NAMES:
        factor = SIZE_NAMES[size.strip().lower()]
        style.warn(size_name, f'is a size name, printed as "{factor}x{factor}" (write "WxH"), got {_json(size)}')
        size = f"{factor}x{factor}"
    else:
        raise style.error(size_name, f'must be "WxH" with W and H from 1 to 8, got {_json(size)}')
    underline_name, underline = style.get("underline")
    if underline is None or underline is False:
        underline = "0pt"
    elif underline is True:
        underline = "1pt"
    elif isinstance(underline, int) and underline in (0, 1, 2):
        underline = f"{underline}pt"
    elif isinstance(underline, str) and underline.strip().lower() in ("0", "1", "2", "0pt", "1pt", "2pt"):
        underline = underline.strip().lower().removesuffix("pt") + "pt"
    else:
        raise style.error(underline_name, f'must be "0pt", "1pt" or "2pt", got {_json(underline)}')
    return {
        "bold": style.boolean("bold", default=False),
        "size": size,
        "underline": underline,
        "inverse": style.boolean("inverse", "invert", "reverse", default=False),
        "font": style.choice("font", choices={"a": "A", "b": "B", 0: "A", 1: "B"}, default="A"),
    }


def _text(fields: _Fields) -> dict:
    name, content = fields.get("content", "text")
    if content is None:
        raise fields.error("content", "is required")
    if isinstance(content, (str, int, float)) and not isinstance(content, bool):
        inner = _Fields({"text": content}, fields.index, fields.command, fields.prefix + name + ".", fields.warnings)
    else:
        inner = fields.nested(name, content)
    text = clean_text(inner.string("text", required=True, allow_numbers=True))
    # Style and alignment may sit in content (canonical) or beside it (the "style" dialect).
    style_name, style_value = inner.get("content_style", "style")
    style_fields = inner
    if style_value is None:
        style_name, style_value = fields.get("content_style", "style")
        style_fields = fields
    style = _style(style_fields, style_name, style_value)
    align = None
    for source in (inner, fields):
        align = source.choice("align", choices=ALIGNMENTS, default=None)
        if align:
            break
    if align is None and isinstance(style_value, dict):
        align = style_fields.nested(style_name, style_value).choice("align", choices=ALIGNMENTS, default=None)
    new_line = fields.boolean("new_line", "newline", default=inner.boolean("new_line", "newline", default=True))

    label = None
    label_name, label_value = fields.get("label")
    if label_value is not None:
        label_fields = None
        if isinstance(label_value, (str, int, float)) and not isinstance(label_value, bool):
            # A plain-string label keeps its style, separator and alignment beside it.
            label_value = {"text": label_value}
            for key in ("separator", "label_separator"):
                if isinstance(fields.data.get(key), str):
                    label_value["separator"] = fields.data[key]
                    break
            if fields.data.get("label_align") is not None:
                label_value["align"] = fields.data["label_align"]
            label_fields = fields.nested(label_name, label_value)
            label_style_name, label_style_value = fields.get("label_style")
            label_style_fields = fields
        else:
            label_fields = fields.nested(label_name, label_value)
            label_style_name, label_style_value = label_fields.get("label_style", "style")
            label_style_fields = label_fields
            if label_style_value is None:
                label_style_name, label_style_value = fields.get("label_style")
                label_style_fields = fields
        label = {
            "text": clean_text(label_fields.string("text", default="", allow_numbers=True)),
            "label_style": _style(label_style_fields, label_style_name, label_style_value),
            "separator": clean_text(label_fields.string("separator", default=": ", max_length=100)),
            "align": label_fields.choice("align", choices=ALIGNMENTS, default="left"),
        }
    return {
        "content": {"text": text, "align": align or "left", "content_style": style},
        "label": label,
        "new_line": new_line,
    }


def _separator(fields: _Fields) -> dict:
    char = clean_text(fields.string("char", "character", default="- ", max_length=100)).replace("\n", "")
    if not char:
        raise fields.error("char", "must not be empty")
    return {"char": char, "length": fields.integer("length", default=None, minimum=1, maximum=255)}


def _table(fields: _Fields) -> dict:
    definition_name, definition = fields.get("definition")
    if definition is not None:
        definition_fields = fields.nested(definition_name, definition)
    else:
        definition_fields = fields
    columns_name, columns = definition_fields.get("columns")
    if columns is None:
        raise definition_fields.error("columns", "is required")
    if not isinstance(columns, list) or not columns:
        raise definition_fields.error(columns_name, "must be a non-empty list")
    if len(columns) > MAX_TABLE_COLUMNS:
        raise definition_fields.error(columns_name, f"has {len(columns)} columns, at most {MAX_TABLE_COLUMNS}")
    normalized_columns = []
    for number, column in enumerate(columns):
        column_fields = definition_fields.nested(f"{columns_name}[{number}]", column)
        normalized_columns.append(
            {
                "name": clean_text(
                    column_fields.string("name", "header", default="", max_length=200, allow_numbers=True)
                ),
                "width": column_fields.integer("width", required=True, minimum=1, maximum=255),
                "align": column_fields.choice("align", choices=ALIGNMENTS, default="center"),
            }
        )
    rows_name, rows = fields.get("rows")
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise fields.error(rows_name, "must be a list of rows")
    if len(rows) > MAX_TABLE_ROWS:
        raise fields.error(rows_name, f"has {len(rows)} rows, at most {MAX_TABLE_ROWS}")
    normalized_rows = []
    for row_number, row in enumerate(rows):
        if not isinstance(row, list):
            raise fields.error(f"{rows_name}[{row_number}]", "must be a list of cells")
        if len(row) > len(normalized_columns):
            raise fields.error(
                f"{rows_name}[{row_number}]",
                f"has {len(row)} cells but the table has {len(normalized_columns)} columns",
            )
        cells = []
        for cell_number, cell in enumerate(row):
            if cell is None:
                cell = ""
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                cell = str(cell)
            if not isinstance(cell, str):
                raise fields.error(f"{rows_name}[{row_number}][{cell_number}]", "must be a string")
            cells.append(clean_text(cell[:MAX_TEXT_LENGTH]))
        cells.extend([""] * (len(normalized_columns) - len(cells)))
        normalized_rows.append(cells)
    options_name, options = fields.get("options")
    options_fields = fields.nested(options_name, options if options is not None else {})
    table: dict[str, Any] = {
        "definition": {"columns": normalized_columns},
        "show_headers": fields.boolean("show_headers", default=True),
        "rows": normalized_rows,
        "options": {
            "header_bold": options_fields.boolean("header_bold", default=True),
            "word_wrap": options_fields.boolean("word_wrap", default=True),
            "column_spacing": options_fields.integer("column_spacing", default=1, minimum=0, maximum=8),
            "align": options_fields.choice("align", choices=ALIGNMENTS, default="center"),
            "auto_reduce": options_fields.boolean("auto_reduce", default=True),
        },
    }
    paper_width = definition_fields.integer("paper_width", default=None, minimum=1, maximum=255)
    if paper_width is not None:
        table["definition"]["paper_width"] = paper_width
    return table


def _feed(fields: _Fields) -> dict:
    return {"lines": fields.integer("lines", required=True, minimum=0, maximum=255)}


def _qr(fields: _Fields) -> dict:
    data = fields.string("data", required=True, max_length=QR_CAPACITY["L"])
    if data == "":
        raise fields.error("data", "must not be empty")
    correction = fields.choice(
        "correction", "error_correction", "ec", choices={"l": "L", "m": "M", "q": "Q", "h": "H"}, default="M"
    )
    if len(data.encode("utf-8")) > QR_CAPACITY[correction]:
        raise fields.error(
            "data", f"is too long for a QR code with correction {correction} (at most {QR_CAPACITY[correction]} bytes)"
        )
    size_name, size = fields.get("size")
    pixel_width = fields.integer("pixel_width", default=None, minimum=1, maximum=MAX_PIXEL_WIDTH)
    if pixel_width is None and size is not None:
        if isinstance(size, str) and size.strip().lower() in QR_SIZE_NAMES:
            pixel_width = QR_SIZE_NAMES[size.strip().lower()]
        else:
            pixel_width = fields.integer("size", minimum=1, maximum=MAX_PIXEL_WIDTH)
    logo = fields.string("logo", default=None, max_length=MAX_IMAGE_BASE64)
    circle_shape = fields.boolean("circle_shape", default=False)
    if circle_shape and (pixel_width or 256) < QR_CIRCLE_MIN_PIXEL_WIDTH:
        fields.warn(
            "circle_shape", f"needs a pixel_width of at least {QR_CIRCLE_MIN_PIXEL_WIDTH}; printed with square modules"
        )
        circle_shape = False
    normalized = {
        "data": data,
        "human_text": clean_text(fields.string("human_text", default="", allow_numbers=True)),
        "pixel_width": pixel_width or 256,
        "correction": correction,
        "align": fields.choice("align", choices=ALIGNMENTS, default="center"),
    }
    if logo:
        normalized["logo"] = logo  # drawn in the middle of an image QR
    if circle_shape:
        normalized["circle_shape"] = True
    return normalized


def _barcode(fields: _Fields) -> dict:
    name, symbology = fields.get("symbology", "type", "format")
    if symbology is None:
        symbology = "code128"
    if not isinstance(symbology, str):
        raise fields.error(name, f"must be a string, got {_json(symbology)}")
    key = BARCODE_ALIASES.get(re.sub(r"[^0-9a-z]", "", symbology.lower()))
    if key is None:
        raise fields.error(name, f"must be one of {', '.join(BARCODE_SYMBOLOGIES)}, got {_json(symbology)}")
    data = fields.string("data", required=True, max_length=MAX_BARCODE_LENGTH, allow_numbers=True)
    if key == "code39":
        data = data.upper()  # Code 39 has no lower case; scanners read both the same
    _, pattern, description = BARCODE_SYMBOLOGIES[key]
    checked = data[2:] if key == "code128" and re.match(r"\{[ABC]", data) else data
    if not re.fullmatch(pattern, checked):
        raise fields.error("data", f"is not valid for {key} ({description}), got {_json(data)}")
    width = fields.integer("width", default=3, minimum=1, maximum=6)
    return {
        "symbology": key,
        "data": data,
        "width": max(width, 2),
        "height": fields.integer("height", default=80, minimum=1, maximum=255),
        "hri_position": fields.choice("hri_position", "hri", choices=HRI_POSITIONS, default="below"),
        "hri_font": fields.choice("hri_font", choices={"a": "A", "b": "B"}, default="A"),
        "align": fields.choice("align", choices=ALIGNMENTS, default="center"),
    }


def _image(fields: _Fields) -> dict:
    code = fields.string("code", "data", "base64", required=True, max_length=MAX_IMAGE_BASE64)
    return {
        "code": code,
        "format": fields.choice(
            "format", choices={"png": "png", "jpg": "jpg", "jpeg": "jpg", "bmp": "bmp", "gif": "gif"}, default=None
        ),
        "pixel_width": fields.integer("pixel_width", "width", default=None, minimum=1, maximum=MAX_PIXEL_WIDTH),
        "align": fields.choice("align", choices=ALIGNMENTS, default="center"),
        "threshold": fields.integer("threshold", default=128, minimum=0, maximum=255),
        "dithering": fields.choice(
            "dithering",
            choices={
                "threshold": "threshold",
                "none": "threshold",
                "atkinson": "atkinson",
                "floyd_steinberg": "atkinson",
                "floyd-steinberg": "atkinson",
            },
            default="atkinson",
        ),
        "scaling": fields.choice(
            "scaling", choices={"bilinear": "bilinear", "nns": "nns", "nearest": "nns"}, default="bilinear"
        ),
    }


def _cut(fields: _Fields) -> dict:
    return {
        "mode": fields.choice(
            "mode", choices={"full": "full", "partial": "partial", "part": "partial"}, default="partial"
        ),
        "feed": fields.integer("feed", "lines", default=2, minimum=0, maximum=255),
    }


def _pulse(fields: _Fields) -> dict:
    # Pins 2 and 5 are the drawer connector's names for ESC/POS pins 0 and 1.
    return {
        "pin": fields.choice("pin", choices={0: 0, 1: 1, 2: 0, 5: 1}, default=0),
        "on_time": fields.integer("on_time", default=None, minimum=1, maximum=510),
        "off_time": fields.integer("off_time", default=None, minimum=1, maximum=510),
    }


def _beep(fields: _Fields) -> dict:
    return {
        "times": fields.integer("times", "count", default=1, minimum=1, maximum=255),
        "lapse": fields.integer("lapse", "duration", default=1, minimum=1, maximum=255),
    }


def raw_bytes(data: dict) -> bytes:
    """The bytes of a canonical raw command."""
    return bytes.fromhex(data["hex"])


def _raw(fields: _Fields) -> dict:
    name, value = fields.get("hex", "data", "bytes")
    if value is None:
        raise fields.error("hex", "is required")
    if not isinstance(value, str):
        raise fields.error(name, f"must be a string, got {_type_name(value)}")
    form = fields.choice("format", choices=("hex", "base64"), default="hex")
    if form == "hex":
        digits = re.sub(r"0x|[\s,:]", "", value, flags=re.IGNORECASE)
        try:
            payload = bytes.fromhex(digits)
        except ValueError:
            raise fields.error(name, "is not valid hexadecimal") from None
    else:
        try:
            payload = base64.b64decode(re.sub(r"\s", "", value), validate=True)
        except (binascii.Error, ValueError):
            raise fields.error(name, "is not valid base64") from None
    if not payload:
        raise fields.error(name, "must contain at least one byte")
    if len(payload) > MAX_RAW_BYTES:
        raise fields.error(name, f"is {len(payload)} bytes, at most {MAX_RAW_BYTES}")
    safe_mode = fields.boolean("safe_mode", default=False)
    if safe_mode:
        for sequence, description in UNSAFE_RAW_SEQUENCES.items():
            if sequence in payload:
                raise fields.error(name, f"contains {description}, refused in safe_mode")
    return {
        "hex": payload.hex().upper(),
        "format": "hex",
        "comment": fields.string("comment", default="", max_length=500),
        "safe_mode": safe_mode,
    }


_NORMALIZERS = {
    "text": _text,
    "separator": _separator,
    "table": _table,
    "feed": _feed,
    "qr": _qr,
    "barcode": _barcode,
    "image": _image,
    "cut": _cut,
    "pulse": _pulse,
    "beep": _beep,
    "raw": _raw,
}


def _profile(value: Any) -> dict:
    if value is None:
        return {"model": ""}
    if not isinstance(value, dict):
        raise DocumentError('"profile" must be an object', field="profile")
    fields = _Fields(value, None, None, "profile.")
    profile: dict[str, Any] = {"model": fields.string("model", default="", max_length=200, allow_numbers=True)}
    paper_width = fields.integer("paper_width", default=None, minimum=1, maximum=300)
    if paper_width is not None:
        profile["paper_width"] = paper_width
    code_table = fields.string("code_table", default=None, max_length=40)
    if code_table:
        profile["code_table"] = code_table
    dpi = fields.integer("dpi", default=None, minimum=1, maximum=1200)
    if dpi is not None:
        profile["dpi"] = dpi
    has_qr = fields.boolean("has_qr", default=None)
    if has_qr is not None:
        profile["has_qr"] = has_qr
    return profile


class ValidatedDocument(dict):
    """A document :func:`check_document` returned: canonical and checked, so validating it again
    returns it as it is (a receipt is built, rendered to text and to ESC/POS: one validation, not
    three). Build a new dict to change one (``{**document, "commands": [...]}``), which is then
    validated again; never change one in place. Stored as JSON it is a plain dict again.
    """

    __slots__ = ()


def validate_document(document: Any) -> dict:
    """Validate a document and return it in the canonical dialect.

    Accepts a dict (or its JSON text, or a bare list of commands). Raises DocumentError.
    """
    if type(document) is ValidatedDocument:
        return document
    return check_document(document)[0]


def check_document(document: Any) -> tuple[dict, list[DocumentWarning]]:
    """:func:`validate_document`, and the warnings about what prints differently than written
    (size names, ignored circle_shape...). The canonical document gives no warnings again."""
    if type(document) is ValidatedDocument:
        return document, []
    warnings: list[DocumentWarning] = []
    if isinstance(document, (bytes, bytearray)):
        document = document.decode("utf-8", errors="replace")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise DocumentError(f"the document is not valid JSON ({error})") from None
    if isinstance(document, list):
        document = {"commands": document}
    if not isinstance(document, dict):
        raise DocumentError(f"a document must be an object, got {_type_name(document)}")
    version = document.get("version", "1.0")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        version = f"{float(version):.1f}"
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise DocumentError(f'"version" must look like "1.0", got {_json(version)}', field="version")
    commands = document.get("commands")
    if commands is None:
        raise DocumentError('"commands" is required', field="commands")
    if not isinstance(commands, list) or not commands:
        raise DocumentError('"commands" must be a non-empty list', field="commands")
    if len(commands) > MAX_COMMANDS:
        raise DocumentError(f'"commands" has {len(commands)} commands, at most {MAX_COMMANDS}', field="commands")
    normalized = []
    for index, command in enumerate(commands):
        if not isinstance(command, dict):
            raise DocumentError(f"must be an object, got {_type_name(command)}", index=index)
        kind = command.get("type")
        if not isinstance(kind, str) or kind.strip().lower() not in _NORMALIZERS:
            raise DocumentError(
                f'"type" must be one of {", ".join(COMMAND_TYPES)}, got {_json(kind)}',
                index=index,
                field="type",
            )
        kind = kind.strip().lower()
        data = command.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise DocumentError(
                f'"data" must be an object, got {_type_name(data)}', index=index, field="data", command=kind
            )
        normalized.append({"type": kind, "data": _NORMALIZERS[kind](_Fields(data, index, kind, warnings=warnings))})
    result = {"version": version, "profile": _profile(document.get("profile")), "commands": normalized}
    if isinstance(document.get("debug_log"), bool):
        result["debug_log"] = document["debug_log"]
    return ValidatedDocument(result), warnings
