"""The web gateway: people buy, sell, watch and show ads in a browser. An ASGI app (Starlette
on uvicorn) that is a pure client of Abc's gRPC API (purchase and notify, with its gateway
token): it imports no journal, store or runtime code, only ``services.api`` and
``services.settings``. See README "The web gateway"."""

from ._app import create_app
from ._config import GATEWAY_SETTINGS, GatewayConfig
from ._tracing import setup_tracing

__all__ = ["GATEWAY_SETTINGS", "GatewayConfig", "create_app", "setup_tracing"]
