"""Sign up, log in, log out.

Sign up creates the account with its password (``CreateAccount``; purchase keeps only an
argon2id hash). Log in checks the password (``Authenticate``: a wrong one, an unknown user and
an account without a password are alike; repeated failures are slowed by purchase), then
``Login``, which settles any operation an interruption left on the account, and puts the user
in the session with a fresh CSRF token. Log out clears the session."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from services.api.abc.v1 import purchase_pb2 as pb

from ._sessions import session_of
from ._views import (
    FormError,
    Refused,
    answered,
    backends,
    form_failed,
    form_handler,
    page,
    redirect,
    text_field,
)

MIN_PASSWORD = 8
_SETTLED = {
    pb.LoginResponse.ROLLED_FORWARD: "An interrupted operation on your account was completed.",
    pb.LoginResponse.ROLLED_BACK: "An interrupted operation on your account was undone; "
                                  "nothing was charged.",
    pb.LoginResponse.STILL_IN_DOUBT: "An interrupted operation on your account could not be "
                                     "settled yet: log in again in a moment.",
}


def _next_page(text: object) -> str:
    """Where to go after logging in: a path of this site only (never another origin)."""
    if isinstance(text, str) and text.startswith("/") and not text.startswith(("//", "/\\")):
        return text
    return "/account"


async def signup_form(request: Request) -> Response:
    return page(request, "signup.html", user_id="")


async def login_form(request: Request) -> Response:
    return page(request, "login.html", user_id="",
                next_page=_next_page(request.query_params.get("next")))


@form_handler
async def signup(request: Request, form: FormData) -> Response:
    user_id, password = text_field(form, "user_id"), str(form.get("password", ""))

    async def again(error: str, status: int) -> Response:
        return page(request, "signup.html", status, user_id=user_id, error=error)

    try:
        if password != str(form.get("password2", "")):
            raise FormError("The two passwords differ.")
        if len(password) < MIN_PASSWORD:
            raise FormError(f"Password: at least {MIN_PASSWORD} characters.")
        await answered(backends(request).purchase.CreateAccount(
            pb.CreateAccountRequest(user_id=user_id, password=password)))
        return await _log_in(request, user_id, "/account", "Welcome! Your account is open.")
    except (FormError, Refused) as failure:
        return await form_failed(request, failure, again)


@form_handler
async def login(request: Request, form: FormData) -> Response:
    user_id, password = text_field(form, "user_id"), str(form.get("password", ""))
    next_page = _next_page(form.get("next"))

    async def again(error: str, status: int) -> Response:
        return page(request, "login.html", status, user_id=user_id, next_page=next_page,
                    error=error)

    try:
        await answered(backends(request).purchase.Authenticate(
            pb.AuthenticateRequest(user_id=user_id, password=password)))
        return await _log_in(request, user_id, next_page, None)
    except Refused as failure:
        return await form_failed(request, failure, again)


async def _log_in(request: Request, user_id: str, to: str, notice: str | None) -> Response:
    settled: pb.LoginResponse = await answered(backends(request).purchase.Login(
        pb.LoginRequest(user_id=user_id)))
    session = session_of(request)
    session.log_in(user_id)
    for text in (notice, _SETTLED.get(settled.resolution)):
        if text is not None:
            session.notify(text)
    return redirect(to)


@form_handler
async def logout(request: Request, form: FormData) -> Response:
    session_of(request).log_out()
    return redirect("/", "You are logged out.", request)
