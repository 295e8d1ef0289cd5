"""Real images for tests, made with Pillow in memory: one of each accepted format, an
animation, one padded to an exact byte count, and hand-built PNG headers (a decompression
bomb: a few bytes that claim a huge image)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
"""Pillow's format name -> the media type Abc should find."""


def image_bytes(fmt: str = "PNG", width: int = 300, height: int = 250) -> bytes:
    """A ``width`` x ``height`` image in ``fmt`` (any format Pillow writes: BMP, TIFF...)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def noisy_image(fmt: str, width: int = 300, height: int = 250) -> bytes:
    """Noise (so the pixel data is most of the file, whatever the format compresses away)."""
    out = io.BytesIO()
    Image.effect_noise((width, height), 80).convert("RGB").save(out, fmt)
    return out.getvalue()


def animation(fmt: str, frames: int, width: int = 16, height: int = 16,
              solid: bool = False) -> bytes:
    """An animated ``fmt`` (GIF, WEBP or PNG) of ``frames`` distinct frames: of noise, or
    each of one colour (``solid``: a big animation in few bytes)."""
    images = [Image.new("RGB", (width, height), (i * 37 % 256, i % 256, 90)) if solid
              else Image.effect_noise((width, height), 10 + i % 90).convert("RGB")
              for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=True, append_images=images[1:])
    return out.getvalue()


def png_of_length(total: int, width: int = 300, height: int = 250) -> bytes:
    """A valid PNG of exactly ``total`` bytes (padded with a text chunk)."""
    def padded(pad: int) -> bytes:
        info = PngImagePlugin.PngInfo()
        info.add_text("pad", "x" * pad)
        out = io.BytesIO()
        Image.new("RGB", (width, height), (30, 30, 200)).save(out, "PNG", pnginfo=info)
        return out.getvalue()

    base = len(padded(0))
    data = padded(total - base)
    assert len(data) == total, (len(data), total)
    return data


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG (under 100 bytes) whose header claims ``width`` x ``height`` RGB pixels; its
    pixel data is a few zero bytes, so decoding it in full would fail, or eat the memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))
