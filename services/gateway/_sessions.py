"""Sessions in a signed cookie, and the CSRF token every form carries.

The cookie holds the signed-in user, a per-session CSRF token and the notices for the next
page, as JSON signed with itsdangerous (HMAC-SHA1 of the session secret, with a timestamp:
a cookie older than ``MAX_AGE_S`` is refused). It is ``HttpOnly`` and ``SameSite=Lax``, and
``Secure`` on a request that came over https or when the config says so (a proxy that ends
TLS). Logging out clears it; logging in gives the session a fresh CSRF token.

Nothing is kept on the server, so any gateway process serves any session; a copy of a cookie
taken before a log-out stays valid until it expires (``MAX_AGE_S``)."""

from __future__ import annotations

import secrets
from typing import Any

import itsdangerous
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._asgi import HttpMiddleware

COOKIE = "abc_session"
MAX_AGE_S = 12 * 3600
MAX_NOTICES = 4
_SALT = "abc.gateway.session"


class Session:
    """One browser's session: ``user`` (None: signed out), ``csrf``, notices to show next."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = data or {}
        self.modified = False

    @property
    def user(self) -> str | None:
        user = self._data.get("user")
        return user if isinstance(user, str) else None

    @property
    def csrf(self) -> str:
        """This session's CSRF token (made on first use)."""
        token = self._data.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            self._data["csrf"] = token
            self.modified = True
        return token

    def log_in(self, user: str) -> None:
        self._data = {"user": user, "csrf": secrets.token_urlsafe(32),
                      "notices": self._data.get("notices", [])}
        self.modified = True

    def log_out(self) -> None:
        self._data = {}
        self.modified = True

    def notify(self, text: str, kind: str = "ok") -> None:
        """A notice for the next page shown (after a redirect): ``kind`` ok or error. Only the
        last few are kept, so a client that posts and never reads a page can't grow the
        cookie past what browsers keep (4 KB)."""
        self._data["notices"] = [*self._data.get("notices", []), [kind, text]][-MAX_NOTICES:]
        self.modified = True

    def take_notices(self) -> list[tuple[str, str]]:
        notices = self._data.pop("notices", [])
        if notices:
            self.modified = True
        return [(str(kind), str(text)) for kind, text in notices]

    def dumps(self) -> dict[str, Any]:
        return dict(self._data)


class Sessions(HttpMiddleware):
    """ASGI middleware: ``scope["session"]`` from the cookie; the cookie written back (or
    deleted) when the session changed."""

    def __init__(self, app: ASGIApp, secret: str, always_secure: bool) -> None:
        super().__init__(app)
        self._serializer = itsdangerous.URLSafeTimedSerializer(secret, salt=_SALT)
        self._always_secure = always_secure

    def _load(self, scope: Scope) -> tuple[Session, bool]:
        raw = HTTPConnection(scope).cookies.get(COOKIE)
        if raw is None:
            return Session(), False
        try:
            data = self._serializer.loads(raw, max_age=MAX_AGE_S)
        except itsdangerous.BadData:
            return Session(), True  # forged, expired or from an old secret: start afresh
        return Session(data if isinstance(data, dict) else None), True

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        session, had_cookie = self._load(scope)
        scope["session"] = session
        secure = "; Secure" if self._always_secure or scope.get("scheme") == "https" else ""

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.modified:
                headers = MutableHeaders(scope=message)
                data = session.dumps()
                if data:
                    value = self._serializer.dumps(data)
                    headers.append("Set-Cookie", f"{COOKIE}={value}; Path=/; Max-Age={MAX_AGE_S}"
                                                 f"; HttpOnly; SameSite=Lax{secure}")
                elif had_cookie:
                    headers.append("Set-Cookie", f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; "
                                                 f"SameSite=Lax{secure}")
                headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def session_of(connection: HTTPConnection) -> Session:
    session: Session = connection.scope["session"]
    return session


def csrf_ok(connection: HTTPConnection, sent: object) -> bool:
    """Whether ``sent`` (a form's ``csrf`` field) is this session's token."""
    session = session_of(connection)
    expected = session.dumps().get("csrf")
    return (isinstance(sent, str) and isinstance(expected, str)
            and secrets.compare_digest(sent.encode(), expected.encode()))

