"""``abc serve gateway``: the web gateway on uvicorn, until SIGINT or SIGTERM.

A pure client of purchase and notify: this module, like the gateway, loads nothing of the
store, the journal or the services' runtime (tests/cli/test_serve_imports.py), so its
options are declared here from ``GATEWAY_SETTINGS`` rather than by ``_options``."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
from collections.abc import Sequence
from typing import Any

from services.gateway import GATEWAY_SETTINGS, GatewayConfig, create_app
from services.settings import ConfigError, Setting, overlaid

from ._common import fail

GRACE_S = 5  # how long a stop waits for requests in flight (and live streams) to end

_FLAGS = {  # setting -> its flag (the variable's name after ABC_GATEWAY_)
    s.var: "--" + s.var.removeprefix("ABC_GATEWAY_").lower().replace("_", "-")
    for s in GATEWAY_SETTINGS}


def register(services: Any, _argv: Sequence[str]) -> None:
    p = services.add_parser(
        "gateway", help="the web gateway (HTTP: pages, forms, live updates)",
        description="Serve Abc's web pages over HTTP, as a client of the purchase and notify "
                    "services.")
    for setting in GATEWAY_SETTINGS:
        _add(p, setting)
    p.set_defaults(run=run)


def _add(parser: argparse.ArgumentParser, setting: Setting) -> None:
    dest = _FLAGS[setting.var].removeprefix("--").replace("-", "_")
    if setting.var.endswith("SECURE_COOKIES"):
        parser.add_argument(_FLAGS[setting.var], dest=dest, action="store_const", const="1",
                            default=setting.read(), help=setting.described())
    else:
        parser.add_argument(_FLAGS[setting.var], dest=dest, default=setting.read(),
                            help=setting.described())


def config(args: argparse.Namespace) -> GatewayConfig:
    given = {var: getattr(args, flag.removeprefix("--").replace("-", "_"))
             for var, flag in _FLAGS.items()}
    return GatewayConfig.from_env(overlaid(given))


def _bind(config: GatewayConfig) -> socket.socket:
    host, port = config.host_port()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio sets TCP_NODELAY only on sockets that say it, and
    # without it a kept-alive connection's next answer waits out a delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"can't listen on {config.listen} (address in use?): "
                          f"{exc.strerror}") from None
    return sock


def _stopped(_signal: int, _frame: object) -> None:
    raise SystemExit(0)


def run(args: argparse.Namespace) -> int:
    import uvicorn  # only for a gateway that runs, not for --help

    from services.gateway import setup_tracing

    try:
        chosen = config(args)
        sock = _bind(chosen)
    except ConfigError as exc:
        return fail(str(exc))
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s abc-gateway %(levelname)s %(name)s: %(message)s")
    stop_tracing = setup_tracing()
    host, port = sock.getsockname()[:2]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                print(f"abc-gateway listening on {url}", flush=True)

    # uvicorn stops gracefully on SIGTERM, then raises the signal again as it ends: that
    # lands here, so a stopped gateway exits 0 like the other services (and a SIGTERM before
    # uvicorn listens for it stops it too).
    signal.signal(signal.SIGTERM, _stopped)
    server = Server(uvicorn.Config(create_app(chosen), log_config=None, access_log=False,
                                   timeout_graceful_shutdown=GRACE_S, proxy_headers=True))
    try:
        server.run(sockets=[sock])
    finally:
        stop_tracing()
        sock.close()
    return 0 if server.started else 1
