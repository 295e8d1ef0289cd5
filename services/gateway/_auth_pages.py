"""Sign up, log in, log out, change password.

Sign up creates the account with its password (``CreateAccount``; purchase keeps only an
argon2id hash). Log in checks the password (``Authenticate``: a wrong one, an unknown user and
an account without a password are alike; repeated failures are slowed by purchase), then
``Login``, which settles any operation an interruption left on the account, and puts the user
in the session with a fresh CSRF token. Log out clears the session. Changing the password
(``ChangePassword``, signed in) takes the current one, checked and counted as a log-in is.
The three forms that send a password are limited per client address (``_attempts``)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from services.api.abc.v1 import purchase_pb2 as pb

from ._attempts import attempts_limited
from ._sessions import session_of
from ._views import (
    FormError,
    Refused,
    answered,
    backends,
    current_user,
    form_failed,
    form_handler,
    page,
    redirect,
    signed_in,
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


def _password(form: FormData, name: str) -> str:
    """A password field as typed (never stripped: spaces are part of it)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


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
@attempts_limited
async def signup(request: Request, form: FormData) -> Response:
    user_id, password = text_field(form, "user_id"), _password(form, "password")

    async def again(error: str, status: int) -> Response:
        return page(request, "signup.html", status, user_id=user_id, error=error)

    try:
        if password != _password(form, "password2"):
            raise FormError("The two passwords differ.")
        if len(password) < MIN_PASSWORD:
            raise FormError(f"Password: at least {MIN_PASSWORD} characters.")
        await answered(backends(request).purchase.CreateAccount(
            pb.CreateAccountRequest(user_id=user_id, password=password)))
        return await _log_in(request, user_id, "/account", "Welcome! Your account is open.")
    except (FormError, Refused) as failure:
        return await form_failed(request, failure, again)


@form_handler
@attempts_limited
async def login(request: Request, form: FormData) -> Response:
    user_id, password = text_field(form, "user_id"), _password(form, "password")
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


@signed_in
async def password_form(request: Request) -> Response:
    return page(request, "password.html")


@form_handler
@signed_in
@attempts_limited
async def change_password(request: Request, form: FormData) -> Response:
    new = _password(form, "new_password")

    async def again(error: str, status: int) -> Response:
        return page(request, "password.html", status, error=error)

    try:
        if new != _password(form, "new_password2"):
            raise FormError("The two new passwords differ.")
        await answered(backends(request).purchase.ChangePassword(pb.ChangePasswordRequest(
            user_id=current_user(request), old_password=_password(form, "current_password"),
            new_password=new)))
    except Refused as refused:
        if refused.problem.reason == "BAD_CREDENTIALS":
            return await again("Your current password is wrong.", 401)
        return await form_failed(request, refused, again)
    except FormError as failure:
        return await form_failed(request, failure, again)
    return redirect("/account", "Your password is changed. Use the new one next time you "
                                "log in.", request)
