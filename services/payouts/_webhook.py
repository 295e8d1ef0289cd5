"""The ``webhook`` rail: one HTTP POST per payout to the operator's payment system.

``POST <url>`` with a JSON body (``user_id``, ``withdrawal_id``, ``amount``, ``fee``,
``destination``; money in integer minor units, no currency: the operator's system knows it)
and the header ``Idempotency-Key: <uid>:<wid>`` (``<uid>:<wid>:<n>`` for the n-th try, after
the operator retried a refused one). The payment system must pay each key at most once and
answer a repeat as it answered the first call, a refusal included. What its answer means:

- 2xx with a JSON object holding a non-empty string ``reference``: ``Paid``;
- 4xx: ``Refused``, the reason being the body's ``reason`` (or its text) - except 408 (request
  timeout), 409 (the same key still in progress) and 429 (too many requests), which say
  nothing about the payment: ``NoAnswer``;
- anything else (5xx, 3xx, a 2xx without a reference), a timeout, a refused or dropped
  connection: ``NoAnswer``, so the withdrawal stays paying and is asked about again, with the
  same key.

Standard library only: ``http.client`` in a worker thread, with the timeout on the socket
and, for a server that trickles its answer, on the whole call.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.parse
from dataclasses import dataclass

from ._rail import NoAnswer, Paid, PayoutOrder, RailAnswer, Refused

MAX_BODY = 65_536  # bytes of an answer read
MAX_TEXT = 500  # characters of a reference or a reason kept
NOT_A_REFUSAL = frozenset({408, 409, 429})


class WebhookConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to POST: ``https`` or ``http``, host, port and the path with its query."""

    tls: bool
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookConfigError(f"payout webhook {url!r}: want http(s)://host[:port]/path")
        if parts.username or parts.password:
            raise WebhookConfigError("payout webhook: no credentials in the URL (URLs get "
                                     "logged)")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise WebhookConfigError(f"payout webhook {url!r}: {exc}") from None
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme == "https", parts.hostname, port, path)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes


class WebhookRail:
    """POSTs each payout to ``url``; ``timeout_ms`` bounds a call."""

    name = "webhook"
    automatic = True

    def __init__(self, url: str, timeout_ms: int = 5000) -> None:
        self.endpoint = Endpoint.parse(url)
        self.url = url
        self.timeout_ms = timeout_ms

    async def pay(self, order: PayoutOrder) -> RailAnswer:
        timeout_s = self.timeout_ms / 1000
        try:
            # The socket times out each wait; the outer bound catches a trickling answer.
            reply = await asyncio.wait_for(asyncio.to_thread(self._post, order, timeout_s),
                                           2 * timeout_s)
        except TimeoutError:
            return NoAnswer(f"no answer within {self.timeout_ms} ms")
        except (OSError, http.client.HTTPException) as exc:
            return NoAnswer(f"{type(exc).__name__}: {exc}")
        return answer_of(reply)

    def _post(self, order: PayoutOrder, timeout_s: float) -> Reply:
        e = self.endpoint
        connection = (http.client.HTTPSConnection(e.host, e.port, timeout=timeout_s) if e.tls
                      else http.client.HTTPConnection(e.host, e.port, timeout=timeout_s))
        try:
            connection.request("POST", e.path, json.dumps(order.to_json()).encode(), {
                "Content-Type": "application/json", "Accept": "application/json",
                "Idempotency-Key": order.idempotency_key})
            response = connection.getresponse()
            return Reply(response.status, response.read(MAX_BODY))
        finally:
            connection.close()


def answer_of(reply: Reply) -> RailAnswer:
    """What the payment system's HTTP answer says about the payment."""
    if 200 <= reply.status < 300:
        reference = _field(reply.body, "reference")
        if reference is None:
            return NoAnswer(f"HTTP {reply.status} without a reference")
        return Paid(reference)
    if 400 <= reply.status < 500 and reply.status not in NOT_A_REFUSAL:
        text = _field(reply.body, "reason") or reply.body.decode("utf-8", "replace").strip()
        return Refused(f"HTTP {reply.status}: {text}"[:MAX_TEXT])
    return NoAnswer(f"HTTP {reply.status}")


def _field(body: bytes, name: str) -> str | None:
    """The non-empty string ``name`` of a JSON object body, else None."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    found = value.get(name) if isinstance(value, dict) else None
    return found[:MAX_TEXT] if isinstance(found, str) and found.strip() else None
