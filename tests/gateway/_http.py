"""A person through plain HTTP (httpx), for tests that need no browser: the same forms, with
the CSRF token read from each page."""

from __future__ import annotations

import re
from typing import Any

import httpx

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field in the page"
    return found.group(1)


class Visitor:
    """One browser's worth of cookies, against the gateway at ``url``; ``address``: the
    client address it comes from, as a proxy names it (``X-Forwarded-For``, which the
    gateway's uvicorn trusts from 127.0.0.1 only)."""

    def __init__(self, url: str, address: str | None = None) -> None:
        headers = {"X-Forwarded-For": address} if address is not None else {}
        self.client = httpx.Client(base_url=url, timeout=20, follow_redirects=False,
                                   headers=headers)

    def __enter__(self) -> Visitor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def post(self, path: str, form: dict[str, str], page: str | None = None,
             **kwargs: Any) -> httpx.Response:
        """``form`` sent to ``path`` with the CSRF token of ``page`` (default: ``path``'s
        own page, one level up for /x/buy-like actions)."""
        token = csrf_of(self.get(page or path).text)
        return self.client.post(path, data={"csrf": token, **form}, **kwargs)

    def sign_up(self, user: str, password: str = PASSWORD) -> None:
        answer = self.try_sign_up(user, password)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/account"), \
            answer.text

    def try_sign_up(self, user: str, password: str = PASSWORD) -> httpx.Response:
        return self.post("/signup", {"user_id": user, "password": password,
                                     "password2": password})

    def log_in(self, user: str, password: str = PASSWORD) -> httpx.Response:
        return self.post("/login", {"user_id": user, "password": password})

    def change_password(self, current: str, new: str, again: str | None = None
                        ) -> httpx.Response:
        return self.post("/account/password", {
            "current_password": current, "new_password": new,
            "new_password2": new if again is None else again})

    def open_campaign(self, name: str, min_price: int, slot_seconds: int = 60,
                      size: tuple[int, int] | None = None) -> httpx.Response:
        width, height = (str(size[0]), str(size[1])) if size else ("", "")
        return self.post("/selling/campaigns", {
            "campaign_id": name, "min_price": str(min_price), "slot_length": str(slot_seconds),
            "slot_unit": "seconds", "ad_width": width, "ad_height": height}, page="/selling")

    def buy(self, campaign: str, max_price: int, filler_id: str = "") -> httpx.Response:
        return self.post(f"/campaigns/{campaign}/buy",
                         {"max_price": str(max_price), "filler_id": filler_id},
                         page=f"/campaigns/{campaign}")
