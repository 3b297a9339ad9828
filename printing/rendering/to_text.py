"""Blocks -> plain text, one copy, no line wider than the printer's columns.

This is what a text-only client (seed 001) prints: styles are dropped, alignment is done with
spaces, pictures become short bracketed markers, cuts and peripherals leave no trace.
"""

from __future__ import annotations

from . import layout as blocks


def _place(text: str, columns: int, align: str) -> str:
    gap = max(0, columns - blocks.text_width(text))
    if align == "center":
        return " " * (gap // 2) + text
    if align == "right":
        return " " * gap + text
    return text


def render(groups: list[blocks.Group], columns: int, *, image_text: str, invalid_image_text: str, image_ok) -> str:
    out: list[str] = []

    def add(line: blocks.Line):
        if line.align == "spread":
            left = "".join(segment.text for segment in line.segments[: line.split])
            right = "".join(segment.text for segment in line.segments[line.split :])
            gap = max(1, columns - blocks.text_width(left) - blocks.text_width(right))
            out.append(left + " " * gap + right)
        else:
            out.append(_place(line.text, columns, line.align).rstrip())

    def marker(text: str, align: str = "center"):
        for line in blocks.wrap_plain(text, columns, align):
            add(line)

    for group in groups:
        for block in group.blocks:
            if isinstance(block, blocks.Line):
                add(block)
            elif isinstance(block, blocks.Feed):
                out.extend([""] * block.lines)
            elif isinstance(block, blocks.QR):
                marker(f"[QR: {block.data}]", block.align)
            elif isinstance(block, blocks.Barcode):
                marker(f"[{block.symbology.upper()}: {block.data}]", block.align)
            elif isinstance(block, blocks.Picture):
                marker(image_text if image_ok(block) else invalid_image_text, block.align)
    return "\n".join(out) + "\n"
