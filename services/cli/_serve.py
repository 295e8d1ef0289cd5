"""``abc serve SERVICE``: run one service in this process (what ``abc up`` and a container
start). Every option has an ``ABC_*`` environment variable, shown in ``--help``; only the
asked-for service's module is imported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._commands import register_lazily

SERVICES = {"purchase": "_serve_purchase", "notify": "_serve_notify",
            "recovery": "_serve_recovery", "gateway": "_serve_gateway"}


def register(commands: Any, argv: Sequence[str]) -> None:
    p = commands.add_parser("serve", help="run one Abc service in this process",
                            description="Run one service until SIGINT or SIGTERM.")
    register_lazily(p.add_subparsers(dest="service", metavar="SERVICE", required=True),
                    SERVICES, argv)
