"""``abc``: one entry point, a subcommand per job; each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import _client, _demo, _load, _recovery, _serve, _sim, _store_tools, _up, _watch

_COMMANDS = (_up, _demo, _client, _watch, _recovery, _sim, _store_tools, _load, _serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abc",
        description="Abc: advertising slots sold on a document store without transactions.",
        epilog="Run 'abc COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code
