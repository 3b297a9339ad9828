"""Document -> blocks: physical text lines (wrapped, aligned) and pictures, shared by all renderers.

Widths are counted in *units* so that lines mixing fonts and sizes are wrapped exactly: a font A
character costs ``columns_b`` units, a font B one ``columns`` units, both times the width multiplier
and times 2 for East Asian wide characters; a line holds ``columns * columns_b`` units. In plain
mode (what a text-only client prints) font B counts as font A, so plain lines never exceed the
printer's columns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from printing.documents import DocumentError

from . import images
from .geometry import Geometry


@dataclass(frozen=True)
class Style:
    bold: bool = False
    width: int = 1
    height: int = 1
    underline: int = 0
    inverse: bool = False
    font: str = "A"

    @classmethod
    def from_document(cls, style: dict) -> Style:
        width, height = (int(part) for part in style["size"].split("x"))
        return cls(
            bold=style["bold"],
            width=width,
            height=height,
            underline=int(style["underline"][0]),
            inverse=style["inverse"],
            font=style["font"],
        )


NORMAL = Style()
BOLD = Style(bold=True)


@dataclass(frozen=True)
class Segment:
    text: str
    style: Style


@dataclass(frozen=True)
class Line:
    """One printed line. ``align`` is left, center, right, or spread (``segments[:split]`` on the
    left, the rest pushed to the right edge)."""

    segments: tuple[Segment, ...]
    align: str = "left"
    split: int = 0
    newline: bool = True  # False: the printer stays on this line (new_line false before raw bytes)

    @property
    def text(self) -> str:
        return "".join(segment.text for segment in self.segments)


@dataclass(frozen=True)
class Feed:
    lines: int


@dataclass(frozen=True)
class QR:
    data: str
    correction: str
    pixel_width: int
    align: str
    logo: str = ""
    circle_shape: bool = False
    native: bool = True  # False: print as an image (logo, round modules, or a profile without QR)


@dataclass(frozen=True)
class Barcode:
    symbology: str
    data: str
    width: int
    height: int
    hri_position: str
    hri_font: str
    align: str
    module_width: int = 2  # dots per narrow bar, chosen so the code fits the paper
    native: bool = True  # False: too wide for the printer's narrowest native bars, print an image


@dataclass(frozen=True)
class Picture:
    code: str
    pixel_width: int | None
    align: str
    threshold: int
    dithering: str
    scaling: str


@dataclass(frozen=True)
class Cut:
    mode: str
    feed: int


@dataclass(frozen=True)
class Pulse:
    pin: int
    on_time: int | None
    off_time: int | None


@dataclass(frozen=True)
class Beep:
    times: int
    lapse: int


@dataclass(frozen=True)
class Raw:
    payload: bytes
    comment: str


@dataclass
class Group:
    """The blocks one command produced (text commands joined by new_line=false share a group)."""

    index: int
    kind: str
    blocks: list = field(default_factory=list)


@lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    """Columns a character takes on paper: 2 for East Asian wide ones, else 1.

    A stray combining mark counts 1 too: the printer gets one byte (or "?") for it.
    """
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(char_width(char) for char in text)


class Metrics:
    def __init__(self, geometry: Geometry, plain: bool):
        self.columns = geometry.columns
        if plain:
            self.unit_a = self.unit_b = 1
        else:
            self.unit_a, self.unit_b = geometry.columns_b, geometry.columns
        self.capacity = self.columns * self.unit_a

    def char_unit(self, style: Style) -> int:
        return (self.unit_b if style.font == "B" else self.unit_a) * style.width

    def cost(self, text: str, style: Style) -> int:
        return text_width(text) * self.char_unit(style)


_TOKENS = re.compile(r"\s+|\S+")


def wrap(segments: list[Segment], metrics: Metrics, capacity: int | None = None) -> list[list[Segment]]:
    """Greedy word wrap of styled text; explicit newlines break lines; words longer than a line
    are cut. Every returned line costs at most ``capacity`` units."""
    capacity = metrics.capacity if capacity is None else capacity
    lines: list[list[Segment]] = []
    current: list[Segment] = []
    used = 0
    first_of_paragraph = True

    def push(text: str, style: Style):
        if current and current[-1].style == style:
            current[-1] = Segment(current[-1].text + text, style)
        else:
            current.append(Segment(text, style))

    def flush():
        nonlocal current, used, first_of_paragraph
        while current and not current[-1].text.rstrip(" "):
            current.pop()
        if current:
            current[-1] = Segment(current[-1].text.rstrip(" "), current[-1].style)
        lines.append(current)
        current, used, first_of_paragraph = [], 0, False

    pieces: list[tuple[str, Style]] = []
    for segment in segments:
        parts = segment.text.split("\n")
        for number, part in enumerate(parts):
            if number:
                pieces.append(("\n", segment.style))
            if part:
                pieces.extend((token, segment.style) for token in _TOKENS.findall(part))
    for token, style in pieces:
        if token == "\n":
            flush()
            first_of_paragraph = True
            continue
        unit = metrics.char_unit(style)
        cost = text_width(token) * unit
        if token.isspace():
            if not current and not first_of_paragraph:
                continue  # no leading blanks on wrapped lines
            if used + cost > capacity:
                flush()
                continue
            push(token, style)
            used += cost
            continue
        if used + cost <= capacity:
            push(token, style)
            used += cost
            continue
        if current:
            flush()
        if cost <= capacity:
            push(token, style)
            used += cost
            continue
        for char in token:  # a word longer than the line: cut it
            char_cost = char_width(char) * unit
            if char_cost > capacity:
                char, char_cost = "?", unit
            if used + char_cost > capacity:
                flush()
            push(char, style)
            used += char_cost
    if current or not lines or pieces and pieces[-1][0] == "\n":
        flush()
    return lines


class _UnitMetrics(Metrics):
    """One unit per column, whatever the style: table cells and markers (font A, normal width)."""

    def __init__(self, columns: int):
        self.columns = self.capacity = columns
        self.unit_a = self.unit_b = 1

    def char_unit(self, style: Style) -> int:
        return 1


def _fit_cell(text: str, width: int, word_wrap: bool) -> list[str]:
    if not word_wrap:
        text = text.replace("\n", " ")
    lines = ["".join(segment.text for segment in line) for line in wrap([Segment(text, NORMAL)], _UnitMetrics(width))]
    return (lines[:1] if not word_wrap else lines) or [""]


def _pad(text: str, width: int, align: str) -> str:
    gap = max(0, width - text_width(text))
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def fit_columns(widths: list[int], spacing: int, columns: int, auto_reduce: bool = True) -> tuple[list[int], int]:
    """Column widths that fit the paper, which is a hard limit.

    With auto_reduce the widest columns give way first, so narrow ones (quantities, prices)
    keep their width; without it every column shrinks in proportion. The spacing goes last.
    """
    widths = list(widths)
    available = columns - spacing * (len(widths) - 1)
    if not auto_reduce and sum(widths) > available > 0:
        widths = [max(1, width * available // sum(widths)) for width in widths]
    while sum(widths) + spacing * (len(widths) - 1) > columns:
        widest = max(range(len(widths)), key=lambda i: (widths[i], i))
        if widths[widest] > 1:
            widths[widest] -= 1
        elif spacing:
            spacing -= 1
        else:
            break
    return widths, spacing


def table_lines(data: dict, metrics: Metrics) -> list[Line]:
    columns = data["definition"]["columns"]
    options = data["options"]
    widths, spacing = fit_columns(
        [column["width"] for column in columns], options["column_spacing"], metrics.columns, options["auto_reduce"]
    )
    total = sum(widths) + spacing * (len(widths) - 1)
    offset = {"left": 0, "center": (metrics.columns - total) // 2, "right": metrics.columns - total}[options["align"]]
    rows: list[tuple[list[str], Style]] = []
    if data["show_headers"] and any(column["name"] for column in columns):
        rows.append(([column["name"] for column in columns], BOLD if options["header_bold"] else NORMAL))
    rows.extend((row, NORMAL) for row in data["rows"])
    lines = []
    for cells, style in rows:
        fitted = [_fit_cell(cell, width, options["word_wrap"]) for cell, width in zip(cells, widths, strict=True)]
        for number in range(max(len(cell) for cell in fitted)):
            parts = [
                _pad(cell[number] if number < len(cell) else "", width, column["align"])
                for cell, width, column in zip(fitted, widths, columns, strict=True)
            ]
            text = (" " * offset + (" " * spacing).join(parts)).rstrip()
            lines.append(Line((Segment(text, style),) if text else ()))
    return lines


def separator_line(data: dict, metrics: Metrics) -> Line:
    length = min(data["length"] or metrics.columns, metrics.columns)
    return Line((Segment(_separator_text(data["char"], length), NORMAL),))


@lru_cache(maxsize=256)
def _separator_text(pattern: str, length: int) -> str:
    """A separator's text (a receipt has several, all alike: built once per pattern and width)."""
    text, used = [], 0
    while used < length:
        for char in pattern:
            width = char_width(char)
            if used + width > length:
                used = length
                break
            text.append(char)
            used += width
        if not any(char_width(char) for char in pattern):
            break
    return "".join(text)


