"""Blocks -> an HTML preview fragment: a monospace strip exactly ``columns`` characters wide.

Every command becomes one ``<div class="cp-cmd cp-<type>">``; text is always escaped; QR codes,
barcodes and images are inline PNG data URIs sized to their true share of the paper width. The
fragment carries its own small stylesheet (classes prefixed ``cp-``) and loads nothing.
"""

from __future__ import annotations

from html import escape

from . import images, raster
from . import layout as blocks
from .geometry import Geometry

PREVIEW_CSS = (
    ".cp-receipt{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "line-height:1.25;background:#fff;color:#000;padding:1ch 0;box-sizing:content-box;"
    "overflow:hidden;border:1px solid #ddd}"
    ".cp-line{white-space:pre;min-height:1.25em;overflow:hidden}"
    ".cp-left{text-align:left}.cp-center{text-align:center}.cp-right{text-align:right}"
    ".cp-spread{display:flex;justify-content:space-between;align-items:baseline}"
    ".cp-b{font-weight:bold}.cp-u1{text-decoration:underline}"
    ".cp-u2{text-decoration:underline;text-decoration-thickness:2px}"
    ".cp-inv{background:#000;color:#fff}"
    ".cp-graphic{line-height:0;margin:2px 0}.cp-graphic img{image-rendering:pixelated;max-width:100%}"
    ".cp-note{color:#999;font-size:.75em;text-align:center;white-space:pre}"
    ".cp-cut .cp-note{border-top:1px dashed #999}"
    ".cp-missing{border:1px dashed #c00;color:#c00;text-align:center;white-space:pre}"
)


class HtmlWriter:
    def __init__(self, geometry: Geometry, printer, labels: dict):
        self.geometry = geometry
        self.printer = printer
        self.labels = labels
        self.font_b_scale = geometry.columns / geometry.columns_b

    def span(self, segment: blocks.Segment) -> str:
        style = segment.style
        classes = []
        if style.bold:
            classes.append("cp-b")
        if style.underline:
            classes.append(f"cp-u{style.underline}")
        if style.inverse:
            classes.append("cp-inv")
        if style.font == "B":
            classes.append("cp-fb")
        css = []
        scale = self.font_b_scale if style.font == "B" and self.geometry.has_font_b else 1
        if style.width == style.height:
            if scale != 1 or style.width != 1:
                css.append(f"font-size:{scale * style.width:.3g}em")
        else:
            # The width sets the font size (so columns stay true); the glyphs are then stretched
            # vertically into a line as tall as the height asks for.
            ratio = style.height / style.width
            css.append(
                f"display:inline-block;font-size:{scale * style.width:.3g}em;"
                f"line-height:{1.25 * ratio:.3g};transform:scaleY({ratio:.3g})"
            )
        attributes = ""
        if classes:
            attributes += f' class="{" ".join(classes)}"'
        if css:
            attributes += f' style="{";".join(css)}"'
        return f"<span{attributes}>{escape(segment.text)}</span>" if attributes else escape(segment.text)

    def line(self, line: blocks.Line) -> str:
        if line.align == "spread":
            left = "".join(self.span(segment) for segment in line.segments[: line.split])
            right = "".join(self.span(segment) for segment in line.segments[line.split :])
            return f'<div class="cp-line cp-spread"><span>{left}</span><span>{right}</span></div>'
        content = "".join(self.span(segment) for segment in line.segments)
        return f'<div class="cp-line cp-{line.align}">{content}</div>'

    def picture(self, image, align: str, alt: str) -> str:
        percent = min(100.0, 100.0 * image.width / self.geometry.dots)
        return (
            f'<div class="cp-graphic cp-{align}"><img src="{images.png_data_uri(image)}" '
            f'alt="{escape(alt)}" style="width:{percent:.4g}%"></div>'
        )

    def note(self, text: str, title: str = "") -> str:
        title_attribute = f' title="{escape(title)}"' if title else ""
        return f'<div class="cp-note"{title_attribute}>{escape(text)}</div>'

    def block(self, block) -> str:
        labels = self.labels
        if isinstance(block, blocks.Line):
            return self.line(block)
        if isinstance(block, blocks.Feed):
            return '<div class="cp-line"></div>' * block.lines
        if isinstance(block, blocks.QR):
            size = images.qr_module_size(block.data, block.correction, block.pixel_width, self.geometry.dots)
            if block.logo or block.circle_shape:
                return self.picture(raster.qr_picture(block, self.geometry), block.align, f"QR: {block.data}")
            qr = images.qr_image(block.data, block.correction, size)
            percent = min(100.0, 100.0 * qr.width / self.geometry.dots)
            return (
                f'<div class="cp-graphic cp-{block.align}"><img src="'
                f'{images.qr_data_uri(block.data, block.correction, size)}" alt="QR: {escape(block.data)}" '
                f'style="width:{percent:.4g}%"></div>'
            )
        if isinstance(block, blocks.Barcode):
            # The bar width the paper gets (1-dot bars when too wide for native ones).
            bars = raster.barcode_picture(block, self.geometry)
            if bars is None:
                return self.note(f"[{block.symbology.upper()}: {block.data}]")
            return self.picture(bars, block.align, f"{block.symbology.upper()}: {block.data}")
        if isinstance(block, blocks.Picture):
            picture = images.print_image(
                block.code, block.pixel_width, self.geometry.dots, block.threshold, block.dithering, block.scaling
            )
            if picture is None:
                return f'<div class="cp-missing">{escape(labels["invalid_image"])}</div>'
            return self.picture(picture, block.align, labels["image"])
        if isinstance(block, blocks.Cut):
            if self.printer.has_cutter:
                return self.note(f"✂ {labels['cut_' + block.mode]}")
            return '<div class="cp-line"></div>' * block.feed
        if isinstance(block, blocks.Pulse):
            return self.note(labels["drawer"])
        if isinstance(block, blocks.Beep):
            return self.note(f"♪ × {block.times}")
        if isinstance(block, blocks.Raw):
            return self.note(f"ESC/POS {len(block.payload)} B", block.comment)
        return ""


def render(groups: list[blocks.Group], geometry: Geometry, printer, labels: dict, *, include_css: bool) -> str:
    writer = HtmlWriter(geometry, printer, labels)
    parts = [f'<div class="cp-receipt" style="width:{geometry.columns}ch" data-columns="{geometry.columns}">']
    if include_css:
        parts.append(f"<style>{PREVIEW_CSS}</style>")
    for group in groups:
        inner = "".join(writer.block(block) for block in group.blocks)
        parts.append(f'<div class="cp-cmd cp-{group.kind}" data-index="{group.index}">{inner}</div>')
    parts.append("</div>")
    return "\n".join(parts)
