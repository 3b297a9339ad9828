"""Document -> ePOS-Print XML (Epson), from the same layout engine as ESC/POS and plain text.

Epson printers with Server Direct Print fetch their jobs as ePOS-Print XML: ``<epos-print>`` with
``<text>`` (styles as attributes, line ends as newlines), ``<feed>``, ``<cut>``, ``<barcode>``,
``<symbol>`` (QR), ``<image>`` (1-bit raster, base64), ``<pulse>``, ``<sound>`` and ``<command>``
(raw ESC/POS, hex). The printer converts the text to its own code page, so accents come out as the
printer's ePOS-Print firmware prints them. Pure: blocks in, an XML string out.
"""

from __future__ import annotations

import base64
from xml.etree import ElementTree as ET

from printing.documents import validate_document

from . import images
from . import layout as blocks
from .geometry import printer_geometry

EPOS_PRINT_NAMESPACE = "http://www.epson-pos.com/schemas/2011/03/epos-print"
EPOS_BARCODE_TYPES = {
    "upca": "upc_a",
    "upce": "upc_e",
    "ean13": "ean13",
    "ean8": "ean8",
    "code39": "code39",
    "code128": "code128",
    "itf": "itf",
    "codabar": "codabar",
}
EPOS_QR_LEVELS = {"L": "level_l", "M": "level_m", "Q": "level_q", "H": "level_h"}
TEAR_OFF_FEED = 4
MAX_COPIES = 99


def _bool(value: bool) -> str:
    return "true" if value else "false"


