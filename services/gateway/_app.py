"""``create_app``: the gateway's ASGI app (Starlette): its pages and forms, its static files,
the middleware every request passes (a span, security headers, a body cap, the session), and
the channels to purchase and notify, opened when the app starts and closed when it stops."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import _account_pages as account
from . import _auth_pages as auth
from . import _campaign_pages as campaigns
from . import _selling_pages as selling
from ._attempts import login_limits
from ._backends import Backends
from ._config import GatewayConfig
from ._errors import Problem
from ._hub import LiveHub
from ._live import live_routes
from ._publisher import publisher_routes
from ._security import BodyLimit, SecurityHeaders
from ._sessions import Sessions
from ._tracing import RequestSpans
from ._views import Refused, problem_page

log = logging.getLogger("abc.gateway")

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 1024 * 1024  # an ad's image (256 KiB) and its fields, with room to spare
_TITLES = {403: "Refused", 404: "Not found", 405: "Not allowed", 413: "Too large"}


async def _health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def routes() -> list[BaseRoute]:
    return [
        Route("/", campaigns.campaigns),
        Route("/campaigns", campaigns.campaigns),
        Route("/campaigns/{campaign_id}", campaigns.campaign),
        Route("/campaigns/{campaign_id}/buy", campaigns.buy, methods=["POST"]),
        Route("/signup", auth.signup_form),
        Route("/signup", auth.signup, methods=["POST"]),
        Route("/login", auth.login_form),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/account", account.account),
        Route("/account/ads", account.upload, methods=["POST"]),
        Route("/account/password", auth.password_form),
        Route("/account/password", auth.change_password, methods=["POST"]),
        Route("/ads/{user_id}/{filler_id}/image", account.ad_image),
        Route("/selling", selling.selling),
        Route("/selling/campaigns", selling.create_campaign, methods=["POST"]),
        Route("/selling/withdrawals", selling.withdraw, methods=["POST"]),
        Route("/healthz", _health),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return problem_page(request, exc.problem)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405 and request.method == "HEAD":
        return Response(status_code=405)
    title = _TITLES.get(exc.status_code, "Refused")
    message = exc.detail if exc.detail and exc.detail != title else f"{title}."
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = "There is no page here."
    return problem_page(request, Problem(message, exc.status_code))


async def _server_error(request: Request, exc: Exception) -> Response:
    # Outside the session and the templates, on purpose: nothing here can fail in turn.
    log.exception("a page failed", exc_info=exc)
    return HTMLResponse("<!doctype html><title>Something went wrong</title><h1>Something went "
                        "wrong on our side</h1><p>Try again, or <a href=\"/\">go to the "
                        "campaigns</a>.</p>", 500)


def create_app(config: GatewayConfig) -> Starlette:
    """The app for ``config``; it connects to purchase and notify when it starts."""

    # Live updates and publishers: one hub per process, on the channels the app opens.
    hub = LiveHub(lambda: app.state.backends.notify, lambda: app.state.backends.purchase)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.backends = Backends.open(config)
        hub.start()
        try:
            yield
        finally:
            await hub.close()
            await app.state.backends.close()

    secret = config.session_secret or secrets.token_urlsafe(32)
    app = Starlette(
        routes=[*routes(), *live_routes(hub), *publisher_routes(hub)], lifespan=lifespan,
        middleware=[Middleware(RequestSpans), Middleware(SecurityHeaders),
                    Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES),
                    Middleware(Sessions, secret=secret, always_secure=config.secure_cookies)],
        exception_handlers={Refused: _refused, HTTPException: _http_error,
                            500: _server_error})
    app.state.login_limits = login_limits(config.login_attempts)
    return app
