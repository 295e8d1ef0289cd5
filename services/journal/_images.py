"""An ad's image, decoded and checked before its filler is stored (docs/protocol.md, "Filler").

Accepted: PNG, JPEG, GIF or WebP (found from the bytes, never from a name or a claim), at most
``MAX_FILLER_IMAGE``, each side 1 to ``MAX_AD_SIDE`` pixels, at most ``MAX_PIXELS`` in all. The
size is read from the header and checked before anything is decoded, so a decompression bomb
(a few bytes that claim 50000 x 50000 pixels) costs nothing; then every frame is decoded
(at most ``MAX_FRAMES``, and ``MAX_DECODED_PIXELS`` over all of them), so truncated or corrupt
data is refused too. Anything else is ``InvalidImage``.

``read_image`` is CPU work (up to ~0.25 s for the largest animation allowed): the journal
runs it through its context's ``offload``, off the event loop.

Pillow's own limits are set here, explicitly, for the whole process: its decompression-bomb
limit to ``MAX_PIXELS`` (it then refuses anything above twice that on open, before a WebP
decoder allocates its canvas; the check below refuses what is between), truncated images
are errors, and a PNG's compressed text chunks may expand to 4 MiB at most.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import NoReturn

from PIL import Image, ImageFile, PngImagePlugin, UnidentifiedImageError

from ._documents import MAX_AD_SIDE, MAX_FILLER_IMAGE
from ._outcomes import InvalidImage, Rejected

MAX_PIXELS = 4_194_304  # width x height
MAX_FRAMES = 256  # frames of an animation
MAX_DECODED_PIXELS = 4 * MAX_PIXELS  # width x height x frames: what decoding every frame costs

MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif",
               "WEBP": "image/webp"}
"""Pillow's format name -> the media type Abc stores and serves."""
_DETECTED = {**MEDIA_TYPES, "MPO": "image/jpeg"}  # a camera's multi-picture JPEG is a JPEG
_FORMATS = tuple(MEDIA_TYPES)  # the only decoders Pillow may try (never BMP, EPS, SVG, ...)
_CORRUPT = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError,
            KeyError, NotImplementedError, MemoryError, UserWarning)
"""What Pillow raises on bad data (its fuzzers' list); MemoryError: a header asking for more
than the process has is bad data too; UserWarning: Pillow's warning about bad data (an
invalid APNG chunk...), raised only where warnings are errors (the tests), and then refused."""

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AdImage:
    """What a checked image is: its media type and its size in pixels."""

    content_type: str
    width: int
    height: int


def read_image(data: bytes, declared: str = "") -> AdImage:
    """``data`` checked as an ad image; ``declared``, when not empty, must be its media type.
    Raises Rejected(InvalidImage) naming ``image`` (or ``content_type`` for a mismatch)."""
    if len(data) > MAX_FILLER_IMAGE:
        _refuse(f"must be at most {MAX_FILLER_IMAGE} bytes (is {len(data)})")
    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as image:
            found = AdImage(_DETECTED[str(image.format)], *image.size)
            _check_size(image.size)  # from the header: nothing is decoded yet
            if declared and declared != found.content_type:
                _refuse(f"is {declared!r} but the image is {found.content_type}",
                        "content_type")
            _decode_every_frame(image)
    except UnidentifiedImageError:
        _refuse("must be a PNG, JPEG, GIF or WebP image")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(f"must be at most {MAX_PIXELS} pixels in all")  # Pillow saw it first
    except _CORRUPT as exc:
        _refuse(f"is truncated or corrupt ({type(exc).__name__})")
    return found


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if not (1 <= width <= MAX_AD_SIDE and 1 <= height <= MAX_AD_SIDE):
        _refuse(f"must be 1 to {MAX_AD_SIDE} pixels each way (is {width}x{height})")
    if width * height > MAX_PIXELS:
        _refuse(f"must be at most {MAX_PIXELS} pixels in all (is {width}x{height})")


def _decode_every_frame(image: Image.Image) -> None:
    """Decode each frame, checking its size (a GIF frame may grow the canvas) and the budget
    before it is decoded."""
    budget = MAX_DECODED_PIXELS
    for frame in range(MAX_FRAMES):
        if frame and not _seek(image, frame):
            return
        _check_size(image.size)
        budget -= image.width * image.height
        if budget < 0:
            _refuse(f"must be at most {MAX_DECODED_PIXELS} pixels over all its frames")
        image.load()
    if _seek(image, MAX_FRAMES):
        _refuse(f"must have at most {MAX_FRAMES} frames")


def _seek(image: Image.Image, frame: int) -> bool:
    """Move to ``frame``; False when the image has no such frame."""
    try:
        image.seek(frame)
    except EOFError:
        return False
    return True


def _refuse(reason: str, field: str = "image") -> NoReturn:
    raise Rejected(InvalidImage(field, reason))
