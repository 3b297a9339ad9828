"""A job in the form a cloud printer asks for. The job's document is rendered with the same
layout engine as agents' ESC/POS: plain text (stored with the job), a 1-bit PNG at the printer's
dot width (``printing.rendering.render_png``), ePOS-Print XML for Epson."""

import io

from django.conf import settings
from django.utils import translation

from printing.cloud.cloudprnt import MEDIA_PNG, MEDIA_TEXT, render_text

COPY_GAP_DOTS = 48  # white paper between copies of one picture


def media_types():
    """What a Star printer may ask for, best first. ``application/vnd.star.starprnt`` is not
    ESC/POS, and Star printers take no ESC/POS over CloudPRNT: neither is offered."""
    return [MEDIA_PNG, MEDIA_TEXT]


def _spec(job):
    from printing.render_inputs import printer_spec

    return printer_spec(job.printer)  # raster_only included: such printers get pictures


def _copies(picture, copies):
    from PIL import Image

    if copies <= 1:
        return picture
    sheet = Image.new("1", (picture.width, picture.height * copies + COPY_GAP_DOTS * (copies - 1)), 1)
    for number in range(copies):
        sheet.paste(picture, (0, number * (picture.height + COPY_GAP_DOTS)))
    return sheet


def render_for_star(job, media_type):
    """(bytes, Content-Type) of the job in ``media_type`` (one of media_types())."""
    if media_type == MEDIA_PNG:
        from printing.rendering import render_image

        with translation.override(settings.CANTINA_RECEIPT_LANGUAGE):
            picture = _copies(render_image(job.document, _spec(job)), max(1, job.copies))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), MEDIA_PNG
    return render_text(job), "text/plain; charset=utf-8"


def render_for_epson(job):
    """The ``<epos-print>`` element of the job (all copies)."""
    from printing.rendering import _labels
    from printing.rendering.to_epos_xml import render_epos_xml, render_epos_xml_picture

    spec = _spec(job)
    if getattr(spec, "raster_only", False):
        from printing.rendering import render_image

        return render_epos_xml_picture(render_image(job.document, spec), spec, copies=max(1, job.copies))
    return render_epos_xml(job.document, spec, copies=max(1, job.copies), invalid_image_text=_labels()["invalid_image"])
