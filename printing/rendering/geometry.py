"""What a printer can print: columns, dots, code page and Chinese support, from its profile.

Profiles are python-escpos capability profiles (escpos-printer-db). The paper width decides the
defaults (58 mm: 32 columns / 384 dots, 80 mm: 48 columns / 576 dots, font A); a named profile
overrides them only when its own media width belongs to the same paper class and its font A column
count is plausible, because several entries of the database describe a different roll (the
"default" profile claims 42 columns of an unknown width).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache

from escpos.capabilities import CAPABILITIES

DEFAULT_COLUMNS = {58: (32, 42), 80: (48, 64)}  # (font A, font B)
DEFAULT_DOTS = {58: 384, 80: 576}
DEFAULT_DPI = 203
PLAUSIBLE_COLUMNS = {58: range(24, 43), 80: range(36, 73)}

# Code pages holding every Portuguese letter, in order of preference: PC850 is what nearly every
# ESC/POS printer (Epson and the Chinese clones alike) has at the same slot; PC858 adds €.
PREFERRED_CODE_PAGES = ("CP850", "CP858", "CP860", "CP1252", "ISO_8859-15", "CP437")

# Profiles of printers sold for the Chinese market, whose firmware has a GB18030 font and
# understands FS & / FS . (Chinese character mode on/off). The capability database has no field
# for this, so it is keyed on profile names here. Those printers often power up in Chinese mode,
# so documents for them start with FS . to leave it.
CHINESE_PROFILES = frozenset({"ZJ-5870", "POS-5890", "NT-5890K", "NT-80-V-UL", "RP326", "Sunmi-V2"})


def paper_class(width_mm: float) -> int:
    """58 for narrow rolls (up to 60 mm), 80 for the rest."""
    return 58 if width_mm <= 60 else 80


def profile_names() -> list[str]:
    """Every profile name python-escpos knows ("default" first)."""
    names = sorted(CAPABILITIES["profiles"])
    names.remove("default")
    return ["default", *names]


def known_profile(name: str) -> bool:
    return not name or name in CAPABILITIES["profiles"]


def _code_page_key(name: str) -> str:
    """ "PC850", "cp-850" and "CP850" all name the same page; "WPC1252" is CP1252."""
    key = re.sub(r"[^0-9A-Z]", "", name.upper())
    return re.sub(r"^(WPC|PC|CP|WCP)", "CP", key)


@dataclass(frozen=True)
class Geometry:
    """Everything the renderers need to know about one (paper width, profile) pair."""

    profile_name: str  # python-escpos profile used ("default" when unknown or empty)
    paper_width: int  # 58 or 80
    columns: int  # font A, normal width
    columns_b: int  # font B, normal width (== columns when the profile has no font B)
    has_font_b: bool
    dots: int  # printable width in dots
    dpi: int
    chinese: bool
    profile_data: dict  # python-escpos profile data with media width/dpi filled in
    code_pages: dict  # code page name -> ESC t number, as python-escpos emits it

    def supports(self, feature: str) -> bool:
        return bool(self.profile_data["features"].get(feature))

    def code_page(self, requested: str | None = None) -> tuple[str, int]:
        """The code page a document starts in: the requested one if the profile has it."""
        candidates = ([requested] if requested else []) + list(PREFERRED_CODE_PAGES)
        by_key = {_code_page_key(name): name for name in self.code_pages}
        for candidate in candidates:
            name = by_key.get(_code_page_key(candidate))
            if name:
                return name, self.code_pages[name]
        name = min(self.code_pages, key=self.code_pages.__getitem__)
        return name, self.code_pages[name]


@lru_cache(maxsize=256)
def geometry(paper_width: int, profile: str = "") -> Geometry:
    paper = paper_class(paper_width or 80)
    name = profile if profile in CAPABILITIES["profiles"] else "default"
    data = copy.deepcopy(CAPABILITIES["profiles"][name])
    columns, columns_b = DEFAULT_COLUMNS[paper]
    dots = DEFAULT_DOTS[paper]
    media = data.setdefault("media", {})
    width = media.setdefault("width", {})
    fonts = data.get("fonts") or {}
    has_font_b = name == "default" or "1" in fonts
    if name != "default" and isinstance(width.get("mm"), (int, float)) and paper_class(width["mm"]) == paper:
        font_a = (fonts.get("0") or {}).get("columns")
        if isinstance(font_a, int) and font_a in PLAUSIBLE_COLUMNS[paper]:
            columns = font_a
            font_b = (fonts.get("1") or {}).get("columns")
            columns_b = font_b if isinstance(font_b, int) and font_b > font_a else columns * 4 // 3
        if isinstance(width.get("pixels"), int) and 256 <= width["pixels"] <= 832:
            dots = width["pixels"]
    if not has_font_b:
        columns_b = columns
    dpi = media.get("dpi") if isinstance(media.get("dpi"), int) else DEFAULT_DPI
    # python-escpos reads these to centre and check images (and prints a warning when unknown).
    width["pixels"] = dots
    width["mm"] = width["mm"] if isinstance(width.get("mm"), (int, float)) else paper
    media["dpi"] = dpi
    code_pages: dict[str, int] = {}
    for number, code_page in data.get("codePages", {}).items():
        code_pages[code_page] = int(number)  # the last slot wins, as in python-escpos' Encoder
    code_pages.pop("Unknown", None)
    if not code_pages:
        code_pages = {"CP437": 0}
    return Geometry(
        profile_name=name,
        paper_width=paper,
        columns=columns,
        columns_b=columns_b,
        has_font_b=has_font_b,
        dots=dots,
        dpi=dpi,
        chinese=name in CHINESE_PROFILES,
        profile_data=data,
        code_pages=code_pages,
    )


def printer_geometry(printer) -> Geometry:
    """Geometry of anything with ``paper_width`` and ``profile`` (e.g. receipts.PrinterSpec)."""
    return geometry(int(getattr(printer, "paper_width", 80) or 80), getattr(printer, "profile", "") or "")
