"""Blocks -> ESC/POS bytes, through python-escpos' Dummy printer and the printer's profile.

Each copy starts from a known state (ESC @, the code page chosen for Portuguese, FS . on printers
that start in Chinese mode) and ends with default styles, so copies can simply be concatenated.
Text goes through python-escpos' magic encoder, which switches code pages as needed and prints "?"
for characters no code page holds. East Asian characters never reach it (it would send the whole
string as GB18030): on Chinese-capable profiles they are printed in Chinese mode (FS & ... FS .),
elsewhere they become one "?" per column.
"""

from __future__ import annotations

import unicodedata

from escpos.constants import GS, QR_ECLEVEL_H, QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy
from PIL import Image

from printing.documents import BARCODE_SYMBOLOGIES

from . import images, raster
from . import layout as blocks
from .geometry import Geometry

FS = b"\x1c"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
CUT_FULL = GS + b"VA\x00"  # function B: feed to the cutter, then cut
CUT_PARTIAL = GS + b"VB\x00"
TEAR_OFF_FEED = 4  # lines to bring the last printed line past the tear bar
QR_LEVELS = {"L": QR_ECLEVEL_L, "M": QR_ECLEVEL_M, "Q": QR_ECLEVEL_Q, "H": QR_ECLEVEL_H}

# python-escpos builds a character map per code page and per printer; they only depend on the
# code page, so every render shares them (the encoder's other state stays per render).
_CHARACTER_MAPS: dict = {}
# (profile, character) -> whether one of the profile's code pages holds it.
_PRINTABLE: dict[tuple[str, str], bool] = {}


def _is_chinese(char: str) -> bool:
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
    )


_INVERT = bytes(255 - value for value in range(256))
RASTER_FRAGMENT_HEIGHT = 960  # rows per GS v 0 command, as python-escpos' image() splits them


def raster_bytes(image, fragment_height: int = RASTER_FRAGMENT_HEIGHT) -> bytes:
    """``GS v 0`` commands for a 1-bit image (0 = black): the bytes python-escpos' ``image()``
    sends with ``impl="bitImageRaster"`` (same header, density and fragments), without its
    per-pixel RGBA/greyscale/dither conversions, which cost ten times the drawing."""
    image = image.convert("1")
    width_bytes = (image.width + 7) // 8
    if image.width % 8:
        padded = Image.new("1", (width_bytes * 8, image.height), 1)
        padded.paste(image, (0, 0))
        image = padded
    ink = image.tobytes().translate(_INVERT)  # Pillow: 1 = white; raster data: 1 = a black dot
    out = bytearray()
    for top in range(0, image.height, fragment_height):
        rows = min(fragment_height, image.height - top)
        out += GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        out += ink[top * width_bytes : (top + rows) * width_bytes]
    return bytes(out)


