"""Photos and signatures sent from the field app: checked to be images, and their perceptual hash.

The perceptual hash is a 64-bit difference hash (dHash): the picture in grey at 9×8 pixels, one
bit per pair of horizontal neighbours (is the left one brighter). Re-encoding, resizing and small
edits change few bits; another scene changes about half. Computed with Pillow.
"""
from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
MAX_PIXELS = 50_000_000


class NotAnImage(ValueError):
    """The bytes are no JPEG, PNG or WebP picture (the message is Chinese)."""


def image_type(data: bytes) -> str:
    """The picture's MIME type, read from its content; NotAnImage otherwise."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind = picture.format
            width, height = picture.size
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise NotAnImage("文件不是可识别的图片（支持 JPEG、PNG、WebP）") from error
    if kind not in FORMATS:
        raise NotAnImage("文件不是可识别的图片（支持 JPEG、PNG、WebP）")
    if width * height > MAX_PIXELS:
        raise NotAnImage(f"图片像素过多（{width}×{height}）")
    return FORMATS[kind]


def difference_hash(data: bytes) -> str | None:
    """The picture's 64-bit dHash as 16 hex digits; None when it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            small = picture.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    pixels = small.tobytes()
    bits = 0
    for row in range(8):
        for column in range(8):
            bits = (bits << 1) | (pixels[row * 9 + column] > pixels[row * 9 + column + 1])
    return f"{bits:016x}"
