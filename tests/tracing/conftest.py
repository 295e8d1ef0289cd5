"""The tracing tests' fixtures: an OTLP/gRPC collector on port 0 and the test's gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._collector import Collector
from ._gateway import Gateway


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def gateway(collector: Collector) -> Iterator[Gateway]:
    """The test's gateway, exporting its spans to ``collector`` (no global provider)."""
    gw = Gateway(collector.endpoint)
    try:
        yield gw
    finally:
        gw.shutdown()