class EscposWriter:
    def __init__(self, geometry: Geometry, printer, code_table: str | None):
        self.geometry = geometry
        self.printer = printer
        self.metrics = blocks.Metrics(geometry, plain=False)
        self.escpos = Dummy(profile=geometry.profile_name)
        self.escpos.profile.profile_data = geometry.profile_data
        self.escpos.magic.encoder.available_characters = _CHARACTER_MAPS
        self.code_page, _ = geometry.code_page(code_table)
        self.style: blocks.Style | None = None
        self.align: str | None = None
        self.raster_only = bool(getattr(printer, "raster_only", False))
        self._cells: raster.Cells | None = None
        self.strips: list = []  # raster pieces waiting to go out as one GS v 0 image

    @property
    def cells(self) -> raster.Cells:
        if self._cells is None:
            self._cells = raster.Cells(self.geometry)
        return self._cells

    def printable(self, char: str) -> bool:
        """Whether the printer's own characters can print ``char`` (else it would print "?")."""
        if char.isascii():
            return True
        if blocks.char_width(char) == 2:
            return self.geometry.chinese and _is_chinese(char)
        if unicodedata.bidirectional(char) in ("R", "AL"):
            return False  # code pages hold isolated letters; only a picture shapes and orders them
        key = (self.geometry.profile_name, char)
        known = _PRINTABLE.get(key)
        if known is None:
            encoder = self.escpos.magic.encoder
            known = _PRINTABLE[key] = any(encoder.can_encode(name, char) for name in encoder.codepages)
        return known

    def needs_raster(self, line: blocks.Line) -> bool:
        if self.raster_only:
            return True
        if all(segment.text.isascii() for segment in line.segments):
            return False  # every code page prints ASCII (most receipt lines: no per-character look-up)
        return not all(self.printable(char) for segment in line.segments for char in segment.text)

    def add_strip(self, image):
        self.strips.append(image)

    def flush_strips(self):
        if self.strips:
            strips, self.strips = self.strips, []
            self.send_image(raster.stack(strips, self.geometry.dots))

    # -- state -----------------------------------------------------------------------------
    def start(self):
        self.escpos.hw("INIT")
        if self.geometry.chinese:
            self.escpos._raw(CHINESE_OFF)
        self.select_code_page()
        self.style, self.align = blocks.NORMAL, "left"

    def select_code_page(self):
        magic = self.escpos.magic
        magic.encoding = None
        magic.write_with_encoding(self.code_page, None)
        magic.encoder.used_encodings.add(self.code_page)

    def set_style(self, style: blocks.Style):
        if style.font == "B" and not self.geometry.has_font_b:
            style = blocks.Style(style.bold, style.width, style.height, style.underline, style.inverse, "A")
        current = self.style
        changes: dict[str, bool | int | str] = {}
        if current is None or (current.width, current.height) != (style.width, style.height):
            changes.update(custom_size=True, width=style.width, height=style.height)
        if current is None or current.bold != style.bold:
            changes["bold"] = style.bold
        if current is None or current.underline != style.underline:
            changes["underline"] = style.underline
        if current is None or current.font != style.font:
            changes["font"] = style.font.lower()
        if current is None or current.inverse != style.inverse:
            changes["invert"] = style.inverse
        if changes:
            self.escpos.set(**changes)
        self.style = style

    def set_align(self, align: str):
        if align != self.align:
            self.escpos.set(align=align)
            self.align = align

    def finish(self):
        self.flush_strips()
        self.set_style(blocks.NORMAL)
        self.set_align("left")

    # -- text ------------------------------------------------------------------------------
    def write(self, text: str):
        if text.isascii():
            magic = self.escpos.magic
            if magic.encoding is not None and not magic.disabled:
                # Exactly what python-escpos writes for ASCII once a code page is selected (ASCII
                # is the same byte in every one), without its search character by character.
                self.escpos._raw(text.encode("ascii"))
            else:
                self.escpos.text(text)
            return
        run: list[str] = []
        chinese: list[str] = []

        def flush_run():
            if run:
                self.escpos.text("".join(run))
                run.clear()

        def flush_chinese():
            if chinese:
                self.escpos._raw(CHINESE_ON + "".join(chinese).encode("gb18030") + CHINESE_OFF)
                chinese.clear()

        for char in text:
            if blocks.char_width(char) == 2:
                if self.geometry.chinese and _is_chinese(char):
                    flush_run()
                    chinese.append(char)
                else:
                    flush_chinese()
                    run.append("??")
                continue
            flush_chinese()
            run.append(char)
        flush_chinese()
        flush_run()

    def line(self, line: blocks.Line):
        if self.needs_raster(line):
            self.add_strip(raster.line_image(line, self.cells))
            return
        self.flush_strips()
        if line.align == "spread":
            self.set_align("left")
            left, right = line.segments[: line.split], line.segments[line.split :]
            used = sum(self.metrics.cost(segment.text, segment.style) for segment in line.segments)
            for segment in left:
                self.set_style(segment.style)
                self.write(segment.text)
            self.set_style(blocks.NORMAL)
            self.write(" " * max(1, (self.metrics.capacity - used) // self.metrics.unit_a))
            for segment in right:
                self.set_style(segment.style)
                self.write(segment.text)
        else:
            if line.segments:
                self.set_align(line.align)
            for segment in line.segments:
                self.set_style(segment.style)
                self.write(segment.text)
        if line.newline:
            self.escpos._raw(b"\n")

    # -- graphics --------------------------------------------------------------------------
    def image(self, image, align: str):
        placed = images.place(image, self.geometry.dots, align)
        if self.raster_only:
            self.add_strip(placed)
            return
        self.flush_strips()
        self.send_image(placed)

    def send_image(self, placed):
        if self.raster_only or self.geometry.supports("bitImageRaster"):
            self.set_align("left")
            self.escpos._raw(raster_bytes(placed))
            return
        if self.geometry.supports("graphics"):
            implementation = "graphics"
        else:
            implementation = "bitImageColumn"
        self.set_align("left")
        # EscposImage takes black as dark: give it an "L" picture where 0 is black.
        self.escpos.image(placed.convert("L"), impl=implementation)

    def placeholder(self, text: str):
        self.line(blocks.Line((blocks.Segment(text, blocks.NORMAL),), "center"))

    def qr(self, block: blocks.QR):
        size = images.qr_module_size(block.data, block.correction, block.pixel_width, self.geometry.dots)
        if block.native and not self.raster_only and self.geometry.supports("qrCode"):
            self.flush_strips()
            self.set_style(blocks.NORMAL)
            self.set_align(block.align)
            self.escpos.qr(block.data, ec=QR_LEVELS[block.correction], size=size, native=True)
            self.escpos._raw(b"\n")
        else:
            self.image(raster.qr_picture(block, self.geometry), block.align)

    def barcode(self, block: blocks.Barcode):
        name = BARCODE_SYMBOLOGIES[block.symbology][0]
        data = block.data
        if block.symbology == "code128" and not data.startswith(("{A", "{B", "{C")):
            data = "{B" + data
        width = block.module_width
        function = None
        if not block.native or self.raster_only:
            pass  # drawn as an image with narrower bars than the printer can make
        elif self.geometry.supports("barcodeB"):
            function = "B"
        elif self.geometry.supports("barcodeA") and block.symbology != "code128":
            function = "A"
        if function:
            self.flush_strips()
            self.set_style(blocks.NORMAL)
            self.set_align(block.align)
            try:
                self.escpos._hw_barcode(
                    data,
                    name,
                    height=block.height,
                    width=width,
                    pos={"none": "OFF", "above": "ABOVE", "below": "BELOW", "both": "BOTH"}[block.hri_position],
                    font=block.hri_font,
                    align_ct=False,
                    function_type=function,
                    check=True,
                )
                self.escpos._raw(b"\n")
                return
            except EscposError:
                pass
        picture = raster.barcode_picture(block, self.geometry)
        if picture is None:
            self.placeholder(f"[{block.symbology.upper()}: {block.data}]")
        else:
            self.image(picture, block.align)

    def picture(self, block: blocks.Picture, placeholder: str):
        picture = images.print_image(
            block.code, block.pixel_width, self.geometry.dots, block.threshold, block.dithering, block.scaling
        )
        if picture is None:
            self.placeholder(placeholder)
        else:
            self.image(picture, block.align)

    # -- paper and peripherals -------------------------------------------------------------
    def feed(self, block: blocks.Feed):
        if not block.lines:
            return
        if self.raster_only:
            self.add_strip(raster.feed_image(block.lines, self.cells))
            return
        self.flush_strips()
        self.escpos.print_and_feed(block.lines)

    def cut(self, block: blocks.Cut):
        self.finish()  # leave the printer in default styles at the end of each receipt
        if not self.printer.has_cutter:
            self.escpos.print_and_feed(max(block.feed, TEAR_OFF_FEED))
            return
        if block.feed:
            self.escpos.print_and_feed(block.feed)
        full = block.mode == "full" and self.geometry.supports("paperFullCut")
        partial_supported = self.geometry.supports("paperPartCut")
        self.escpos._raw(CUT_FULL if full or not partial_supported else CUT_PARTIAL)

    def pulse(self, block: blocks.Pulse):
        self.flush_strips()
        if block.on_time is None and block.off_time is None:
            self.escpos.cashdraw(2 if block.pin == 0 else 5)
            return
        on = min(255, max(1, -(-(block.on_time or 100) // 2)))  # ESC p counts in 2 ms steps
        off = min(255, max(on, -(-(block.off_time or 100) // 2)))
        self.escpos.cashdraw([27, 112, block.pin, on, off])

    def raw(self, block: blocks.Raw):
        self.flush_strips()
        # As in poster: what the raw bytes set (Font B, alignment, code page...) stays in force;
        # the renderer only sends what a later command itself changes.
        self.escpos._raw(block.payload)

    def output(self) -> bytes:
        return self.escpos.output


class ImageCollector(EscposWriter):
    """The raster_only writer, keeping its images instead of sending them: what paper shows."""

    def __init__(self, geometry: Geometry, printer, code_table: str | None):
        super().__init__(geometry, printer, code_table)
        self.raster_only = True
        self.sent: list = []

    def send_image(self, placed):
        self.sent.append(placed)


def render(
    groups: list[blocks.Group], geometry: Geometry, printer, code_table: str | None, invalid_image_text: str
) -> bytes:
    writer = EscposWriter(geometry, printer, code_table)
    _run(writer, groups, invalid_image_text)
    return writer.output()


def render_image(
    groups: list[blocks.Group], geometry: Geometry, printer, code_table: str | None, invalid_image_text: str
):
    """One copy as a single 1-bit image ``geometry.dots`` wide: exactly the pictures a raster_only
    printer gets, stacked (cuts, drawer pulses, beeps and raw bytes leave no trace)."""
    writer = ImageCollector(geometry, printer, code_table)
    _run(writer, groups, invalid_image_text)
    return raster.stack(writer.sent, geometry.dots)


def _run(writer: EscposWriter, groups: list[blocks.Group], invalid_image_text: str):
    writer.start()
    for group in groups:
        for block in group.blocks:
            if isinstance(block, blocks.Line):
                writer.line(block)
            elif isinstance(block, blocks.Feed):
                writer.feed(block)
            elif isinstance(block, blocks.QR):
                writer.qr(block)
            elif isinstance(block, blocks.Barcode):
                writer.barcode(block)
            elif isinstance(block, blocks.Picture):
                writer.picture(block, invalid_image_text)
            elif isinstance(block, blocks.Cut):
                writer.cut(block)
            elif isinstance(block, blocks.Pulse):
                writer.pulse(block)
            elif isinstance(block, blocks.Beep):
                writer.flush_strips()
                writer.escpos.buzzer(min(block.times, 9), min(block.lapse, 9))
            elif isinstance(block, blocks.Raw):
                writer.raw(block)
    writer.finish()
