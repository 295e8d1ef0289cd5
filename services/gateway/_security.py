"""Response headers every page gets, and a cap on request bodies.

``SecurityHeaders`` adds a Content-Security-Policy that runs only the gateway's own script
files (no inline script, no plugin, no framing: ``frame-ancestors 'none'``, with
``X-Frame-Options: DENY`` for older browsers), ``X-Content-Type-Options: nosniff`` and a
``Referrer-Policy``. A response that sets its own Content-Security-Policy keeps it (the embed
page, which publishers frame, says whom it lets frame it) and gets no X-Frame-Options.

``BodyLimit`` refuses a body over its cap with 413 before reading it: at once when
Content-Length says so, or as soon as a chunked body passes the cap (never read whole)."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._asgi import HttpMiddleware

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'")


class SecurityHeaders(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                    headers["X-Frame-Options"] = "DENY"
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TooLarge(Exception):
    """A chunked body passed the cap while the app read it."""


class BodyLimit(HttpMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        async def noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, noting_start)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            f"Too large: a request body may be at most {self.max_bytes // 1024} KiB.", 413,
            headers={"Connection": "close"})
        await response(scope, receive, send)
