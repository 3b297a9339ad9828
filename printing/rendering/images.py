"""Pictures on paper: document images, QR codes and barcodes as 1-bit Pillow images.

Everything here is pure and cached: the same inputs give the same (shared, never mutated) image.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from functools import lru_cache

import barcode
import qrcode
from barcode.writer import ImageWriter
from PIL import Image

MAX_IMAGE_SIDE = 8192
MAX_IMAGE_PIXELS = 16_000_000
MAX_PRINTED_HEIGHT = 4000  # dots, about 50 cm of paper
IMAGE_FORMATS = {"PNG", "JPEG", "BMP", "GIF"}

QR_CORRECTION = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
# Canonical symbology -> python-barcode name (UPC-E has no software renderer).
SOFTWARE_BARCODES = {
    "upca": "upca",
    "ean13": "ean13",
    "ean8": "ean8",
    "code39": "code39",
    "code128": "code128",
    "itf": "itf",
    "codabar": "codabar",
}
MIN_NATIVE_MODULE_WIDTH = 2  # GS w accepts 2..6 on most printers
# Rough module counts, to keep a barcode inside the paper.
_FIXED_MODULES = {"upca": 95, "upce": 51, "ean13": 95, "ean8": 67}


@lru_cache(maxsize=256)
def qr_matrix(data: str, correction: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(border=0, error_correction=QR_CORRECTION[correction])
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(dark) for dark in row) for row in code.modules)


@lru_cache(maxsize=1024)
def qr_module_count(data: str, correction: str) -> int:
    """Modules per side, from the smallest version that fits: no need to build the code (its
    mask search is pure Python and was a sixth of the server's CPU per receipt)."""
    code = qrcode.QRCode(border=0, error_correction=QR_CORRECTION[correction])
    code.add_data(data)
    return code.best_fit() * 4 + 17


def qr_module_size(data: str, correction: str, pixel_width: int, dots: int) -> int:
    """Dots per QR module: as close to ``pixel_width`` as the paper allows (1..16)."""
    modules = qr_module_count(data, correction)
    size = max(1, min(16, round(pixel_width / modules)))
    return max(1, min(size, dots // (modules + 4)))


@lru_cache(maxsize=256)
def qr_image(data: str, correction: str, module_size: int, border: int = 2) -> Image.Image:
    """The QR code as a 1-bit image (0 = black), ``border`` modules of quiet zone around it."""
    matrix = qr_matrix(data, correction)
    count = len(matrix)
    small = Image.new("1", (count + 2 * border, count + 2 * border), 1)
    pixels = small.load()
    assert pixels is not None  # None only for images of no pixels
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + border, y + border] = 0
    return small.resize((small.width * module_size, small.height * module_size), Image.Resampling.NEAREST)


def barcode_modules(symbology: str, data: str) -> int:
    if symbology in _FIXED_MODULES:
        return _FIXED_MODULES[symbology]
    length = len(data)
    if symbology == "code128":
        return 11 * (length + 3) + 2
    if symbology == "code39":
        return 16 * (length + 2)
    if symbology == "itf":
        return 9 * length + 10
    return 12 * length  # codabar


def barcode_module_width(symbology: str, data: str, width: int, dots: int) -> int:
    """The requested module width (2..6), narrowed so the code fits the paper when it can."""
    modules = barcode_modules(symbology, data)
    return max(2, min(width, dots // max(modules, 1)))


@lru_cache(maxsize=128)
def barcode_image(
    symbology: str, data: str, module_width: int, height: int, text: bool, dpi: int
) -> Image.Image | None:
    """The barcode drawn by python-barcode at the printer's resolution, or None if it can't."""
    name = SOFTWARE_BARCODES.get(symbology)
    if name is None:
        return None
    if symbology == "code128" and re.match(r"\{[ABC]", data):
        data = data[2:]
    millimetres_per_dot = 25.4 / dpi
    if module_width == 1:  # python-barcode can't draw 1-dot bars: draw its modules here
        return _thin_barcode_image(name, data, height, text)
    try:
        code = barcode.get_barcode_class(name)(data, writer=ImageWriter())
        image = code.render(
            writer_options={
                "module_width": module_width * millimetres_per_dot,
                "module_height": height * millimetres_per_dot,
                "quiet_zone": 1,
                "font_size": 8 if text else 0,
                "text_distance": 4,
                "write_text": text,
                "dpi": dpi,
            }
        )
    except Exception:  # python-barcode raises many kinds of errors on data it dislikes
        return None
    return image.convert("L").point(lambda value: 255 if value >= 128 else 0).convert("1")


def _thin_barcode_image(name: str, data: str, height: int, text: bool) -> Image.Image | None:
    try:
        code = barcode.get_barcode_class(name)(data)
        modules = "".join(code.build())
        human = code.get_fullcode()
    except Exception:
        return None
    quiet = 8
    bars = Image.new("1", (len(modules) + 2 * quiet, height), 1)
    for x, module in enumerate(modules):
        if module == "1":
            bars.paste(0, (quiet + x, 0, quiet + x + 1, height))
    if not text:
        return bars
    from . import fonts

    caption = Image.new("1", (bars.width, 24), 1)
    x = max(0, (bars.width - 12 * len(human)) // 2)
    for char in human:
        if x + 12 > bars.width:
            break
        caption.paste(fonts.glyph(char, 12, 24, 1, False), (x, 0))
        x += 12
    picture = Image.new("1", (bars.width, height + 4 + 24), 1)
    picture.paste(bars, (0, 0))
    picture.paste(caption, (0, height + 4))
    return picture


def _decode_base64(code: str) -> bytes | None:
    code = re.sub(r"^data:[^,]*,", "", code.strip())
    code = re.sub(r"\s", "", code)
    code += "=" * (-len(code) % 4)
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(code, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


@lru_cache(maxsize=16)
def decode_image(code: str) -> Image.Image | None:
    """The picture in base64 ``code`` (PNG, JPEG, BMP, GIF), or None if it isn't one.

    Refuses pictures too large to decode safely (decompression bombs).
    """
    payload = _decode_base64(code)
    if not payload:
        return None
    try:
        image = Image.open(io.BytesIO(payload))
        if image.format not in IMAGE_FORMATS:
            return None
        width, height = image.size
        if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE and width * height <= MAX_IMAGE_PIXELS):
            return None
        image.load()
    except Exception:  # Pillow raises many kinds of errors on corrupt data
        return None
    return image


@lru_cache(maxsize=16)
def print_image(
    code: str, pixel_width: int | None, dots: int, threshold: int, dithering: str, scaling: str
) -> Image.Image | None:
    """The document image as printed: scaled to fit ``dots``, grey, then 1-bit (0 = black)."""
    image = decode_image(code)
    if image is None:
        return None
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image.alpha_composite(rgba)
    grey = image.convert("L")
    width = min(pixel_width or grey.width, dots)
    height = max(1, round(grey.height * width / grey.width))
    if height > MAX_PRINTED_HEIGHT:
        width = max(1, round(width * MAX_PRINTED_HEIGHT / height))
        height = MAX_PRINTED_HEIGHT
    if (width, height) != grey.size:
        grey = grey.resize((width, height), Image.Resampling.NEAREST if scaling == "nns" else Image.Resampling.BILINEAR)
    if dithering == "threshold":
        return grey.point(lambda value: 255 if value >= threshold else 0).convert("1")
    # Error diffusion. Pillow's Floyd-Steinberg stands in for Atkinson: same idea, done in C.
    return grey.convert("1", dither=Image.Dither.FLOYDSTEINBERG)


def place(image: Image.Image, dots: int, align: str) -> Image.Image:
    """``image`` on a white strip as wide as the paper, aligned; printers need no ESC a for it."""
    if image.width >= dots:
        return image.crop((0, 0, dots, image.height)) if image.width > dots else image
    offset = {"left": 0, "center": (dots - image.width) // 2, "right": dots - image.width}[align]
    strip = Image.new("1", (dots, image.height), 1)
    strip.paste(image, (offset, 0))
    return strip


def png_data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@lru_cache(maxsize=128)
def qr_data_uri(data: str, correction: str, module_size: int) -> str:
    return png_data_uri(qr_image(data, correction, module_size))


def _in_finder(x: int, y: int, count: int) -> bool:
    return (x < 7 and y < 7) or (x >= count - 7 and y < 7) or (x < 7 and y >= count - 7)


@lru_cache(maxsize=32)
def styled_qr_image(
    data: str, correction: str, module_size: int, logo: str = "", circle_shape: bool = False, border: int = 2
) -> Image.Image:
    """A QR code drawn as an image: round modules (finder patterns stay square so scanners lock
    on) and/or a logo in the middle, covering at most a fifth of the side (a twenty-fifth of the
    area, well within any correction level's budget)."""
    from PIL import ImageDraw

    matrix = qr_matrix(data, correction)
    count = len(matrix)
    side = (count + 2 * border) * module_size
    image = Image.new("1", (side, side), 1)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if not dark:
                continue
            left, top = (x + border) * module_size, (y + border) * module_size
            box = (left, top, left + module_size - 1, top + module_size - 1)
            if circle_shape and module_size >= 3 and not _in_finder(x, y, count):
                draw.ellipse(box, fill=0)
            else:
                draw.rectangle(box, fill=0)
    picture = decode_image(logo) if logo else None
    if picture is not None:
        limit = max(1, count * module_size // 5)
        scale = min(limit / picture.width, limit / picture.height)
        width, height = max(1, round(picture.width * scale)), max(1, round(picture.height * scale))
        if picture.mode in ("RGBA", "LA", "P", "PA") or "transparency" in picture.info:
            rgba = picture.convert("RGBA")
            picture = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            picture.alpha_composite(rgba)
        mark = (
            picture.convert("L")
            .resize((width, height), Image.Resampling.BILINEAR)
            .convert("1", dither=Image.Dither.FLOYDSTEINBERG)
        )
        pad = module_size
        left, top = (side - width) // 2, (side - height) // 2
        draw.rectangle((left - pad, top - pad, left + width + pad - 1, top + height + pad - 1), fill=1)
        image.paste(mark, (left, top))
    return image
