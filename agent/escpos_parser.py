"""A small ESC/POS stream parser and a plain-text rendering of receipts.

The fake printer uses it to tell status queries (``DLE EOT n``) from job data, and to show a
person what a receipt would look like. It knows the length of every command python-escpos
emits (and of the common Epson ones), including the commands that carry their own length
(``GS ( k``, ``GS v 0``, ``ESC *``, ``GS 8 L``...), so bytes inside an image or a QR code are
never mistaken for commands or text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10


class Incomplete(Exception):
    """The buffer ends in the middle of a command: more bytes are needed."""


@dataclass(frozen=True)
class Token:
    """One unit of the stream.

    ``kind`` is one of: text, newline, control, command, init, codepage, feed, cut, image,
    qr_store, qr_print, barcode, status_query, unknown, truncated. ``value`` depends on it
    (the text bytes, the code page number, the number of lines, the QR or barcode data, the
    image size, or ``(command, n)`` for a status query).
    """

    kind: str
    raw: bytes
    value: Any = None  # its type depends on ``kind`` (see above)


# ESC x: number of fixed argument bytes after the two command bytes.
_ESC_ARGS = {
    0x0C: 0,
    0x20: 1,
    0x21: 1,
    0x24: 2,
    0x25: 1,
    0x2B: 1,
    0x2D: 1,
    0x32: 0,
    0x33: 1,
    0x3C: 0,
    0x3D: 1,
    0x3F: 1,
    0x40: 0,
    0x41: 1,
    0x42: 2,
    0x43: 1,
    0x45: 1,
    0x47: 1,
    0x4A: 1,
    0x4B: 1,
    0x4C: 0,
    0x4D: 1,
    0x52: 1,
    0x53: 0,
    0x54: 1,
    0x55: 1,
    0x56: 1,
    0x57: 8,
    0x5C: 2,
    0x61: 1,
    0x63: 2,
    0x64: 1,
    0x65: 1,
    0x66: 2,
    0x69: 0,
    0x6D: 0,
    0x70: 3,
    0x72: 1,
    0x74: 1,
    0x75: 1,
    0x76: 0,
    0x7B: 1,
}
# GS x
_GS_ARGS = {
    0x21: 1,
    0x24: 2,
    0x2F: 1,
    0x3A: 0,
    0x42: 1,
    0x45: 1,
    0x48: 1,
    0x49: 1,
    0x4C: 2,
    0x50: 2,
    0x54: 1,
    0x57: 2,
    0x5C: 2,
    0x5E: 3,
    0x61: 1,
    0x62: 1,
    0x63: 0,
    0x66: 1,
    0x67: 4,
    0x68: 1,
    0x72: 1,
    0x77: 1,
    0x7C: 1,
}
# FS x
_FS_ARGS = {0x21: 1, 0x26: 0, 0x2D: 1, 0x2E: 0, 0x32: 74, 0x43: 1, 0x53: 2, 0x57: 1, 0x70: 2}

# GS V m: these cut modes take one more byte (a feed amount or a position).
_CUT_WITH_FEED = {0x41, 0x42, 0x61, 0x62, 0x67, 0x68}


def _need(buf: bytes, end: int) -> None:
    if len(buf) < end:
        raise Incomplete


def _u16(buf: bytes, at: int) -> int:
    return buf[at] + 256 * buf[at + 1]


def next_token(buf: bytes, pos: int = 0) -> tuple[Token, int]:
    """Parse the token starting at ``pos``; return it and the position after it.

    Raises :class:`Incomplete` if ``buf`` ends inside a command. A run of text ending at the
    end of the buffer is returned as it is (text needs no terminator).
    """
    _need(buf, pos + 1)
    first = buf[pos]
    if first >= 0x20:
        end = pos + 1
        while end < len(buf) and buf[end] >= 0x20:
            end += 1
        return Token("text", buf[pos:end], buf[pos:end]), end
    if first == ESC:
        return _parse_esc(buf, pos)
    if first == GS:
        return _parse_gs(buf, pos)
    if first == FS:
        return _parse_fs(buf, pos)
    if first == DLE:
        return _parse_dle(buf, pos)
    raw = buf[pos : pos + 1]
    if first == 0x0A:
        return Token("newline", raw), pos + 1
    return Token("control", raw, first), pos + 1


def _fixed(kind: str, buf: bytes, pos: int, nargs: int, value: Any = None) -> tuple[Token, int]:
    end = pos + 2 + nargs
    _need(buf, end)
    return Token(kind, buf[pos:end], value), end


def _parse_esc(buf: bytes, pos: int) -> tuple[Token, int]:
    _need(buf, pos + 2)
    cmd = buf[pos + 1]
    if cmd == 0x2A:  # ESC * m nL nH d1..dk: bit image
        _need(buf, pos + 5)
        mode, dots = buf[pos + 2], _u16(buf, pos + 3)
        end = pos + 5 + dots * (3 if mode in (32, 33) else 1)
        _need(buf, end)
        return Token("image", buf[pos:end], (dots, 24 if mode in (32, 33) else 8)), end
    if cmd == 0x28:  # ESC ( fn pL pH data
        return _parse_paren(buf, pos)
    if cmd == 0x44:  # ESC D n1..nk NUL: horizontal tab positions
        end = pos + 2
        while True:
            _need(buf, end + 1)
            end += 1
            if buf[end - 1] == 0 or end - pos > 34:
                return Token("command", buf[pos:end]), end
    if cmd == 0x26:  # ESC & y c1 c2 [x d1..d(y*x)]...: user-defined characters
        _need(buf, pos + 5)
        height, c1, c2 = buf[pos + 2], buf[pos + 3], buf[pos + 4]
        end = pos + 5
        for _ in range(max(0, c2 - c1 + 1)):
            _need(buf, end + 1)
            end += 1 + height * buf[end]
        _need(buf, end)
        return Token("command", buf[pos:end]), end
    if cmd not in _ESC_ARGS:
        return Token("unknown", buf[pos : pos + 2]), pos + 2
    nargs = _ESC_ARGS[cmd]
    end = pos + 2 + nargs
    _need(buf, end)
    if cmd == 0x40:
        return Token("init", buf[pos:end]), end
    if cmd == 0x74:
        return Token("codepage", buf[pos:end], buf[pos + 2]), end
    if cmd == 0x64:
        return Token("feed", buf[pos:end], buf[pos + 2]), end
    if cmd in (0x69, 0x6D):
        return Token("cut", buf[pos:end]), end
    return Token("command", buf[pos:end]), end


def _parse_paren(buf: bytes, pos: int) -> tuple[Token, int]:
    """``ESC/GS/FS ( fn pL pH d1..d(pL+256*pH)``."""
    _need(buf, pos + 5)
    end = pos + 5 + _u16(buf, pos + 3)
    _need(buf, end)
    raw = buf[pos:end]
    if buf[pos] == GS and buf[pos + 2] == 0x6B and end - pos >= 7:  # GS ( k: 2D codes
        symbol, function = buf[pos + 5], buf[pos + 6]
        if function == 80 and end - pos >= 8:  # store the data: cn 80 m d1..dk
            return Token("qr_store", raw, (symbol, buf[pos + 8 : end])), end
        if function == 81:
            return Token("qr_print", raw, symbol), end
    return Token("command", raw), end


def _parse_gs(buf: bytes, pos: int) -> tuple[Token, int]:
    _need(buf, pos + 2)
    cmd = buf[pos + 1]
    if cmd == 0x28:
        return _parse_paren(buf, pos)
    if cmd == 0x76:  # GS v 0 m xL xH yL yH data: raster bit image
        _need(buf, pos + 3)
        if buf[pos + 2] != 0x30:
            return Token("unknown", buf[pos : pos + 2]), pos + 2
        _need(buf, pos + 8)
        width_bytes, height = _u16(buf, pos + 4), _u16(buf, pos + 6)
        end = pos + 8 + width_bytes * height
        _need(buf, end)
        return Token("image", buf[pos:end], (width_bytes * 8, height)), end
    if cmd == 0x38:  # GS 8 L p1 p2 p3 p4 data: graphics with a 32-bit length
        _need(buf, pos + 7)
        end = pos + 7 + int.from_bytes(buf[pos + 3 : pos + 7], "little")
        _need(buf, end)
        return Token("command", buf[pos:end]), end
    if cmd == 0x2A:  # GS * x y d1..d(x*y*8): define downloaded bit image
        _need(buf, pos + 4)
        end = pos + 4 + buf[pos + 2] * buf[pos + 3] * 8
        _need(buf, end)
        return Token("command", buf[pos:end]), end
    if cmd == 0x56:  # GS V m [n]: cut
        _need(buf, pos + 3)
        end = pos + 3 + (1 if buf[pos + 2] in _CUT_WITH_FEED else 0)
        _need(buf, end)
        return Token("cut", buf[pos:end]), end
    if cmd == 0x6B:  # GS k m ...: barcode
        _need(buf, pos + 3)
        kind = buf[pos + 2]
        if kind <= 6:  # d1..dk NUL
            end = pos + 3
            while True:
                _need(buf, end + 1)
                end += 1
                if buf[end - 1] == 0:
                    return Token("barcode", buf[pos:end], buf[pos + 3 : end - 1]), end
        _need(buf, pos + 4)
        end = pos + 4 + buf[pos + 3]
        _need(buf, end)
        return Token("barcode", buf[pos:end], buf[pos + 4 : end]), end
    if cmd == 0x72:  # GS r n: transmit status (answered in order, not in real time)
        return _fixed("status_query", buf, pos, 1, ("GS r", buf[pos + 2] if len(buf) > pos + 2 else None))
    if cmd not in _GS_ARGS:
        return Token("unknown", buf[pos : pos + 2]), pos + 2
    return _fixed("command", buf, pos, _GS_ARGS[cmd])


def _parse_fs(buf: bytes, pos: int) -> tuple[Token, int]:
    _need(buf, pos + 2)
    cmd = buf[pos + 1]
    if cmd == 0x28:
        return _parse_paren(buf, pos)
    if cmd == 0x71:  # FS q n [xL xH yL yH d1..dk]...: define NV bit images
        _need(buf, pos + 3)
        end = pos + 3
        for _ in range(buf[pos + 2]):
            _need(buf, end + 4)
            end += 4 + _u16(buf, end) * _u16(buf, end + 2) * 8
        _need(buf, end)
        return Token("command", buf[pos:end]), end
    if cmd not in _FS_ARGS:
        return Token("unknown", buf[pos : pos + 2]), pos + 2
    return _fixed("command", buf, pos, _FS_ARGS[cmd])


def _parse_dle(buf: bytes, pos: int) -> tuple[Token, int]:
    _need(buf, pos + 2)
    cmd = buf[pos + 1]
    if cmd == 0x04:  # DLE EOT n [a]: real-time status
        _need(buf, pos + 3)
        n = buf[pos + 2]
        end = pos + (4 if n in (7, 8) else 3)
        _need(buf, end)
        return Token("status_query", buf[pos:end], ("DLE EOT", n)), end
    if cmd == 0x05:  # DLE ENQ n
        return _fixed("command", buf, pos, 1)
    if cmd == 0x14:  # DLE DC4 fn ...
        _need(buf, pos + 3)
        nargs = {1: 3, 2: 3, 3: 5, 7: 2, 8: 8}.get(buf[pos + 2], 1)
        return _fixed("command", buf, pos, nargs)
    return Token("control", buf[pos : pos + 1], DLE), pos + 1


def tokenize(data: bytes) -> Iterator[Token]:
    """All tokens of a complete job; a command cut short at the end becomes ``truncated``."""
    pos = 0
    while pos < len(data):
        try:
            token, pos = next_token(data, pos)
        except Incomplete:
            yield Token("truncated", data[pos:])
            return
        yield token


class StreamParser:
    """Incremental tokenizer for bytes arriving in chunks over a socket."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[Token]:
        self._buffer += chunk
        tokens, pos = [], 0
        while pos < len(self._buffer):
            try:
                token, pos_after = next_token(self._buffer, pos)
            except Incomplete:
                break
            tokens.append(token)
            pos = pos_after
        self._buffer = self._buffer[pos:]
        return tokens

    def pending(self) -> bytes:
        """Bytes of an unfinished command still waiting for the rest."""
        return self._buffer


@functools.cache
def code_page(number: int, profile: str = "default") -> tuple[str, ...]:
    """The 128 characters (0x80-0xFF) of ESC/POS character table ``number`` for ``profile``.

    Uses python-escpos's own tables, so the text decodes exactly as python-escpos encoded it
    (it picks e.g. table 13, CP857, for "ã"). Unknown tables fall back to CP437.
    """
    from escpos.capabilities import get_profile
    from escpos.magicencode import Encoder

    try:
        name = get_profile(profile).codePages.get(str(number))
    except Exception:  # unknown profile name
        name = get_profile("default").codePages.get(str(number))
    try:
        return tuple(Encoder._get_codepage_char_list(name))
    except (KeyError, LookupError, AssertionError, TypeError):
        return tuple(bytes(range(128, 256)).decode("cp437"))


def render_text(data: bytes, profile: str = "default") -> str:
    """A readable plain-text view of an ESC/POS job: commands stripped, code pages decoded."""
    table = code_page(0, profile)
    qr_data: dict[int, bytes] = {}
    parts: list[str] = []

    def new_line() -> None:
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")

    for token in tokenize(data):
        if token.kind == "text":
            parts.append("".join(chr(b) if b < 0x80 else table[b - 0x80] for b in token.value))
        elif token.kind == "newline":
            parts.append("\n")
        elif token.kind == "control" and token.value == 0x09:
            parts.append("\t")
        elif token.kind == "control" and token.value == 0x0C:
            parts.append("\n")
        elif token.kind == "init":
            table = code_page(0, profile)
        elif token.kind == "codepage":
            table = code_page(token.value, profile)
        elif token.kind == "feed":
            parts.append("\n" * token.value)
        elif token.kind == "cut":
            new_line()
            parts.append("-------- cut --------\n")
        elif token.kind == "image":
            new_line()
            parts.append("[image {}x{}]\n".format(*token.value))
        elif token.kind == "qr_store":
            symbol, payload = token.value
            qr_data[symbol] = payload
        elif token.kind == "qr_print":
            new_line()
            payload = qr_data.get(token.value, b"")
            parts.append(f"[QR: {payload.decode('utf-8', 'replace')}]\n")
        elif token.kind == "barcode":
            new_line()
            parts.append(f"[barcode: {token.value.decode('ascii', 'replace')}]\n")
    text = "".join(parts)
    return "\n".join(line.rstrip() for line in text.split("\n"))
