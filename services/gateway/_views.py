"""What every page handler shares: the templates (autoescaped, from the package), rendering a
page with the session's user, CSRF token and notices, redirects, the forms' CSRF check, the
signed-in requirement, and the error page for a refusal."""

from __future__ import annotations

import asyncio
import datetime
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import grpc
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from ._backends import Backends
from ._errors import Problem, explain
from ._sessions import csrf_ok, session_of

MAX_FIELDS = 20
MAX_FIELD_BYTES = 4096  # a text field; the image file is capped by the body limit


def _when(ms: int) -> str:
    """A time (ms since epoch) as the pages show it, in UTC to the second."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _short_when(ms: int) -> str:
    """A recent time, for tables: month, day and time of day (UTC)."""
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%b %d %H:%M:%S")


def _iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(
        timespec="milliseconds")


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("services.gateway", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["short_when"] = _short_when
    env.filters["iso"] = _iso
    env.filters["duration"] = _duration
    env.filters["compact_json"] = lambda value: json.dumps(value, separators=(",", ":"))
    return env


templates = Jinja2Templates(env=_environment())


def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """``template`` with ``context`` and what every page shows (who is signed in, the CSRF
    token for its forms, the notices the last redirect left)."""
    session = session_of(request)
    return templates.TemplateResponse(request, template, {
        "user": session.user, "csrf": session.csrf, "notices": session.take_notices(),
        "error": None, **context}, status_code=status,
        headers={"Cache-Control": "no-store"})  # a person's own page, with their form token


def problem_page(request: Request, problem: Problem) -> Response:
    return page(request, "problem.html", problem.status, problem=problem)


def redirect(to: str, notice: str | None = None, request: Request | None = None) -> Response:
    """303 to ``to`` (after a POST), leaving ``notice`` for the page there."""
    if notice is not None and request is not None:
        session_of(request).notify(notice)
    return RedirectResponse(to, status_code=303)


def signed_in_user(request: Request) -> str | None:
    return session_of(request).user


def current_user(request: Request) -> str:
    """The signed-in user, in a handler behind ``signed_in``."""
    user = session_of(request).user
    assert user is not None, "behind @signed_in"
    return user


FormHandler = Callable[[Request, FormData], Awaitable[Response]]


def form_handler(handler: FormHandler) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint: the form read (with bounds), its ``csrf`` field checked against the
    session's token (403 without it, before anything else happens), then ``handler``."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        async with request.form(max_files=1, max_fields=MAX_FIELDS,
                                max_part_size=MAX_FIELD_BYTES) as form:
            if not csrf_ok(request, form.get("csrf")):
                raise HTTPException(403, "This form is out of date or was not sent by this "
                                         "site. Reload the page and try again.")
            return await handler(request, form)

    return endpoint


def signed_in(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Pages and forms for a signed-in person: anyone else is sent to log in first."""

    @functools.wraps(handler)
    async def endpoint(request: Request, *args: Any) -> Response:
        if session_of(request).user is None:
            back = f"?next={quote(request.url.path)}" if request.method == "GET" else ""
            return RedirectResponse(f"/login{back}", status_code=303)
        return await handler(request, *args)

    return endpoint


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def whole_number(form: FormData, name: str, label: str, default: int | None = None) -> int:
    """A form field as a whole number (money, seconds, pixels); a clear 400 otherwise."""
    text = text_field(form, name)
    if not text and default is not None:
        return default
    if not text.isdigit() or len(text) > 16:
        raise FormError(f"{label}: enter a whole number.")
    return int(text)


class FormError(Exception):
    """A field the gateway refuses before asking the services: shown on the form, 400."""


async def answered(call: Awaitable[Any]) -> Any:
    """``call``'s answer, or a ``Refused`` carrying what it means for the person."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise Refused(explain(exc)) from exc


async def together(*calls: Awaitable[Any]) -> list[Any]:
    """Each call's answer (as ``answered``), the calls made at once; the first refusal is
    raised once all have ended (none is left running unread)."""
    results = await asyncio.gather(*(answered(call) for call in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


class Refused(Exception):
    """A call the services refused, explained (``problem``)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


async def form_failed(request: Request, failure: FormError | Refused,
                      again: Callable[[str, int], Awaitable[Response]]) -> Response:
    """The answer to a form the gateway or the services refused: the form ``again`` with
    the reason (and the status it earns), or the problem page when the services are down."""
    if isinstance(failure, FormError):
        return await again(str(failure), 400)
    if failure.problem.unavailable:
        return problem_page(request, failure.problem)
    return await again(failure.problem.message, failure.problem.status)
