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
        rest = list(argv[list(argv).index(word) + 1:])
        _module(table[word]).register(commands, rest)
        return
    for name in dict.fromkeys(table.values()):
        try:
            module = _module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("services.lab"):
                raise
            for command in (c for c, m in table.items() if m == name):
                _unavailable(commands, command)
            continue
        module.register(commands, [])


def _module(name: str) -> Any:
    return importlib.import_module(f"{__package__}.{name}")


def _unavailable(commands: Any, command: str) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        command, help="(not installed: this installation leaves the lab out)")
    parser.set_defaults(run=lambda _args: fail(
        f"'abc {command}' needs the lab (services/lab), which this installation leaves out"))
