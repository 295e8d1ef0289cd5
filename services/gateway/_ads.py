"""An ad as a page shows it: its text (escaped by the templates, like every value), its link
only when it is an http(s) URL with a host (anything else is shown as inert text, whatever the
API returns), and its image as a URL on this gateway (``/ads/{user}/{filler}/image``).

Images are served by the gateway rather than inlined as data URLs: a page of campaigns or
fillers stays small (an image may be 256 KiB), the browser caches each image (fillers are
immutable), and the Content-Security-Policy needs no ``data:`` source."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from services.api.abc.v1 import types_pb2

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


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


def image_path(user_id: str, filler_id: str) -> str:
    return f"/ads/{quote(user_id, safe='')}/{quote(filler_id, safe='')}/image"


@dataclass(frozen=True, slots=True)
class Ad:
    user_id: str
    filler_id: str
    text: str
    link: str
    href: str | None  # the link when it is safe to follow
    image_url: str | None
    width: int
    height: int

    @property
    def size(self) -> str:
        return f"{self.width}\u00d7{self.height}" if self.width and self.height else ""


def ad_of(filler: types_pb2.Filler) -> Ad:
    """The page's view of ``filler`` (a listed one comes without its bytes, but with its
    content type when it has an image)."""
    with_image = bool(filler.image or filler.content_type)
    return Ad(filler.user_id, filler.filler_id, filler.text, filler.link,
              safe_href(filler.link),
              image_path(filler.user_id, filler.filler_id) if with_image else None,
              filler.width, filler.height)
