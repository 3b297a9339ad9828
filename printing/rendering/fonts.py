"""The fonts raster printing draws with: a monospaced Latin font and a CJK font.

Paths come from the Django settings ``CANTINA_FONT_LATIN`` / ``CANTINA_FONT_CJK`` when Django is
configured, else from the environment variables of the same names, else Debian's
``fonts-dejavu-core`` and ``fonts-wqy-microhei``. :func:`font_problems` lists what is missing
(the server's system check reports it at startup); nothing here needs Django.
"""

from __future__ import annotations

import os
from functools import lru_cache

from PIL import Image, ImageFont

DEFAULT_LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
DEFAULT_CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
# Optional last resort for scripts the two lack (Hebrew, Armenian...): DejaVu Sans, same package.
DEFAULT_FALLBACK = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_SETTINGS = {"CANTINA_FONT_LATIN": DEFAULT_LATIN, "CANTINA_FONT_CJK": DEFAULT_CJK}
# A code point no font maps: what a font draws for it is its "missing glyph" box.
_UNMAPPED = "\U0010fffd"


class FontError(RuntimeError):
    """A configured font is missing or unreadable."""


def _setting(name: str) -> str:
    try:
        from django.conf import settings

        if settings.configured and getattr(settings, name, None):
            return getattr(settings, name)
    except ImportError:
        pass
    return os.environ.get(name) or FONT_SETTINGS[name]


def fallback_path() -> str | None:
    path = os.environ.get("CANTINA_FONT_FALLBACK") or DEFAULT_FALLBACK
    return path if os.path.isfile(path) else None


def font_paths() -> tuple[str, str]:
    """(Latin, CJK) font file paths as configured."""
    return _setting("CANTINA_FONT_LATIN"), _setting("CANTINA_FONT_CJK")


def font_problems() -> list[tuple[str, str]]:
    """(setting name, message) for each configured font that cannot be loaded."""
    problems = []
    for name, path in zip(FONT_SETTINGS, font_paths(), strict=True):
        if not os.path.isfile(path):
            problems.append((name, f"{name}: font file {path!r} does not exist"))
            continue
        try:
            ImageFont.truetype(path, 20)
        except OSError as error:
            problems.append((name, f"{name}: font file {path!r} cannot be read ({error})"))
    return problems


@lru_cache(maxsize=64)
def _load(path: str, size: float) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError as error:
        raise FontError(
            f"font {path!r} cannot be loaded ({error}); install it or set CANTINA_FONT_LATIN / CANTINA_FONT_CJK"
        ) from None


def _mask_key(font: ImageFont.FreeTypeFont, char: str) -> tuple:
    mask = font.getmask(char, mode="1")
    return mask.size, bytes(mask)


class FontSet:
    """Fonts sized for one character cell (``cell_width`` x ``cell_height`` dots)."""

    def __init__(self, latin_path: str, cjk_path: str, cell_width: int, cell_height: int):
        self.cell_width = cell_width
        self.cell_height = cell_height
        probe = _load(latin_path, 100)
        advance = probe.getlength("M") / 100  # em fraction per monospaced character
        latin_size = min(cell_width / advance, cell_height * 0.86)
        self.latin = _load(latin_path, round(latin_size * 4) / 4)
        self.cjk = _load(cjk_path, max(6, round(min(2 * cell_width, cell_height) * 0.92)))
        extra = fallback_path()
        self.fallback = _load(extra, round(latin_size * 4) / 4) if extra else None
        ascent, descent = self.latin.getmetrics()
        # Baseline so that ascenders and descenders share the cell like a printer's font does.
        self.baseline = max(1, min(cell_height - 1, round((cell_height + ascent - descent) / 2)))
        self._missing = {font: _mask_key(font, _UNMAPPED) for font in (self.latin, self.cjk, self.fallback) if font}

    def has_glyph(self, font: ImageFont.FreeTypeFont, char: str) -> bool:
        return _mask_key(font, char) != self._missing[font]

    def font_for(self, char: str, wide: bool) -> ImageFont.FreeTypeFont:
        if not wide and self.has_glyph(self.latin, char):
            return self.latin
        if self.has_glyph(self.cjk, char):
            return self.cjk
        if self.fallback is not None and self.has_glyph(self.fallback, char):
            return self.fallback
        return self.latin  # its missing-glyph box: visible, never a "?"


@lru_cache(maxsize=16)
def font_set(cell_width: int, cell_height: int) -> FontSet:
    latin, cjk = font_paths()
    return FontSet(latin, cjk, cell_width, cell_height)


@lru_cache(maxsize=8192)
def glyph(char: str, cell_width: int, cell_height: int, columns: int, bold: bool) -> Image.Image:
    """One character drawn in its cell (``columns`` cells wide), 1-bit, 0 = black ink."""
    fonts = font_set(cell_width, cell_height)
    width = cell_width * columns
    image = Image.new("1", (width, cell_height), 1)
    if char == " ":
        return image
    font = fonts.font_for(char, columns == 2)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    if font is not fonts.cjk:
        x: float
        y: float
        x, y, anchor = 0, fonts.baseline, "ls"
        length = font.getlength(char)
        x = max(0, (width - length) / 2)  # centred in its cell, never spilling to the left
    else:
        x, y, anchor = width / 2, cell_height / 2, "mm"
    draw.text((x, y), char, font=font, fill=0, anchor=anchor)
    if bold:  # emphasized: the printer strikes each dot twice, shifted by one
        draw.text((x + 1, y), char, font=font, fill=0, anchor=anchor)
    return image
