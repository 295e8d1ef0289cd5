"""A per-client limit on the forms that send a password (log in, sign up, change password).

Purchase throttles failed log-ins per account (README, "Passwords (for gateways)"): alone,
that lets one client guess across many accounts, or keep someone's account throttled. So the
gateway also limits each client address: a token bucket of ``login_attempts`` a minute, in
bursts of as many (``GatewayConfig``; ``_ratelimit``, bounded memory), taken once the form has
passed its CSRF check. An attempt over the limit gets a 429 page with ``Retry-After`` and
never reaches purchase."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ._errors import Problem
from ._ratelimit import TokenBuckets, client_of
from ._views import FormHandler, page


def login_limits(attempts_per_minute: int,
                 clock: Callable[[], float] = time.monotonic) -> TokenBuckets:
    """The buckets for one gateway process: ``attempts_per_minute`` per client address."""
    return TokenBuckets(rate_per_s=attempts_per_minute / 60, burst=attempts_per_minute,
                        clock=clock)


def attempts_limited(handler: FormHandler) -> FormHandler:
    """``handler`` behind the app's per-client limit (``app.state.login_limits``)."""

    @functools.wraps(handler)
    async def limited(request: Request, form: FormData) -> Response:
        limits: TokenBuckets = request.app.state.login_limits
        wait = limits.take(client_of(request))
        if wait == 0:
            return await handler(request, form)
        seconds = math.ceil(wait)
        problem = Problem("Your address has made too many log-in, sign-up or password "
                          f"attempts in a short time. Wait {seconds}\u00a0s, then try again.",
                          429, "TOO_MANY_ATTEMPTS")
        refused = page(request, "problem.html", 429, problem=problem, again=request.url.path)
        refused.headers["Retry-After"] = str(seconds)
        return refused

    return limited
