"""What running any service in this process shares: telemetry set up, the node started,
stopped on SIGINT or SIGTERM (calls in flight drained), and a clear error for a config or
store the service refuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from services.runtime import (
    ConfigError,
    Telemetry,
    setup_logging,
    setup_telemetry,
    stop_on_signals,
)
from services.store import StoreUrlError, Unavailable
from services.wiring import ServiceNode

from ._common import fail

log = logging.getLogger("abc.serve")


def serve_until_stopped(
    service: str, start: Callable[[Telemetry], Awaitable[ServiceNode]],
    attributes: Mapping[str, str | int] | None = None, what: str = "",
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> int:
    """Run ``start``'s node as ``abc-<service>`` until a stop signal; 2 with the reason if it
    can't start. ``what`` goes after the name in the listening line; ``loop_factory`` makes
    the event loop (None: asyncio's)."""
    name = f"abc-{service}"
    setup_logging(name)

    async def run() -> int:
        telemetry = setup_telemetry(name, attributes)
        node = await start(telemetry)
        print(f"{name}{what} listening on port {node.port}", flush=True)
        await stop_on_signals().wait()
        log.info("stopping: draining calls in flight")
        await node.stop()
        telemetry.shutdown()
        return 0

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(run())
    except (ConfigError, StoreUrlError, Unavailable) as exc:
        return fail(str(exc))
