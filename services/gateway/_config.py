"""The gateway's settings (``ABC_GATEWAY_*``) and its config."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from services.settings import ConfigError, Environ, Setting

LISTEN = Setting("ABC_GATEWAY_LISTEN", "127.0.0.1:8080", "address to serve HTTP, host:port")
PURCHASE = Setting("ABC_GATEWAY_PURCHASE", "127.0.0.1:50051",
                   "the purchase service, host:port")
NOTIFY = Setting("ABC_GATEWAY_NOTIFY", "127.0.0.1:50052", "the notify service, host:port")
TOKEN = Setting("ABC_GATEWAY_TOKEN", None,
                "the gateway's bearer token for purchase and notify (none: the services run "
                "open, as abc up's do on loopback)")
SESSION_SECRET = Setting("ABC_GATEWAY_SESSION_SECRET", None,
                         "the key that signs session cookies, 32+ characters (none: a random "
                         "one per process, so sessions end when it restarts)")
TLS_CA = Setting("ABC_GATEWAY_TLS_CA", None,
                 "CA certificate (PEM) to verify purchase and notify with: set, the gateway "
                 "dials them over TLS; unset, plaintext")
SECURE_COOKIES = Setting("ABC_GATEWAY_SECURE_COOKIES", None,
                         "1: the session cookie is always Secure (behind a proxy that ends "
                         "TLS); otherwise Secure only on requests that came over https")

LOGIN_ATTEMPTS_PER_MINUTE = 20
LOGIN_ATTEMPTS = Setting("ABC_GATEWAY_LOGIN_ATTEMPTS", str(LOGIN_ATTEMPTS_PER_MINUTE),
                         "log-in, sign-up and password-change attempts one client address may "
                         "make a minute, in bursts of as many (then 429)")

GATEWAY_SETTINGS = (LISTEN, PURCHASE, NOTIFY, TOKEN, SESSION_SECRET, TLS_CA, SECURE_COOKIES,
                    LOGIN_ATTEMPTS)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Where the gateway serves, the services it calls and how, and its cookie key."""

    listen: str = LISTEN.default or ""
    purchase: str = PURCHASE.default or ""
    notify: str = NOTIFY.default or ""
    token: str | None = None
    session_secret: str | None = None
    tls_ca: bytes | None = None  # the CA's PEM, read when the config is: TLS when set
    secure_cookies: bool = False
    login_attempts: int = LOGIN_ATTEMPTS_PER_MINUTE  # per client address, see _attempts.py

    @classmethod
    def from_env(cls, env: Environ = os.environ) -> GatewayConfig:
        secret = SESSION_SECRET.read(env)
        if secret is not None and len(secret) < 32:
            raise ConfigError(f"{SESSION_SECRET.var}: want 32 characters or more")
        attempts = LOGIN_ATTEMPTS.integer(env) or 0
        if not 1 <= attempts <= 100_000:
            raise ConfigError(f"{LOGIN_ATTEMPTS.var}: want a whole number from 1 to 100000")
        return cls(listen=LISTEN.text(env), purchase=PURCHASE.text(env),
                   notify=NOTIFY.text(env), token=TOKEN.read(env), session_secret=secret,
                   tls_ca=_pem(TLS_CA.path(env)), secure_cookies=SECURE_COOKIES.flag(env),
                   login_attempts=attempts)

    def host_port(self) -> tuple[str, int]:
        """``listen`` split; ConfigError for one that is not host:port."""
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise ConfigError(f"{LISTEN.var}={self.listen!r}: want host:port")
        return host.strip("[]"), int(port)


def _pem(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{TLS_CA.var}: can't read {path}: {exc.strerror}") from exc
