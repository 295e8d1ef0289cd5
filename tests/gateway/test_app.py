"""The gateway's own behaviour where no service is needed (Starlette's TestClient): CSRF on
every form, the session cookie's flags, security headers, the body cap, error pages; and a
503 page when the services can't be reached (nothing listens where it dials)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from services.gateway import GatewayConfig, create_app
from services.gateway._ads import safe_href
from services.gateway._security import BodyLimit
from services.gateway._sessions import COOKIE
from services.lab.cluster import free_port

from ._testclient import TestClient

SECRET = "x" * 40


def client_for(base_url: str = "http://testserver", **config: object) -> TestClient:
    nowhere = f"127.0.0.1:{free_port()}"
    app = create_app(GatewayConfig(purchase=nowhere, notify=nowhere, session_secret=SECRET,
                                   **config))  # type: ignore[arg-type]
    return TestClient(app, base_url=base_url, raise_server_exceptions=False,
                      follow_redirects=False)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with client_for() as running:
        yield running


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field in the page"
    return found.group(1)


def post_paths(client: TestClient) -> list[str]:
    """Every route that takes a POST, with its path parameters filled in."""
    paths = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            paths.append(re.sub(r"\{[^}]+\}", "x", route.path))
    return paths


def test_every_form_posted_without_the_csrf_token_is_refused(client: TestClient) -> None:
    paths = post_paths(client)
    assert {"/login", "/signup", "/logout", "/campaigns/x/buy", "/account/ads",
            "/account/password", "/selling/campaigns", "/selling/withdrawals"} <= set(paths)
    token = csrf_of(client.get("/signup").text)  # the session has a token: it is not sent
    for path in paths:
        for form in ({}, {"csrf": "not-the-token"}, {"csrf": token[:-1]}):
            answer = client.post(path, data={"user_id": "alice", "password": "p" * 8, **form})
            assert answer.status_code == 403, (path, form, answer.status_code)
            assert "Reload the page and try again" in answer.text


def test_a_form_with_the_token_gets_past_the_check(client: TestClient) -> None:
    """The check can pass: with the session's token the login goes on to the services (here
    unreachable, hence 503, not 403)."""
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "user_id": "alice",
                                         "password": "secret-pass"})
    assert answer.status_code == 503
    assert "unavailable" in answer.text


def test_a_token_from_another_session_is_refused(client: TestClient) -> None:
    with client_for() as other:
        theirs = csrf_of(other.get("/login").text)
    client.get("/login")
    answer = client.post("/login", data={"csrf": theirs, "user_id": "a", "password": "b"})
    assert answer.status_code == 403


def test_pages_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/login", "/nowhere", "/static/style.css"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script(client: TestClient) -> None:
    html = client.get("/signup").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    assert all('src="/static/' in attributes and body == "" for attributes, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def _cookie(answer_headers: list[str]) -> str:
    found = [h for h in answer_headers if h.startswith(f"{COOKIE}=")]
    assert len(found) == 1, answer_headers
    return found[0]


def test_the_session_cookie_is_httponly_and_lax_and_secure_only_over_https() -> None:
    with client_for() as plain:
        cookie = _cookie(plain.get("/login").headers.get_list("set-cookie"))
        assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
        assert "Secure" not in cookie
    with client_for(base_url="https://testserver") as tls:
        assert "; Secure" in _cookie(tls.get("/login").headers.get_list("set-cookie"))
    with client_for(secure_cookies=True) as configured:
        assert "; Secure" in _cookie(configured.get("/login").headers.get_list("set-cookie"))


def test_a_forged_session_cookie_is_a_new_session(client: TestClient) -> None:
    client.get("/login")
    value = client.cookies[COOKIE]
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    answer = client.get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/account"


def test_signed_out_pages_send_you_to_log_in(client: TestClient) -> None:
    for path in ("/account", "/selling"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["location"]) == (
            303, f"/login?next={path}")


def test_the_services_unreachable_is_a_503_page(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 503
    assert "The service is unavailable right now" in answer.text
    assert "Traceback" not in answer.text and "grpc" not in answer.text.lower()


def test_an_unknown_page_is_a_404_page(client: TestClient) -> None:
    answer = client.get("/no/such/page")
    assert answer.status_code == 404
    assert "There is no page here." in answer.text


def test_health_and_static_files(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok"
    style = client.get("/static/style.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize(("link", "href"), [
    ("https://kites.example/a?b=c", "https://kites.example/a?b=c"),
    ("http://kites.example", "http://kites.example"),
    ("HTTPS://kites.example", "HTTPS://kites.example"),
    ("javascript:alert(1)", None),
    ("JavaScript:alert(1)", None),
    (" javascript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("//evil.example", None),
    ("https://user:pw@kites.example", None),
    ("https://", None),
    ("https://kites.example/a b", None),
    ("", None),
])
def test_only_http_links_with_a_host_are_followed(link: str, href: str | None) -> None:
    assert safe_href(link) == href


# --- the body cap, at the ASGI level (a test client reads the whole body first) ------------


def _app_reading_all() -> tuple[BodyLimit, list[int]]:
    """A BodyLimit of 1000 bytes around an app that reads everything; [chunks read]."""
    read = [0]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            read[0] += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    return BodyLimit(app, 1000), read


async def _call(app: BodyLimit, headers: list[tuple[bytes, bytes]], chunks: int
                ) -> tuple[list[Message], int]:
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 500, "more_body": pulled < chunks}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    await app(scope, receive, send)
    return sent, pulled


@pytest.mark.asyncio
async def test_a_body_over_the_cap_is_refused_before_it_is_read() -> None:
    app, _ = _app_reading_all()
    fifty_mb = str(50 * 1024 * 1024).encode()
    sent, pulled = await _call(app, [(b"content-length", fifty_mb)], chunks=100_000)
    assert sent[0]["status"] == 413 and pulled == 0
    sent, pulled = await _call(app, [], chunks=100_000)  # chunked: no length said
    assert sent[0]["status"] == 413 and pulled == 3  # stopped at the first chunk past 1000


@pytest.mark.asyncio
async def test_a_body_within_the_cap_reaches_the_app() -> None:
    app, read = _app_reading_all()
    sent, pulled = await _call(app, [(b"content-length", b"1000")], chunks=2)
    assert sent[0]["status"] == 200 and pulled == 2 and read == [1]
