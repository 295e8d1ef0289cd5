"""``abc``: one entry point, a subcommand per job; each subcommand lives in its own module,
imported only when it is the one asked for (``_commands``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._commands import register_lazily

COMMANDS = {  # command -> the module that registers it, in the order --help lists them
    "up": "_up",
    "demo": "_demo",
    "account": "_client",
    "campaign": "_client",
    "filler": "_client",
    "buy": "_client",
    "login": "_client",
    "password": "_passwords",
    "withdraw": "_money",
    "statement": "_money",
    "purchases": "_money",
    "payouts": "_payouts",
    "ledger": "_payouts",
    "watch": "_watch",
    "recover": "_recovery",
    "recovery": "_recovery",
    "sim": "_sim",
    "audit": "_store_tools",
    "dump": "_store_tools",
    "load": "_load",
    "serve": "_serve",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv`` (None: every command, as ``abc --help`` shows them)."""
    parser = argparse.ArgumentParser(
        prog="abc",
        description="Abc: advertising slots sold on a document store without transactions.",
        epilog="Run 'abc COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_lazily(commands, COMMANDS, argv or [])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(arguments).parse_args(arguments)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code
