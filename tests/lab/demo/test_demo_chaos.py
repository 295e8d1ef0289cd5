"""``abc demo`` as CI's chaos test: the whole system as real processes, buyers and a watcher
over gRPC, real SIGKILLs of purchase processes, recovery replicas and NATS for 20 s; then the
proof the demo prints (recovery settled, the quiescent audit, the books, every slot seen).
(``abc demo``'s refusals: tests/cli/test_demo.py.)"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from services.lab.cluster import free_port
from services.lab.demo import KINDS, chaos_plan
from tests._support.processes import abc, reaped

RUN_TIMEOUT_S = 150


def _number(output: str, label: str) -> int:
    found = re.search(rf"^\s+{re.escape(label)}\s+(\d+)", output, re.MULTILINE)
    assert found is not None, f"no {label!r} in the summary:\n{output}"
    return int(found.group(1))


@pytest.mark.timeout(240)
def test_demo_under_chaos_ends_clean(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    gateway = f"127.0.0.1:{free_port()}"
    ports = ["--purchase-listen", f"127.0.0.1:{free_port()}", "--notify-listen",
             f"127.0.0.1:{free_port()}", "--recovery-port-base", str(free_port()),
             "--gateway-listen", gateway]
    demo = abc(["demo", "--duration", "20", "--seed", "7", "--headless", "--data", str(data),
                *ports], tmp_path / "demo.stderr", pipe_stdout=True, new_group=True)
    with reaped(demo, group=True):
        stdout, _ = demo.communicate(timeout=RUN_TIMEOUT_S)
    output = stdout.decode(errors="replace")
    assert demo.returncode == 0, (
        f"exit {demo.returncode}:\n{output}\nstderr:\n"
        f"{(tmp_path / 'demo.stderr').read_text(errors='replace')[-3000:]}\nlogs: {data / 'logs'}")
    # The gateway ran beside it, its URL printed before the buying began, and was spared.
    assert output.index(f"watch it in a browser: http://{gateway}\n") < output.index("buying")
    assert f"the hot campaign, live: http://{gateway}/campaigns/hot\n" in output
    gateway_log = (data / "logs" / "gateway.log").read_text()
    assert f"abc-gateway listening on http://{gateway}" in gateway_log
    assert "killed gateway" not in output
    for kind in KINDS:
        assert _number(output, f"kills: {kind}") >= 1, f"no {kind} kill:\n{output}"
    assert _number(output, "purchases (receipts)") > 0
    assert _number(output, "lost races") > 0
    assert _number(output, "audit violations") == 0
    assert _number(output, "balance mismatches") == 0
    seen = re.search(r"slots seen / finished\s+(\d+) / (\d+)", output)
    assert seen is not None, output
    assert int(seen.group(1)) == int(seen.group(2)) > 0
    assert "result: CLEAN" in output
    # Money out: the seller earned, withdrawals were paid, each once, and the books balance.
    assert _number(output, "seller's earnings") > 0
    paid = re.search(r"withdrawals paid\s+(\d+) / (\d+)", output)
    assert paid is not None, output
    assert int(paid.group(1)) == int(paid.group(2)) > 0
    assert re.search(r"^\s+books\s+balanced", output, re.MULTILINE), output
    # Most fills reach the watcher as NATS events (polling covers only NATS's downtime).
    by = re.search(r"fills by (.*)$", output, re.MULTILINE)
    assert by is not None, output
    sources = {k: int(n) for k, n in (part.rsplit(" ", 1) for part in by.group(1).split(", "))}
    assert sources.get("event", 0) > sources.get("poll", 0), output


def test_the_same_seed_plans_the_same_strikes() -> None:
    victims = {"purchase": ["purchase-0", "purchase-1"], "nats": ["nats"],
               "recovery": ["recovery-0", "recovery-1", "recovery-2"]}
    first = list(itertools.islice(chaos_plan(7, victims), 12))
    assert first == list(itertools.islice(chaos_plan(7, victims), 12))
    assert first != list(itertools.islice(chaos_plan(8, victims), 12))
    assert {strike.kind for strike in first[:3]} == set(KINDS)  # every kind in a short run