class EposWriter:
    def __init__(self, root: ET.Element, geometry, printer):
        self.root = root
        self.geometry = geometry
        self.printer = printer
        self.metrics = blocks.Metrics(geometry, plain=False)

    def element(self, tag: str, text: str | None = None, **attributes) -> ET.Element:
        element = ET.SubElement(self.root, tag, {key: str(value) for key, value in attributes.items()})
        if text is not None:
            element.text = text
        return element

    def text(self, text: str, style: blocks.Style, **extra):
        font = "font_b" if style.font == "B" and self.geometry.has_font_b else "font_a"
        self.element(
            "text",
            self._printable(text),
            font=font,
            width=max(1, min(8, style.width)),
            height=max(1, min(8, style.height)),
            em=_bool(style.bold),
            ul=_bool(style.underline > 0),
            reverse=_bool(style.inverse),
            **extra,
        )

    def _printable(self, text: str) -> str:
        # XML 1.0 cannot carry most control characters: they would make the whole job unreadable.
        return "".join(char if char in "\n\t" or ord(char) >= 0x20 else "?" for char in text)

    def line(self, line: blocks.Line):
        if line.align == "spread":
            left, right = line.segments[: line.split], line.segments[line.split :]
            used = sum(self.metrics.cost(segment.text, segment.style) for segment in line.segments)
            gap = " " * max(1, (self.metrics.capacity - used) // self.metrics.unit_a)
            parts = [*left, blocks.Segment(gap, blocks.NORMAL), *right]
            align = "left"
        else:
            parts = list(line.segments)
            align = line.align
        if not parts:
            self.element("feed")
            return
        for number, segment in enumerate(parts):
            extra = {"align": align} if number == 0 else {}
            self.text(segment.text + ("\n" if number == len(parts) - 1 else ""), segment.style, **extra)

    def image(self, picture, align: str):
        placed = images.place(picture, self.geometry.dots, align)
        width, height = placed.size
        # Pillow's "1" mode stores white as 1; ePOS-Print rasters print 1 as black.
        packed = bytes(255 - byte for byte in placed.convert("1").tobytes())
        self.element(
            "image", base64.b64encode(packed).decode("ascii"), width=width, height=height, color="color_1", mode="mono"
        )

    def placeholder(self, text: str):
        self.line(blocks.Line((blocks.Segment(text, blocks.NORMAL),), "center"))

    def qr(self, block: blocks.QR):
        size = images.qr_module_size(block.data, block.correction, block.pixel_width, self.geometry.dots)
        self.element("text", align=block.align)
        self.element(
            "symbol",
            block.data,
            type="qrcode_model_2",
            level=EPOS_QR_LEVELS[block.correction],
            width=max(3, min(16, size)),
            height=0,
            size=0,
        )
        self.element("feed")

    def barcode(self, block: blocks.Barcode):
        data = block.data
        if block.symbology == "code128" and not data.startswith(("{A", "{B", "{C")):
            data = "{B" + data
        width = images.barcode_module_width(block.symbology, block.data, block.width, self.geometry.dots)
        self.element("text", align=block.align)
        self.element(
            "barcode",
            data,
            type=EPOS_BARCODE_TYPES[block.symbology],
            hri=block.hri_position,
            font="font_b" if str(block.hri_font).upper() == "B" else "font_a",
            width=max(2, min(6, width)),
            height=max(1, min(255, block.height)),
        )
        self.element("feed")

    def picture(self, block: blocks.Picture, placeholder: str):
        picture = images.print_image(
            block.code, block.pixel_width, self.geometry.dots, block.threshold, block.dithering, block.scaling
        )
        if picture is None:
            self.placeholder(placeholder)
        else:
            self.image(picture, block.align)

    def cut(self, block: blocks.Cut):
        if not self.printer.has_cutter:
            self.element("feed", line=max(block.feed, TEAR_OFF_FEED))
            return
        if block.feed:
            self.element("feed", line=block.feed)
        self.element("cut", type="feed")

    def pulse(self, block: blocks.Pulse):
        time = block.on_time or 100
        steps = [100, 200, 300, 400, 500]
        nearest = min(steps, key=lambda step: abs(step - time))
        self.element("pulse", drawer="drawer_1" if block.pin == 0 else "drawer_2", time=f"pulse_{nearest}")

    def beep(self, block: blocks.Beep):
        self.element("sound", pattern="pattern_a", repeat=max(1, min(255, block.times)))

    def raw(self, block: blocks.Raw):
        self.element("command", block.payload.hex())


def render(groups: list[blocks.Group], geometry, printer, invalid_image_text: str, *, copies: int = 1) -> str:
    root = ET.Element("epos-print", {"xmlns": EPOS_PRINT_NAMESPACE})
    writer = EposWriter(root, geometry, printer)
    for _copy in range(copies):
        writer.element("text", lang="zh-cn" if geometry.chinese else "en")
        for group in groups:
            for block in group.blocks:
                if isinstance(block, blocks.Line):
                    writer.line(block)
                elif isinstance(block, blocks.Feed):
                    if block.lines:
                        writer.element("feed", line=block.lines)
                elif isinstance(block, blocks.QR):
                    writer.qr(block)
                elif isinstance(block, blocks.Barcode):
                    writer.barcode(block)
                elif isinstance(block, blocks.Picture):
                    writer.picture(block, invalid_image_text)
                elif isinstance(block, blocks.Cut):
                    writer.cut(block)
                elif isinstance(block, blocks.Pulse):
                    if _copy == 0:  # the cash drawer opens once per sale, not once per copy
                        writer.pulse(block)
                elif isinstance(block, blocks.Beep):
                    writer.beep(block)
                elif isinstance(block, blocks.Raw):
                    writer.raw(block)
    return ET.tostring(root, encoding="unicode")


def render_epos_xml(document, printer, *, copies: int = 1, invalid_image_text: str = "[imagem inválida]") -> str:
    """The ``<epos-print>`` element (a string, no XML declaration) for ``copies`` copies."""
    if not isinstance(copies, int) or isinstance(copies, bool) or not 1 <= copies <= MAX_COPIES:
        raise ValueError(f"copies must be an integer from 1 to {MAX_COPIES}, got {copies!r}")
    document = validate_document(document)
    shape = printer_geometry(printer)
    return render(blocks.layout(document, shape, plain=False), shape, printer, invalid_image_text, copies=copies)


def render_epos_xml_picture(picture, printer, *, copies: int = 1) -> str:
    """A whole document already drawn as one 1-bit picture (raster_only printers): ``<image>``
    then a cut (or a tear-off feed), per copy."""
    root = ET.Element("epos-print", {"xmlns": EPOS_PRINT_NAMESPACE})
    shape = printer_geometry(printer)
    writer = EposWriter(root, shape, printer)
    for _copy in range(copies):
        writer.image(picture, "left")
        writer.cut(blocks.Cut("partial", 0))
    return ET.tostring(root, encoding="unicode")
