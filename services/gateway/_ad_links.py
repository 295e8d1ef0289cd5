"""What of an ad may reach a browser as is: a link only when it is http(s) with a host, and an
image only as one of the four types the API accepts."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.api.abc.v1 import types_pb2

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


def safe_href(link: str) -> str | None:
    """``link`` if a browser may follow it: http or https, a host, no credentials, no
    spaces or control characters; else None."""
    if not link or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return link


def image_type(filler: types_pb2.Filler) -> str | None:
    """The media type to serve ``filler``'s image as: the API's when it is one of the four,
    else read from the image's first bytes; None when it is none of them."""
    if filler.content_type in IMAGE_TYPES:
        return filler.content_type
    data = filler.image
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