def _text_lines(commands: list[dict], metrics: Metrics) -> list[Line]:
    """Lines of one or more text commands (joined when new_line is false).

    The content's alignment places the whole line; a label with right-aligned content makes a
    "Label: ........ value" line. A label's own ``align`` is kept in documents but not used.
    """
    first = commands[0]
    align = first["content"]["align"]
    segments: list[Segment] = []
    label = first["label"]
    for command in commands:
        if command["label"] is not None:
            label_text = command["label"]["text"] + command["label"]["separator"]
            if label_text:
                segments.append(Segment(label_text, Style.from_document(command["label"]["label_style"])))
        segments.append(Segment(command["content"]["text"], Style.from_document(command["content"]["content_style"])))
    if len(commands) == 1 and label is not None and align == "right" and len(segments) == 2:
        left, right = segments
        gap = metrics.char_unit(NORMAL)
        if "\n" not in left.text + right.text and (
            metrics.cost(left.text, left.style) + gap + metrics.cost(right.text, right.style) <= metrics.capacity
        ):
            return [Line((left, right), "spread", 1)]
        return [Line(tuple(line), "left") for line in wrap([left], metrics)] + [
            Line(tuple(line), "right") for line in wrap([right], metrics)
        ]
    return [Line(tuple(line), align) for line in wrap(segments, metrics)]


