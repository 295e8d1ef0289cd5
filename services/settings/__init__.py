"""``Setting``: one ``ABC_*`` variable, declared once with its default and help, and read one
way (``Setting.read`` and its typed siblings) by every config's ``from_env``. The command line
declares its options from the same ``Setting``s, so ``--help`` names each variable, and a flag
given on the command line is laid over the environment (``overlaid``) before the config reads
it. A leaf: imports nothing of Abc's, so a process that is only a client (the gateway) reads
its settings without loading the store or the runtime."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

Environ = Mapping[str, str]


class ConfigError(ValueError):
    """A setting a process refuses to start with; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``ABC_*`` variable: its name, its default (None: unset means "none"), what it is."""

    var: str
    default: str | None
    help: str

    def read(self, env: Environ = os.environ) -> str | None:
        value = env.get(self.var, "").strip()
        return value or self.default

    def text(self, env: Environ = os.environ) -> str:
        value = self.read(env)
        if value is None:
            raise ConfigError(f"{self.var} is not set: {self.help}")
        return value

    def integer(self, env: Environ = os.environ) -> int | None:
        value = self.read(env)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{self.var}={value!r}: want a whole number") from None

    def flag(self, env: Environ = os.environ) -> bool:
        return (self.read(env) or "").lower() in ("1", "true", "yes")

    def path(self, env: Environ = os.environ) -> Path | None:
        value = self.read(env)
        return Path(value) if value is not None else None

    def described(self) -> str:
        """The help text with the variable and default, as ``--help`` shows it."""
        default = f"; default {self.default}" if self.default else ""
        return f"{self.help} (env {self.var}{default})"


def overlaid(values: Mapping[str, str | None], env: Environ = os.environ) -> dict[str, str]:
    """``env`` with each variable in ``values`` that is not None set to it (flags given on the
    command line win over the environment)."""
    return {**env, **{var: value for var, value in values.items() if value is not None}}


__all__ = ["ConfigError", "Environ", "Setting", "overlaid"]
