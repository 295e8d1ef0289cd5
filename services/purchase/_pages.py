"""Pages of a list: a page size (0: the default, above the most: the most) and opaque page
tokens. A token names the sort key of the last item handed out, and the next page starts
after it, so a walk visits every item once even while new items arrive (keyset paging)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from services.journal import InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

T = TypeVar("T")
Key = tuple[int | str, ...]
Shape = tuple[type[int] | type[str], ...]


@dataclass(frozen=True, slots=True)
class Paging:
    """A request's page: at most ``size`` items after the key ``after`` (None: from the
    start) of list ``scope``."""

    scope: str
    size: int
    after: Key | None

    def page(self, items: Sequence[T], key: Callable[[T], Key], newest_first: bool
             ) -> tuple[list[T], str]:
        """This page of ``items`` in ``key`` order (descending when ``newest_first``), and
        the token of the next page ("" when this is the last)."""
        ordered = sorted(items, key=key, reverse=newest_first)
        if self.after is not None:
            after = self.after
            ordered = [i for i in ordered if (key(i) < after if newest_first else key(i) > after)]
        chosen = ordered[:self.size]
        more = len(ordered) > self.size
        return chosen, (_token(self.scope, key(chosen[-1])) if more else "")


def paging(scope: str, shape: Shape, page_size: int, page_token: str
           ) -> Paging | InvalidInput:
    """The page a request asks for, of list ``scope`` whose keys have ``shape``; a negative
    size or a token not handed out for this list is InvalidInput."""
    if page_size < 0:
        return InvalidInput("page_size", f"must be 0 (for {DEFAULT_PAGE_SIZE}) to "
                                         f"{MAX_PAGE_SIZE}")
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if not page_token:
        return Paging(scope, size, None)
    after = _key_of(page_token, scope, shape)
    if after is None:
        return InvalidInput("page_token", "not a page token this list handed out")
    return Paging(scope, size, after)


def _token(scope: str, key: Key) -> str:
    text = json.dumps({"list": scope, "after": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def _key_of(token: str, scope: str, shape: Shape) -> Key | None:
    try:
        found = json.loads(base64.urlsafe_b64decode(token.encode("ascii", "strict")))
    except (UnicodeError, binascii.Error, ValueError):
        return None
    if not isinstance(found, dict) or found.get("list") != scope:
        return None
    after = found.get("after")
    if (not isinstance(after, list) or len(after) != len(shape)
            or not all(type(value) is kind for value, kind in zip(after, shape, strict=True))):
        return None
    return tuple(after)
