"""What every benchmark prints with: Markdown tables, ratios, percentiles, and the quiescent
audit of the store it ran on (a benchmark whose run broke an invariant must say so)."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import resource
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from services.lab.loadgen import nearest_rank


def header(title: str, script: str, machine_extra: str = "") -> None:
    """The bench's title, the command that reruns it, and the machine it ran on. The command
    leaves out ``--samples-json PATH`` (where run_all asks for the raw samples too: a
    temporary file, and no part of the measurement)."""
    command = shlex.join(["python", script, *_measuring_args(sys.argv[1:])])
    print(f"# {title}\n")
    print(f"Rerun (from the repo root): `{command}`\n")
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}{machine_extra}\n")


def _measuring_args(args: Sequence[str]) -> list[str]:
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--samples-json":
            skip = True
        elif not arg.startswith("--samples-json="):
            kept.append(arg)
    return kept


def load_average() -> str:
    """The machine's load average (1, 5, 15 min): other work shows there."""
    with contextlib.suppress(OSError):
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return "unknown"


def raise_fd_limit() -> None:
    """As many open files as the hard limit allows: a fan-out bench holds a socket per stream
    or connection on each side."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def reporting_errors(run: Callable[[], object], results: Queue[tuple[Any, ...]]) -> None:
    """``run()`` in a bench's child process: an exception goes to ``results`` as
    ``("error", text)``, for the bench to print, not as a traceback lost in the child."""
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - reported to the bench, which prints it
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds process ``pid`` has used so far (all its threads); None
    where /proc can't tell (not Linux, or the process is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def pct(values: Iterable[float], percent: float) -> float:
    """The ``percent`` percentile by nearest rank (a measured value); NaN if none."""
    found = nearest_rank(values, percent)
    return math.nan if found is None else found


