"""Options from settings: each option that has an ``ABC_*`` variable is declared from its
``Setting`` (services.runtime), so ``--help`` names the variable and its default, the
environment is read one way, and a service's config is read by its ``from_env`` from the
environment with the flags given laid over it."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from services.runtime import (
    ALLOW_PLAINTEXT,
    NATS_URL,
    NOTIFY_LISTEN,
    PURCHASE_LISTEN,
    STORE_URL,
    TLS_CERT,
    TLS_KEY,
    TOKENS,
    TOKENS_FILE,
    Setting,
    listen_setting,
    overlaid,
)

TARGET = Setting("ABC_TARGET", PURCHASE_LISTEN, "the purchase service, host:port")
NOTIFY_TARGET = Setting("ABC_NOTIFY_TARGET", NOTIFY_LISTEN, "the notify service, host:port")
TOKEN = Setting("ABC_TOKEN", None, "bearer token; not needed for a local open server")
TLS_CA = Setting("ABC_TLS_CA", None, "CA to verify a TLS server with (PEM)")
DATA = Setting("ABC_DATA", ".abc", "directory for the store and logs")


def described(doc: str | None, paragraph: int | None = None) -> str | None:
    """A module docstring (or one paragraph of it) as ``--help`` prose: no reST markup."""
    if doc is None:
        return None
    text = doc if paragraph is None else doc.split("\n\n")[paragraph]
    return text.replace("``", "")


def also_read(*settings: Setting) -> str:
    """An epilog naming the settings a command reads from the environment only."""
    lines = ["read from the environment only:"]
    for setting in settings:
        default = f" (default {setting.default})" if setting.default else ""
        lines.append(f"  {setting.var}{default}")
        lines += textwrap.wrap(setting.help, 76, initial_indent="      ",
                               subsequent_indent="      ")
    return "\n".join(lines)


def add_setting(parser: argparse.ArgumentParser, flag: str, setting: Setting,
                **kwargs: Any) -> None:
    """``flag``, defaulting to ``setting``'s value in the environment (or its default). The
    default stays text: argparse converts it with ``type`` when the flag is not given, so a
    bad value in the environment is a usage error, not a crash while building the parser."""
    parser.add_argument(flag, default=setting.read(), help=setting.described(), **kwargs)


def add_server_options(parser: argparse.ArgumentParser, service: str, listen: str) -> None:
    add_setting(parser, "--listen", listen_setting(service, listen), metavar="HOST:PORT")
    add_setting(parser, "--tokens", TOKENS, metavar="ROLE:TOKEN,...")
    add_setting(parser, "--tokens-file", TOKENS_FILE, metavar="FILE")
    add_setting(parser, "--tls-cert", TLS_CERT, metavar="PEM")
    add_setting(parser, "--tls-key", TLS_KEY, metavar="PEM")
    parser.add_argument("--allow-plaintext", action="store_const", const="1",
                        default=ALLOW_PLAINTEXT.read(), help=ALLOW_PLAINTEXT.described())


def add_service_options(parser: argparse.ArgumentParser, service: str, listen: str) -> None:
    """What every ``abc serve`` service takes: its server, the store, NATS."""
    add_server_options(parser, service, listen)
    add_store_option(parser)
    add_setting(parser, "--nats-url", NATS_URL, metavar="URL")


def add_store_option(parser: argparse.ArgumentParser) -> None:
    add_setting(parser, "--store", STORE_URL, metavar="URL")


def service_env(args: argparse.Namespace, service: str, listen: str,
                **more: str | None) -> dict[str, str]:
    """The environment with ``add_service_options``' flags laid over it, for a config's
    ``from_env``; ``more``: further variables by name."""
    return overlaid({
        listen_setting(service, listen).var: args.listen, TOKENS.var: args.tokens,
        TOKENS_FILE.var: args.tokens_file, TLS_CERT.var: args.tls_cert,
        TLS_KEY.var: args.tls_key, ALLOW_PLAINTEXT.var: args.allow_plaintext,
        STORE_URL.var: args.store, NATS_URL.var: args.nats_url, **more})