def layout(document: dict, geometry: Geometry, *, plain: bool) -> list[Group]:
    """Blocks of a *validated* document, grouped by the command that made them."""
    metrics = Metrics(geometry, plain)
    groups: list[Group] = []
    pending: list[dict] = []
    pending_index = 0
    native_qr = document.get("profile", {}).get("has_qr") is not False

    def flush_text(before_raw: bool = False):
        if pending:
            lines = _text_lines(pending, metrics)
            if before_raw and not pending[-1]["new_line"] and lines and lines[-1].align != "spread":
                # poster prints the raw bytes right after the text, on the same line
                last = lines[-1]
                lines[-1] = Line(last.segments, last.align, last.split, newline=False)
            groups.append(Group(pending_index, "text", lines))
            pending.clear()

    for index, command in enumerate(document["commands"]):
        kind, data = command["type"], command["data"]
        if kind == "text":
            if not pending:
                pending_index = index
            pending.append(data)
            if data["new_line"]:
                flush_text()
            continue
        flush_text(before_raw=kind == "raw")
        group = Group(index, kind)
        groups.append(group)
        if kind == "separator":
            group.blocks.append(separator_line(data, metrics))
        elif kind == "table":
            group.blocks.extend(table_lines(data, metrics))
        elif kind == "feed":
            group.blocks.append(Feed(data["lines"]))
        elif kind == "qr":
            logo, circle = data.get("logo", ""), data.get("circle_shape", False)
            group.blocks.append(
                QR(
                    data["data"],
                    data["correction"],
                    data["pixel_width"],
                    data["align"],
                    logo,
                    circle,
                    native=native_qr and not logo and not circle,
                )
            )
            if data["human_text"]:
                human = [Segment(data["human_text"], NORMAL)]
                group.blocks.extend(Line(tuple(line), data["align"]) for line in wrap(human, metrics))
        elif kind == "barcode":
            module_width, native = barcode_fit(index, data, geometry.dots)
            group.blocks.append(
                Barcode(
                    data["symbology"],
                    data["data"],
                    data["width"],
                    data["height"],
                    data["hri_position"],
                    data["hri_font"],
                    data["align"],
                    module_width,
                    native,
                )
            )
        elif kind == "image":
            group.blocks.append(
                Picture(
                    data["code"],
                    data["pixel_width"],
                    data["align"],
                    data["threshold"],
                    data["dithering"],
                    data["scaling"],
                )
            )
        elif kind == "cut":
            group.blocks.append(Cut(data["mode"], data["feed"]))
        elif kind == "pulse":
            group.blocks.append(Pulse(data["pin"], data["on_time"], data["off_time"]))
        elif kind == "beep":
            group.blocks.append(Beep(data["times"], data["lapse"]))
        elif kind == "raw":
            group.blocks.append(Raw(bytes.fromhex(data["hex"]), data["comment"]))
    flush_text()
    return groups


def barcode_fit(index: int, data: dict, dots: int) -> tuple[int, bool]:
    """(dots per narrow bar, native?) for a barcode on paper ``dots`` wide.

    Printers draw bars at least 2 dots wide; a code too wide for that is drawn as an image with
    1-dot bars, and one too wide even then is refused (a cut-off barcode scans wrong or not at all).
    """
    modules = images.barcode_modules(data["symbology"], data["data"])
    if modules * images.MIN_NATIVE_MODULE_WIDTH <= dots:
        return images.barcode_module_width(data["symbology"], data["data"], data["width"], dots), True
    if modules <= dots:
        return 1, False
    raise DocumentError(
        f'"data" makes a {data["symbology"]} barcode of {modules} bars, wider than the paper\'s {dots} dots '
        f"even at 1 dot per bar; shorten it or use a QR code",
        index=index,
        field="data",
        command="barcode",
    )


def wrap_plain(text: str, columns: int, align: str = "center") -> list[Line]:
    """Marker lines (e.g. "[QR: ...]") for the text renderers."""
    metrics = _UnitMetrics(columns)
    return [Line(tuple(line), align) for line in wrap([Segment(text, NORMAL)], metrics)]
