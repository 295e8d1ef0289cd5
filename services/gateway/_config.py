"""The gateway's settings (``ABC_GATEWAY_*``) and its config."""

from __future__ import annotations

import os
from dataclasses import dataclass

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

GATEWAY_SETTINGS = (LISTEN, PURCHASE, NOTIFY, TOKEN, SESSION_SECRET)


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    listen: str = LISTEN.default or ""
    purchase: str = PURCHASE.default or ""
    notify: str = NOTIFY.default or ""
    token: str | None = None
    session_secret: str | None = None

    @classmethod
    def from_env(cls, env: Environ = os.environ) -> GatewayConfig:
        secret = SESSION_SECRET.read(env)
        if secret is not None and len(secret) < 32:
            raise ConfigError(f"{SESSION_SECRET.var}: want 32 characters or more")
        return cls(listen=LISTEN.text(env), purchase=PURCHASE.text(env),
                   notify=NOTIFY.text(env), token=TOKEN.read(env), session_secret=secret)
