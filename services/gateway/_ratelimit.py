"""Per-client rate limits: a token bucket per client IP (``rate_per_s`` tokens a second, up to
``burst``). The table holds at most ``max_clients`` buckets, the least recently seen let go
first: memory stays bounded however many addresses ask (a client let go comes back with a
full bucket, a small leniency against a flood of fresh addresses).

A client is the address uvicorn gives the request: the peer's, or the one ``X-Forwarded-For``
names when the peer is a proxy uvicorn trusts (``FORWARDED_ALLOW_IPS``, by default only
127.0.0.1). Behind a proxy it does not trust, every client is the proxy and shares one
bucket."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

MAX_CLIENTS = 10_000


class TokenBuckets:
    def __init__(self, rate_per_s: float, burst: int, max_clients: int = MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str) -> float:
        """Take a token for ``client``: 0 if it had one, else the seconds until it will."""
        now = self._clock()
        tokens, when = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - when) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait

    def refuse(self, request: Request) -> Response | None:
        """A 429 with Retry-After for ``request``'s client if it is over its rate, else
        None (and a token taken)."""
        wait = self.take(client_of(request))
        if wait == 0:
            return None
        return PlainTextResponse("too many requests: slow down\n", 429, headers={
            "Retry-After": str(math.ceil(wait)), "Access-Control-Allow-Origin": "*"})


def client_of(request: Request) -> str:
    """The client's address, the key of its bucket ("" when the server gives none)."""
    return request.client.host if request.client is not None else ""
