"""An ad's image as the publishers' API serves it: only as one of the four types the API
accepts."""

from __future__ import annotations

from services.api.abc.v1 import types_pb2

from ._ads import IMAGE_TYPES

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


def image_type(filler: types_pb2.Filler) -> str | None:
    """The media type to serve ``filler``'s image as: the API's when it is one of the four,
    else read from the image's first bytes; None when it is none of them."""
    if filler.content_type in IMAGE_TYPES:
        return filler.content_type
    data = filler.image
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
