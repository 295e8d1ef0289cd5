"""Subcommands imported only when asked for: ``abc X ...`` imports the module of command X
alone (and ``abc serve Y`` only service Y's), so a service process loads what it runs and
nothing of the lab. Without a known command word (``abc --help``) every module is registered;
one whose lab is left out of this installation (the production image) is listed as such."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from ._common import fail


def first_word(argv: Sequence[str]) -> str | None:
    """The first argument that is not an option: the command asked for."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def register_lazily(commands: Any, table: Mapping[str, str], argv: Sequence[str]) -> None:
    """Register the command ``argv`` asks for from its module in ``table`` (command -> module
    of this package), or every command when it asks for none of them. A module's
    ``register(commands, argv)`` gets the words after its command."""
    word = first_word(argv)
    if word is not None and word in table:
        _register(commands, table, table[word], argv[list(argv).index(word) + 1:])
        return
    for name in dict.fromkeys(table.values()):
        _register(commands, table, name, [])


def _register(commands: Any, table: Mapping[str, str], name: str, rest: Sequence[str]) -> None:
    """Module ``name``'s commands, or each listed as not installed when its lab is absent."""
    try:
        module = importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("services.lab"):
            raise
        for command in (c for c, m in table.items() if m == name):
            _unavailable(commands, command)
        return
    module.register(commands, rest)


def _unavailable(commands: Any, command: str) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        command, help="(not installed: this installation leaves the lab out)", add_help=False,
        prefix_chars="\0")  # every argument a positional: swallowed, whatever it is
    parser.add_argument("ignored", nargs=argparse.REMAINDER)
    parser.set_defaults(run=lambda _args: fail(
        f"'abc {command}' needs the lab (services/lab), which this installation leaves out"))
