"""Render a print document to ESC/POS bytes, plain text, an HTML preview or a 1-bit picture.

Pure functions: a document (validated here, so bad input raises DocumentError) and a printer
description (anything with ``name``, ``paper_width``, ``profile`` and ``has_cutter``, and optionally
``raster_only``, e.g. :class:`printing.receipts.PrinterSpec`) in, bytes, text or an image out.
No ORM, no I/O, and no Django needed: labels are Portuguese unless Django is set up and translates.
"""

from __future__ import annotations

from printing.documents import DocumentError, validate_document

from . import fonts, images, layout, raster, to_escpos, to_html, to_text
from .geometry import CHINESE_PROFILES, geometry, printer_geometry, profile_names
from .to_html import PREVIEW_CSS

MAX_COPIES = 99

__all__ = [
    "render_escpos",
    "render_text",
    "render_html",
    "render_image",
    "render_png",
    "code_page_info",
    "printer_geometry",
    "font_problems",
    "profile_names",
    "CHINESE_PROFILES",
    "PREVIEW_CSS",
    "DocumentError",
    "geometry",
]


font_problems = fonts.font_problems


def _(message: str) -> str:
    """gettext when Django is set up; the (Portuguese) message itself otherwise."""
    try:
        from django.conf import settings

        if not settings.configured:
            return message
        from django.utils.translation import gettext

        return gettext(message)
    except ImportError:
        return message


def _labels() -> dict:
    return {
        "image": _("[imagem]"),
        "invalid_image": _("[imagem inválida]"),
        "cut_full": _("corte total"),
        "cut_partial": _("corte parcial"),
        "drawer": _("abrir gaveta"),
    }


def _code_table(document: dict) -> str | None:
    return document.get("profile", {}).get("code_table")


def render_escpos(document, printer, *, copies: int = 1) -> bytes:
    """ESC/POS bytes for ``copies`` copies (each one complete: init, content, cut if any).

    Text lines holding characters the printer's code pages lack are sent as raster images
    (``GS v 0``); with ``printer.raster_only`` everything that prints is.
    """
    if not isinstance(copies, int) or isinstance(copies, bool) or not 1 <= copies <= MAX_COPIES:
        raise ValueError(f"copies must be an integer from 1 to {MAX_COPIES}, got {copies!r}")
    document = validate_document(document)
    shape = printer_geometry(printer)
    groups = layout.layout(document, shape, plain=False)
    one_copy = to_escpos.render(groups, shape, printer, _code_table(document), _labels()["invalid_image"])
    without_pulse = [command for command in document["commands"] if command.get("type") != "pulse"]
    if copies == 1 or len(without_pulse) == len(document["commands"]):
        return one_copy * copies
    # The cash drawer opens once per sale, not once per copy: the other copies have no pulse.
    if not without_pulse:
        return one_copy  # nothing but the pulse: the other copies would print nothing
    quiet = layout.layout({**document, "commands": without_pulse}, shape, plain=False)
    other_copy = to_escpos.render(quiet, shape, printer, _code_table(document), _labels()["invalid_image"])
    return one_copy + other_copy * (copies - 1)


def render_image(document, printer):
    """One copy as a 1-bit Pillow image (mode "1"), exactly ``printer_geometry(printer).dots``
    wide: the pictures a raster_only printer gets, stacked."""
    document = validate_document(document)
    shape = printer_geometry(printer)
    groups = layout.layout(document, shape, plain=False)
    return to_escpos.render_image(groups, shape, printer, _code_table(document), _labels()["invalid_image"])


def render_png(document, printer) -> bytes:
    """One copy as PNG bytes (1-bit), for CloudPRNT printers and previews."""
    return raster.png_bytes(render_image(document, printer))


def render_text(document, printer) -> str:
    """Plain text of one copy; no line is wider than the printer's columns."""
    document = validate_document(document)
    shape = printer_geometry(printer)
    labels = _labels()

    def image_ok(block: layout.Picture) -> bool:
        return images.decode_image(block.code) is not None

    return to_text.render(
        layout.layout(document, shape, plain=True),
        shape.columns,
        image_text=labels["image"],
        invalid_image_text=labels["invalid_image"],
        image_ok=image_ok,
    )


def render_html(document, printer, *, include_css: bool = True) -> str:
    """A safe HTML fragment previewing one copy at the printer's true column width."""
    document = validate_document(document)
    shape = printer_geometry(printer)
    return to_html.render(
        layout.layout(document, shape, plain=False), shape, printer, _labels(), include_css=include_css
    )


def code_page_info(printer, code_table: str | None = None) -> tuple[str, int]:
    """The code page documents for ``printer`` start in, as (python-escpos name, ESC t number)."""
    return printer_geometry(printer).code_page(code_table)
