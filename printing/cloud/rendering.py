"""A job in the form a cloud printer asks for. The job's document is rendered with the same
layout engine as agents' ESC/POS: plain text (stored with the job), a PNG raster at the printer's
dot width (``printing.rendering.raster``, when installed), ePOS-Print XML for Epson."""

from django.conf import settings
from django.utils import translation

from printing.cloud.cloudprnt import MEDIA_PNG, MEDIA_TEXT, render_text


def _raster():
    try:
        from printing.rendering import raster
    except ImportError:
        return None
    return raster if hasattr(raster, "render_png") else None


def media_types():
    """What a Star printer may ask for, best first. ``application/vnd.star.starprnt`` is not
    ESC/POS, and Star printers take no ESC/POS over CloudPRNT: neither is offered."""
    return [MEDIA_PNG, MEDIA_TEXT] if _raster() is not None else [MEDIA_TEXT]


def render_for_star(job, media_type):
    if media_type == MEDIA_PNG:
        from printing.services import printer_spec

        with translation.override(settings.CANTINA_RECEIPT_LANGUAGE):
            return _raster().render_png(job.document, printer_spec(job.printer)), MEDIA_PNG
    return render_text(job), "text/plain; charset=utf-8"


def render_for_epson(job):
    from printing.rendering import _labels
    from printing.rendering.to_epos_xml import render_epos_xml
    from printing.services import printer_spec

    return render_epos_xml(job.document, printer_spec(job.printer), copies=max(1, job.copies),
                           invalid_image_text=_labels()["invalid_image"])
