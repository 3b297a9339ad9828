"""Test helper: split ESC/POS output into its GS v 0 raster images and the other bytes."""

from PIL import Image

GS_V0 = b"\x1dv0"


def split_raster(output: bytes) -> tuple[bytes, list[Image.Image]]:
    """(every byte outside GS v 0 images, the images decoded as mode "1", 0 = black)."""
    rest, pictures, position = bytearray(), [], 0
    while True:
        start = output.find(GS_V0, position)
        if start < 0:
            rest += output[position:]
            return bytes(rest), pictures
        rest += output[position:start]
        header = output[start + 4 : start + 8]
        width_bytes = header[0] + 256 * header[1]
        height = header[2] + 256 * header[3]
        data = output[start + 8 : start + 8 + width_bytes * height]
        assert len(data) == width_bytes * height, "truncated raster image"
        # Raster bytes: 1 = black dot; Pillow's "1" raw mode: 1 = white. Invert.
        picture = Image.frombytes("1", (width_bytes * 8, height), bytes(255 - byte for byte in data))
        pictures.append(picture)
        position = start + 8 + width_bytes * height


def stack(pictures: list[Image.Image]) -> Image.Image:
    width = max(picture.width for picture in pictures)
    sheet = Image.new("1", (width, sum(picture.height for picture in pictures)), 1)
    y = 0
    for picture in pictures:
        sheet.paste(picture, (0, y))
        y += picture.height
    return sheet
