"""Blocks -> 1-bit images at the printer's dot width: the same layout as the text and ESC/POS
renderers, drawn with real fonts.

Used three ways: whole documents as one picture (:func:`printing.rendering.render_image`, PNG for
CloudPRNT and previews), single text lines a code page can't carry (Chinese on a printer without
GB18030, Thai, Arabic, emoji...) inside ESC/POS output, and every block of a ``raster_only``
printer. Images are mode "1" (0 = black ink), exactly ``geometry.dots`` wide.

A font A character is ``dots / columns`` dots wide (12 on 58 and 80 mm) and twice as tall, font B
is narrower (``dots / columns_b``); size multipliers scale glyphs by whole dots as printers do. A
text line is as tall as its tallest character plus the printer's line gap.
"""

from __future__ import annotations

import io
import unicodedata

from PIL import Image, ImageDraw, ImageOps

from . import fonts, images
from . import layout as blocks
from .geometry import Geometry

LINE_GAP_RATIO = 4  # a line gap of a quarter of font A's height (6 dots for 24-dot glyphs)
FONT_B_HEIGHT_RATIO = 17 / 9  # Epson font B: 9 x 17 dots


class Cells:
    """Character cell sizes of one geometry, and the units -> dots scale of its layout."""

    def __init__(self, geometry: Geometry):
        self.geometry = geometry
        self.metrics = blocks.Metrics(geometry, plain=False)
        self.dots = geometry.dots
        self.scale = geometry.dots / self.metrics.capacity  # dots per layout unit
        self.a_width = max(4, round(self.metrics.unit_a * self.scale))
        self.a_height = self.a_width * 2
        self.b_width = max(3, round(self.metrics.unit_b * self.scale))
        self.b_height = max(6, round(self.b_width * FONT_B_HEIGHT_RATIO))
        self.gap = self.a_height // LINE_GAP_RATIO

    def cell(self, style: blocks.Style) -> tuple[int, int]:
        if style.font == "B" and self.geometry.has_font_b:
            return self.b_width, self.b_height
        return self.a_width, self.a_height

    def to_dots(self, units: int) -> int:
        return round(units * self.scale)


def is_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def _shaped_run(text: str, width: int, cell_width: int, cell_height: int, bold: bool) -> Image.Image:
    """Right-to-left text (Arabic, Hebrew) shaped and ordered by Pillow's text layout (raqm when
    available), squeezed into the columns the layout gave it."""
    font_set = fonts.font_set(cell_width, cell_height)
    sample = next(char for char in text if unicodedata.bidirectional(char) in ("R", "AL"))
    font = font_set.font_for(sample, False)
    draw_width = max(width, int(font.getlength(text)) + 2)
    canvas = Image.new("L", (draw_width, cell_height), 255)
    draw = ImageDraw.Draw(canvas)
    position = (draw_width / 2, cell_height / 2)
    draw.text(position, text, font=font, fill=0, anchor="mm")
    if bold:
        draw.text((position[0] + 1, position[1]), text, font=font, fill=0, anchor="mm")
    if draw_width > width:
        canvas = canvas.resize((max(1, width), cell_height), Image.Resampling.BILINEAR)
    return canvas.point(lambda value: 255 if value >= 128 else 0).convert("1", dither=Image.Dither.NONE)


def _segment_image(segment: blocks.Segment, cells: Cells) -> Image.Image:
    """A styled run of text at 1x1, then scaled by the style's width and height."""
    style = segment.style
    cell_width, cell_height = cells.cell(style)
    chars = [(char, blocks.char_width(char)) for char in segment.text]
    width = sum(columns for _, columns in chars) * cell_width
    image = Image.new("1", (max(1, width), cell_height), 1)
    if is_right_to_left(segment.text):
        image.paste(_shaped_run(segment.text, width, cell_width, cell_height, style.bold), (0, 0))
        chars = []
    x = 0
    for char, columns in chars:
        if char != " ":
            image.paste(fonts.glyph(char, cell_width, cell_height, columns, style.bold), (x, 0))
        x += columns * cell_width
    if style.underline:
        thickness = style.underline
        image.paste(0, (0, cell_height - thickness, width, cell_height))
    if style.inverse:
        image = ImageOps.invert(image.convert("L")).convert("1", dither=Image.Dither.NONE)
    if style.width != 1 or style.height != 1:
        image = image.resize((image.width * style.width, image.height * style.height), Image.Resampling.NEAREST)
    return image


def line_image(line: blocks.Line, cells: Cells) -> Image.Image:
    """One printed text line as wide as the paper, aligned as the printer would align it."""
    metrics = cells.metrics
    parts = [(segment, _segment_image(segment, cells)) for segment in line.segments if segment.text]
    content_height = max([image.height for _, image in parts], default=cells.a_height)
    height = content_height + cells.gap
    strip = Image.new("1", (cells.dots, height), 1)
    if line.align == "spread":
        used = sum(metrics.cost(segment.text, segment.style) for segment in line.segments)
        x_units = 0
        for number, segment in enumerate(line.segments):
            if number == line.split:
                x_units += max(1, (metrics.capacity - used) // metrics.unit_a) * metrics.unit_a
            _place_segment(strip, segment, parts, x_units, content_height, cells)
            x_units += metrics.cost(segment.text, segment.style)
        return strip
    total = sum(metrics.cost(segment.text, segment.style) for segment in line.segments)
    offset = {"left": 0, "center": (metrics.capacity - total) // 2, "right": metrics.capacity - total}.get(
        line.align, 0
    )
    x_units = max(0, offset)
    for segment in line.segments:
        _place_segment(strip, segment, parts, x_units, content_height, cells)
        x_units += metrics.cost(segment.text, segment.style)
    return strip


def _place_segment(strip, segment, parts, x_units, content_height, cells):
    for candidate, image in parts:
        if candidate is segment:
            # Characters of different heights share the baseline at the bottom, as on paper.
            strip.paste(image, (cells.to_dots(x_units), content_height - image.height))
            return


def feed_image(lines: int, cells: Cells) -> Image.Image:
    return Image.new("1", (cells.dots, max(1, lines) * (cells.a_height + cells.gap)), 1)


def qr_picture(block: blocks.QR, geometry: Geometry) -> Image.Image:
    size = images.qr_module_size(block.data, block.correction, block.pixel_width, geometry.dots)
    if block.logo or block.circle_shape:
        return images.styled_qr_image(block.data, block.correction, size, block.logo, block.circle_shape)
    return images.qr_image(block.data, block.correction, size)


def stack(parts: list[Image.Image], dots: int) -> Image.Image:
    height = sum(part.height for part in parts)
    sheet = Image.new("1", (dots, max(1, height)), 1)
    y = 0
    for part in parts:
        sheet.paste(part, (0, y))
        y += part.height
    return sheet


def barcode_picture(block: blocks.Barcode, geometry: Geometry) -> Image.Image | None:
    """The barcode as an image at its fitted bar width, or None when it can't be drawn."""
    return images.barcode_image(
        block.symbology, block.data, block.module_width, block.height, block.hri_position != "none", geometry.dpi
    )


def picture_or_none(block: blocks.Picture, geometry: Geometry) -> Image.Image | None:
    return images.print_image(
        block.code, block.pixel_width, geometry.dots, block.threshold, block.dithering, block.scaling
    )


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
