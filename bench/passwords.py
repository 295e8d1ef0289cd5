"""Benchmark of end-user passwords (not a test): what ``Authenticate`` costs over gRPC on a
sqlite store, whether its answer's time tells a wrong password from an unknown user or a user
without one, and what a storm of log-ins does to the purchases served beside it (argon2 runs
in its own thread pool, off the event loop). Prints Markdown; run from the repo root:
``python bench/passwords.py [--calls N] [--storm N] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc
from _report import header, pct, table

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.purchase import PurchaseConfig, start_purchase
from services.runtime import ServerConfig

if TYPE_CHECKING:  # the async stub exists in the generated .pyi only
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as Stub

SECRET, WRONG = "correct horse battery", "wrong horse battery"


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    """Milliseconds the call took (a refusal is an answer too)."""
    started = time.perf_counter()
    try:
        await call()
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc
    return (time.perf_counter() - started) * 1000


async def _answers(stub: Stub, calls: int) -> list[list[str]]:
    """Each kind of attempt ``calls`` times, interleaved, each account tried at most 4 times
    (below the throttle)."""
    kinds: dict[str, Callable[[int], tuple[str, str]]] = {
        "right password": lambda i: ("alice", SECRET),
        "wrong password": lambda i: (f"w{i // 4}", WRONG),
        "user without one": lambda i: (f"n{i // 4}", WRONG),
        "unknown user": lambda i: (f"u{i}", WRONG)}
    for i in range(0, calls, 4):
        await stub.CreateAccount(pb.CreateAccountRequest(user_id=f"w{i // 4}", password=SECRET))
        await stub.CreateAccount(pb.CreateAccountRequest(user_id=f"n{i // 4}"))
    took: dict[str, list[float]] = {kind: [] for kind in kinds}
    for i in range(calls):
        for kind, who in kinds.items():
            uid, password = who(i)
            request = pb.AuthenticateRequest(user_id=uid, password=password)
            took[kind].append(await _timed(lambda: stub.Authenticate(request)))  # noqa: B023
    return [[kind, str(len(ms)), f"{statistics.median(ms):.1f}", f"{pct(ms, 99):.1f}"]
            for kind, ms in took.items()]


async def _reads_beside(stub: Stub, storm: int, seconds: float) -> list[str]:
    """GetAccount latency while ``storm`` clients log in as fast as they can, each to an
    account of its own (at most 5 attempts on one account are checked at once)."""
    for n in range(storm):
        await stub.CreateAccount(pb.CreateAccountRequest(user_id=f"s{storm}-{n}",
                                                         password=SECRET))
    stop = time.perf_counter() + seconds
    logins = 0

    async def log_in(uid: str) -> None:
        nonlocal logins
        while time.perf_counter() < stop:
            await stub.Authenticate(pb.AuthenticateRequest(user_id=uid, password=SECRET))
            logins += 1

    async def read() -> list[float]:
        ms = []
        while time.perf_counter() < stop:
            ms.append(await _timed(lambda: stub.GetAccount(pb.GetAccountRequest(
                user_id="alice"))))
        return ms

    storming = [asyncio.create_task(log_in(f"s{storm}-{n}")) for n in range(storm)]
    ms = await read()
    await asyncio.gather(*storming)
    return [str(storm), f"{logins / seconds:.0f}", str(len(ms)), f"{statistics.median(ms):.2f}",
            f"{pct(ms, 99):.2f}"]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = PurchaseConfig(store_url=f"sqlite:///{Path(tmp).resolve()}/abc.db",
                                server=ServerConfig(listen="127.0.0.1:0"))
        node = await start_purchase(config)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{node.port}") as channel:
                stub: Stub = purchase_pb2_grpc.PurchaseServiceStub(channel)
                await stub.CreateAccount(pb.CreateAccountRequest(user_id="alice",
                                                                 password=SECRET))
                print("## Authenticate over gRPC, sqlite, one client\n")
                table(["attempt", "calls", "p50 ms", "p99 ms"], await _answers(stub, args.calls))
                print("\n## GetAccount beside a storm of log-ins\n")
                table(["log-in clients", "log-ins/s", "reads", "read p50 ms", "read p99 ms"],
                      [await _reads_beside(stub, n, args.seconds) for n in (0, 1, args.storm)])
        finally:
            await node.stop(grace_s=1.0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="attempts of each kind")
    parser.add_argument("--storm", type=int, default=16, help="concurrent log-in clients")
    parser.add_argument("--seconds", type=float, default=5.0, help="each storm's length")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.calls, arguments.seconds = 8, 1.0
    header("End-user passwords", "bench/passwords.py")
    asyncio.run(main(arguments))
