"""Options shared by the whole suite: long runs stay behind ``--slow``; a real NATS server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.lab.cluster import NatsServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run the long runs (many seeds)")
    parser.addoption("--sim-seeds", type=int, default=2000,
                     help="seeds for the simulation's default run (default 2000)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="long run: use --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own on a free port (``--port -1``, read from its log);
    ``url`` says where. Stopped (SIGTERM, then SIGKILL) after the test."""
    server = NatsServer(tmp_path / "nats.log").start()
    try:
        yield server
    finally:
        server.stop()
