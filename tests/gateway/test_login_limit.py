"""The gateway's per-client limit on the forms that send a password (``_attempts``).

Over real HTTP: a gateway process with a limit of 5 a minute, in front of a whole system of
real processes. One address that passes it gets a 429 page with Retry-After and its attempts
never reach purchase (a sign-up it sent created nothing), while another address logs in;
changing a password draws on the same limit. With Starlette's TestClient and a clock of the
test's: the bucket refills at its rate, for log-in and sign-up alike."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.gateway import GatewayConfig, create_app
from services.gateway._attempts import login_limits
from services.lab.cluster import free_port
from services.settings import ConfigError

from ._http import PASSWORD, Visitor, csrf_of
from ._system import GATEWAY_TOKEN, SESSION_SECRET, System, gateway_child, wait_gateway
from ._testclient import TestClient

LIMIT = 5  # attempts a minute: one more each 12 s, far longer than these tests take


@pytest.fixture(scope="module")
def limited(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second gateway process, with a limit of ``LIMIT``, in front of the same services:
    its URL."""
    child, url = gateway_child(tmp_path_factory.mktemp("limited"), system.purchase,
                               system.notify, "--token", GATEWAY_TOKEN, "--session-secret",
                               SESSION_SECRET, "--login-attempts", str(LIMIT))
    child.start()
    try:
        wait_gateway(child, url)
        yield url
    finally:
        child.stop(10)


def _title(answer: httpx.Response) -> str:
    found = re.search(r"<h1>([^<]*)</h1>", answer.text)
    assert found is not None, answer.text
    return html.unescape(found.group(1))


def test_an_address_past_its_limit_gets_429_and_nothing_reaches_purchase(
    limited: str,
) -> None:
    with Visitor(limited, "203.0.113.7") as flood, Visitor(limited, "198.51.100.9") as other:
        for n in range(LIMIT):
            assert flood.log_in(f"nobody-{n}", "a wrong password").status_code == 401
        refused = flood.try_sign_up("late-lou")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60 // LIMIT
        assert _title(refused) == "Too many attempts"
        assert re.search(r"Your address has made too many log-in, sign-up or password "
                         r"attempts in a short time\. Wait \d+\u00a0s, then try again\.",
                         refused.text)
        assert 'href="/signup"' in refused.text  # back to the form it came from
        assert flood.get("/login").status_code == 200  # pages are still served to it
        # The sign-up never reached purchase: the name is free for another address, whose
        # attempts are its own; the flood is refused even with the right password.
        other.sign_up("late-lou")
        assert flood.log_in("late-lou").status_code == 429
        assert other.post("/logout", {}, page="/account").status_code == 303
        assert other.log_in("late-lou").headers.get("location") == "/account"


def test_changing_a_password_draws_on_the_same_limit(limited: str) -> None:
    with Visitor(limited, "203.0.113.10") as vera:
        vera.sign_up("vera")  # one attempt
        for _ in range(LIMIT - 1):  # fewer failures than purchase's throttle on the account
            assert vera.change_password("a wrong guess", "a new password").status_code == 401
        refused = vera.change_password(PASSWORD, "a new password")
        assert (refused.status_code, _title(refused)) == (429, "Too many attempts")
        assert 'href="/account/password"' in refused.text
        assert vera.post("/logout", {}, page="/account").status_code == 303
    with Visitor(limited, "203.0.113.11") as again:
        assert again.log_in("vera").headers.get("location") == "/account"  # not changed


def test_a_form_without_its_token_is_refused_before_it_counts(limited: str) -> None:
    with Visitor(limited, "203.0.113.8") as forger:
        forger.get("/login")
        for _ in range(LIMIT + 2):
            answer = forger.client.post("/login", data={"user_id": "a", "password": "b" * 8})
            assert answer.status_code == 403
        assert forger.log_in("nobody", "a wrong password").status_code == 401


def test_the_systems_gateway_has_the_default_limit(system: System) -> None:
    """``abc serve gateway`` without the flag: 20 a minute (GatewayConfig)."""
    assert GatewayConfig().login_attempts == 20
    with Visitor(system.url, "203.0.113.9") as flood:
        codes = [flood.log_in(f"nobody-{n}", "a wrong password").status_code
                 for n in range(22)]
        assert codes[:20] == [401] * 20 and codes[-1] == 429, codes


@pytest.mark.parametrize("value", ["0", "-3", "many", "100001"])
def test_a_limit_that_is_not_a_positive_number_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="ABC_GATEWAY_LOGIN_ATTEMPTS"):
        GatewayConfig.from_env({"ABC_GATEWAY_LOGIN_ATTEMPTS": value})


def test_the_bucket_refills_at_its_rate(tmp_path: Path) -> None:
    """Services that can't be reached answer 503: an attempt that got past the limit; 429 is
    one the limit stopped before any call."""
    nowhere = f"127.0.0.1:{free_port()}"
    app = create_app(GatewayConfig(purchase=nowhere, notify=nowhere, session_secret="x" * 40))
    now = [0.0]
    app.state.login_limits = login_limits(2, clock=lambda: now[0])  # one each 30 s
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        token = csrf_of(client.get("/login").text)

        def attempt(path: str) -> httpx.Response:
            answer: httpx.Response = client.post(path, data={
                "csrf": token, "user_id": "ann", "password": PASSWORD, "password2": PASSWORD})
            return answer

        assert [attempt("/login").status_code, attempt("/signup").status_code] == [503, 503]
        refused = attempt("/login")
        assert (refused.status_code, refused.headers["retry-after"]) == (429, "30")
        now[0] += 29.5
        assert attempt("/signup").headers["retry-after"] == "1"
        now[0] += 0.5
        assert attempt("/signup").status_code == 503
        assert attempt("/login").status_code == 429
