"""Options every service shares, each with its ``ABC_*`` environment variable."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from services.runtime import ServerConfig, Tokens

PURCHASE_LISTEN = "127.0.0.1:50051"
NOTIFY_LISTEN = "127.0.0.1:50052"


def described(doc: str | None, paragraph: int | None = None) -> str | None:
    """A module docstring (or one paragraph of it) as ``--help`` prose: no reST markup."""
    if doc is None:
        return None
    text = doc if paragraph is None else doc.split("\n\n")[paragraph]
    return text.replace("``", "")


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def add_server_options(parser: argparse.ArgumentParser, prefix: str, listen: str) -> None:
    parser.add_argument("--listen", default=env(f"ABC_{prefix}_LISTEN", listen),
                        metavar="HOST:PORT",
                        help=f"address to serve (env ABC_{prefix}_LISTEN; default %(default)s)")
    parser.add_argument("--tokens", default=env("ABC_TOKENS"), metavar="ROLE:TOKEN,...",
                        help="bearer tokens, e.g. gateway:s3cret,operator:t0p (env ABC_TOKENS)")
    parser.add_argument("--tokens-file", type=Path, default=env("ABC_TOKENS_FILE"),
                        metavar="FILE", help="tokens, one role:token a line (env ABC_TOKENS_FILE)")
    parser.add_argument("--tls-cert", type=Path, default=env("ABC_TLS_CERT"), metavar="PEM",
                        help="TLS certificate chain (env ABC_TLS_CERT)")
    parser.add_argument("--tls-key", type=Path, default=env("ABC_TLS_KEY"), metavar="PEM",
                        help="TLS private key (env ABC_TLS_KEY)")
    parser.add_argument("--allow-plaintext", action="store_true",
                        default=env("ABC_ALLOW_PLAINTEXT", "") == "1",
                        help="serve a non-loopback address without TLS, e.g. behind an "
                             "encrypting mesh (env ABC_ALLOW_PLAINTEXT=1); tokens still needed")


def server_config(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(listen=args.listen, tokens=Tokens.load(args.tokens, args.tokens_file),
                        tls_cert=args.tls_cert, tls_key=args.tls_key,
                        allow_plaintext=args.allow_plaintext)


def add_nats_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nats-url", default=env("ABC_NATS_URL"), metavar="URL",
                        help="NATS server for fill events, e.g. nats://127.0.0.1:4222 "
                             "(env ABC_NATS_URL; none: events are not published)")
