"""Run every benchmark and collect the results (not a test): bench/journal.py, notify.py,
gateway_fanout.py, recovery.py, money.py, passwords.py, tracing.py and baseline.py, each in a
process of its own, into one Markdown file, bench/results/RESULTS.md, with PNG plots beside
it: purchase latency per store (from bench/baseline.py's samples), crash-to-repair delay
(bench/recovery.py's own crashes, through its --samples-json) and purchases per second.
Run from the repo root: ``python bench/run_all.py [--quick] [--quick-for NAME,...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a plain script (``python bench/run_all.py``, no PYTHONPATH, no install): put the repo
# root on the import path so ``services`` is found.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import load_average, pct

from services.journal import Journal
from services.lab.cluster import clean_env
from services.lab.loadgen import (
    LoadStats,
    YieldingStore,
    balance_for,
    run_buyers,
    set_up,
    warped_context,
)
from services.store import DocumentStore, MemoryStore, SqliteStore

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ("journal", "notify", "gateway_fanout", "recovery", "money", "passwords", "tracing",
           "baseline")
RESULTS = ROOT / "bench" / "results"
TIMEOUT_S = {False: 45 * 60, True: 10 * 60}  # per bench: full, quick
# The fallback purchase-latency measurement (when baseline.py gave no samples).
SPEED = 10_000
BUYERS = 16
FALLBACK_PURCHASES = {False: 3000, True: 300}


@dataclass
class BenchRun:
    name: str
    argv: list[str]
    quick: bool
    shown: list[str]  # argv as RESULTS.md shows it (without run_all's temp paths)
    rc: int | None = None  # None: not run
    seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""
    note: str = ""

    @property
    def command(self) -> str:
        return shlex.join(["python", *self.shown])

    @property
    def status(self) -> str:
        if self.rc is None:
            return self.note or "not run"
        return "ok" if self.rc == 0 else f"**exit {self.rc}**" + (f" ({self.note})"
                                                                  if self.note else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="pass --quick to every bench")
    parser.add_argument("--quick-for", default="", metavar="NAME,...",
                        help="pass --quick to these benches only (e.g. notify,recovery)")
    parser.add_argument("--only", default="", metavar="NAME,...",
                        help=f"run only these of {', '.join(BENCHES)}")
    parser.add_argument("--out", type=Path, default=RESULTS, metavar="DIR",
                        help="where RESULTS.md and the PNGs go (default bench/results)")
    args = parser.parse_args()
    quick_for = _names(parser, args.quick_for)
    only = _names(parser, args.only) or set(BENCHES)
    started = time.perf_counter()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load_before = load_average()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="abc-bench-all-") as tmp:
        samples = Path(tmp)
        runs = [_bench(name, args.quick or name in quick_for, samples)
                for name in BENCHES if name in only]
        for run in runs:
            _run_bench(run)
        print("measuring for the plots ...", file=sys.stderr, flush=True)
        series = _baseline_samples(samples / "baseline.json")
        if not series:
            series = asyncio.run(_fallback_latencies(FALLBACK_PURCHASES[args.quick], samples))
        delays = _recovery_delays(samples / "recovery.json")
    plots = _plots(args.out, series, delays)
    total = time.perf_counter() - started
    text = _results_md(stamp, runs, series, delays, plots, total, (load_before, load_average()))
    (args.out / "RESULTS.md").write_text(text)
    print(f"wrote {_rel(args.out / 'RESULTS.md')} and {len(plots)} plot(s) in {total:.0f} s",
          file=sys.stderr)
    for run in runs:
        print(f"{run.name:10} {run.status:12} {run.seconds:7.1f} s  {run.command}")
    failed = [r for r in runs if r.rc not in (0, None)]
    return 1 if failed else 0


def _names(parser: argparse.ArgumentParser, text: str) -> set[str]:
    names = {n.strip() for n in text.split(",") if n.strip()}
    if unknown := names - set(BENCHES):
        parser.error(f"unknown bench(es) {sorted(unknown)}; known: {', '.join(BENCHES)}")
    return names


def _bench(name: str, quick: bool, samples: Path) -> BenchRun:
    argv = [f"bench/{name}.py", *(["--quick"] if quick else [])]
    extra = (["--samples-json", str(samples / f"{name}.json")]
             if name in ("baseline", "recovery") else [])
    return BenchRun(name, argv + extra, quick, argv)


def _run_bench(run: BenchRun) -> None:
    script = ROOT / run.argv[0]
    if not script.exists():
        run.note = f"skipped: {run.argv[0]} does not exist (yet)"
        print(run.note, file=sys.stderr, flush=True)
        return
    print(f"running {run.command} ...", file=sys.stderr, flush=True)
    # No ABC_* or OTEL_* of this shell: the benches set up what they need themselves.
    env = clean_env()
    began = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, *run.argv], cwd=ROOT, env=env, text=True,
                              capture_output=True, timeout=TIMEOUT_S[run.quick],
                              stdin=subprocess.DEVNULL, check=False)
        run.rc, run.stdout, run.stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        run.rc, run.note = -1, f"timed out after {TIMEOUT_S[run.quick]} s"
        run.stdout = _text(exc.stdout)
        run.stderr = _text(exc.stderr)
    run.seconds = time.perf_counter() - began
    print(f"  {run.status} in {run.seconds:.1f} s", file=sys.stderr, flush=True)


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


# --- samples for the latency plot ------------------------------------------------------------


@dataclass
class Series:
    """One run's purchase latencies: ``label`` (system), ``workload`` (hot or many)."""

    label: str
    workload: str
    latencies_ms: list[float]
    purchases_per_s: float
    attempts_per_s: float


def _baseline_samples(path: Path) -> list[Series]:
    if not path.exists():
        return []
    data: dict[str, Any] = json.loads(path.read_text())
    return [Series(r["system"], r["workload"], r["latencies_ms"], r["purchases_per_s"],
                   r["attempts_per_s"]) for r in data["runs"] if r["latencies_ms"]]


async def _fallback_latencies(purchases: int, tmp: Path) -> list[Series]:
    """bench/baseline.py gave no samples: a small run of our own, memory interleaved and
    sqlite, 16 buyers, hot and many, as bench/journal.py's section 2."""
    series = []
    for label in ("Abc, memory interleaved", "Abc, sqlite"):
        for workload, campaigns in (("hot", 1), ("many", 64)):
            store: DocumentStore = (
                YieldingStore(MemoryStore()) if "memory" in label
                else await SqliteStore(tmp / f"fallback-{workload}.db").open())
            try:
                journal = Journal(store, warped_context(SPEED), take_turns=True)
                world = await set_up(journal, BUYERS, campaigns, balance_for(BUYERS))
                stats: LoadStats = await run_buyers(journal, BUYERS, purchases,
                                                    world.campaigns, users=world.users,
                                                    hot=campaigns == 1)
            finally:
                await store.close()
            series.append(Series(label, workload, stats.latencies_ms, stats.purchases_per_s,
                                 stats.attempts_per_s))
    return series


# --- the repair delays, from bench/recovery.py -----------------------------------------------


@dataclass
class Delays:
    """Crash-to-repair delays (ms) of one configuration of the posse."""

    label: str
    crashes: int
    delays_ms: list[int] = field(default_factory=list)
    violations: int = 0


def _recovery_delays(path: Path) -> list[Delays]:
    """The default schedule's configurations, as bench/recovery.py wrote them."""
    if not path.exists():
        return []
    return [Delays(d["label"], d["crashes"], d["delays_ms"], d["violations"])
            for d in json.loads(path.read_text()) if d["label"].startswith("ordinal-shard")]


# --- plots -----------------------------------------------------------------------------------

COLORS = {"Abc, sqlite": "tab:blue", "Abc, couchbase": "tab:orange",
          "PostgreSQL": "tab:green", "PostgreSQL, synchronous_commit=off": "tab:olive",
          "Abc, memory interleaved": "tab:purple"}


def _plots(out: Path, series: Sequence[Series], delays: Sequence[Delays]) -> list[Path]:
    """The PNGs written (none if matplotlib is missing: ``pip install -e '.[bench]'``)."""
    try:
        # The `bench` extra; typed when installed, Any to mypy when not (``make lint``
        # installs only the dev extra).
        from matplotlib.backends.backend_agg import (  # type: ignore[import-not-found, unused-ignore]
            FigureCanvasAgg,
        )
        from matplotlib.figure import Figure  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("plots skipped: matplotlib is not installed (pip install -e '.[bench]')",
              file=sys.stderr)
        return []
    written = []

    def save(fig: Figure, name: str) -> None:
        FigureCanvasAgg(fig)  # the Agg canvas: no display, no global backend state
        fig.savefig(out / name, dpi=110)
        written.append(out / name)

    if series:
        save(_latency_figure(Figure(figsize=(11, 4.6), layout="constrained"), series),
             "purchase_latency.png")
        save(_throughput_figure(Figure(figsize=(9, 4.2), layout="constrained"), series),
             "throughput.png")
    if any(d.delays_ms for d in delays):
        save(_repair_figure(Figure(figsize=(9, 4.2), layout="constrained"), delays),
             "repair_delay.png")
    return written


def _latency_figure(fig: Any, series: Sequence[Series]) -> Any:
    """Per workload, the distribution (CDF, log time axis) of each system's latencies."""
    from matplotlib.ticker import (  # type: ignore[import-not-found, unused-ignore]
        FuncFormatter,
    )

    def label(value: float, _pos: int) -> str:
        return f"{value:g}"

    def minor_label(value: float, _pos: int) -> str:  # 2, 3, 5 of each decade only
        return f"{value:g}" if f"{value:.0e}"[0] in "25" else ""

    plain, plain_minor = FuncFormatter(label), FuncFormatter(minor_label)
    workloads = sorted({s.workload for s in series}, key=("hot", "many").index)
    axes = fig.subplots(1, len(workloads), sharey=True, squeeze=False)[0]
    for ax, workload in zip(axes, workloads, strict=True):
        for s in (s for s in series if s.workload == workload):
            ranked = sorted(s.latencies_ms)
            ys = [(i + 1) / len(ranked) for i in range(len(ranked))]
            p50, p99 = pct(ranked, 50), pct(ranked, 99)
            ax.step(ranked, ys, where="post", color=COLORS.get(s.label),
                    label=f"{s.label}: p50 {p50:.1f}, p99 {p99:.0f} ms")
        ax.set_xscale("log")
        ax.set_title(f"{workload}: " + ("1 campaign, 16 buyers" if workload == "hot"
                                         else "64 campaigns, 16 buyers"))
        ax.set_xlabel("latency per purchase attempt (ms, log scale)")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain_minor)
        ax.tick_params(axis="x", which="minor", labelsize=7)
        ax.grid(True, which="both", alpha=0.3)
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax.axhline(0.99, color="grey", lw=0.6, ls=":")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8)
    axes[0].set_ylabel("fraction of attempts at or below")
    fig.suptitle("Purchase latency (cumulative distribution), bench/baseline.py")
    return fig


def _throughput_figure(fig: Any, series: Sequence[Series]) -> Any:
    ax = fig.subplots()
    labels = list(dict.fromkeys(s.label for s in series))
    workloads = sorted({s.workload for s in series}, key=("hot", "many").index)
    width = 0.8 / len(labels)
    top = 0.0
    for i, label in enumerate(labels):
        xs, bought, tried = [], [], []
        for j, workload in enumerate(workloads):
            match = [s for s in series if s.label == label and s.workload == workload]
            if match:
                xs.append(j + (i - (len(labels) - 1) / 2) * width)
                bought.append(match[0].purchases_per_s)
                tried.append(match[0].attempts_per_s)
        pale = ax.bar(xs, tried, width * 0.95, color=COLORS.get(label), alpha=0.25)
        ax.bar_label(pale, labels=[f"{t:.0f}" if t > b * 1.3 else ""  # apart from bought's
                                   for t, b in zip(tried, bought, strict=True)],
                     fontsize=7, color="grey")
        bars = ax.bar(xs, bought, width * 0.95, color=COLORS.get(label), label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
        top = max([top, *tried, *bought])
    ax.set_xticks(range(len(workloads)),
                  [f"{w}: {'1 campaign' if w == 'hot' else '64 campaigns'}" for w in workloads])
    ax.set_ylabel("purchases/s (pale, grey label: attempts/s)")
    ax.set_title("Purchases per second, 16 buyers, bench/baseline.py")
    ax.set_ylim(0, top * 1.3)
    ax.legend(fontsize=8, loc="upper left", ncols=2)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def _repair_figure(fig: Any, delays: Sequence[Delays]) -> Any:
    from matplotlib.ticker import MaxNLocator  # type: ignore[import-not-found, unused-ignore]

    shown = [d for d in delays if d.delays_ms]
    axes = fig.subplots(1, len(shown), squeeze=False)[0]
    for ax, d in zip(axes, shown, strict=True):
        secs = [ms / 1000 for ms in d.delays_ms]
        top = max(secs)
        step = 0.05 if top <= 2 else 0.5
        bins = [i * step for i in range(math.ceil(top / step) + 2)]
        ax.hist(secs, bins=bins, color="tab:red", alpha=0.8)
        ax.axvline(statistics.median(secs), color="black", ls="--", lw=1,
                   label=f"median {statistics.median(secs):.2f} s")
        ax.axvline(top, color="black", ls=":", lw=1, label=f"max {top:.2f} s")
        ax.set_title(f"{d.label} ({len(secs)} of {d.crashes} repaired)")
        ax.set_xlabel("crash to repair (s)")
        ax.set_ylabel("crashes")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    fig.suptitle("Delay from a driver's crash after its commit to the posse's repair")
    return fig


# --- RESULTS.md ------------------------------------------------------------------------------


def _results_md(stamp: str, runs: Sequence[BenchRun], series: Sequence[Series],
                delays: Sequence[Delays], plots: Sequence[Path], total_s: float,
                load: tuple[str, str]) -> str:
    lines = ["# Abc benchmark results", ""]
    command = shlex.join(["python", "bench/run_all.py", *sys.argv[1:]])
    lines += [f"Made by `{command}` (from the repo root) on {stamp}, in {total_s:.0f} s.", "",
              f"Machine: {_machine()}. Load average (1, 5, 15 min) before the first bench: "
              f"{load[0]} (other work on the machine, competing with the benches); after the "
              f"last: {load[1]}.", "",
              "Every bench ran in a process of its own, one after the other; the absolute "
              "numbers depend on the machine and on whatever else it was doing, the ratios "
              "within one bench's run much less.", "",
              "| bench | command | mode | result | time |", "|---|---|---|---|---|"]
    for run in runs:
        lines.append(f"| {run.name} | `{run.command}` | {'quick' if run.quick else 'full'} | "
                     f"{run.status} | {run.seconds:.0f} s |")
    baseline = next((r for r in runs if r.name == "baseline" and r.stdout), None)
    if baseline is not None:
        lines += ["", "## Headline: Abc against one SERIALIZABLE PostgreSQL transaction", "",
                  "From the baseline bench below (its header explains the setup and the "
                  "semantics of each column).", ""]
        for heading in ("Purchases per second and latency", "Ratios"):
            lines += [_table_after(baseline.stdout, heading), ""]
    lines += ["", "## Plots", ""]
    if plots:
        for plot in plots:
            lines.append(f"![{plot.stem}]({plot.name})")
            lines.append("")
    else:
        lines += ["(none: matplotlib missing, or nothing to plot)", ""]
    source = ("bench/baseline.py's runs" if series and series[0].label.startswith(("Abc, s",
                                                                                 "Post"))
              else "a small loadgen run of run_all's own")
    lines += [f"- `purchase_latency.png`, `throughput.png`: from {source}.",
              "- `repair_delay.png`: bench/recovery.py's crashes with the default schedule "
              "(ordinal-shard), each crash's delay from its commit to the posse's repair.",
              ""]
    if delays:
        lines += ["| posse | crashes | repaired | median s | p99 s | max s | audit violations |",
                  "|---|---|---|---|---|---|---|"]
        for d in delays:
            ms = d.delays_ms
            cells = ([f"{statistics.median(ms) / 1000:.3f}", f"{pct(ms, 99) / 1000:.3f}",
                      f"{ms[-1] / 1000:.3f}"] if ms else ["-", "-", "-"])
            lines.append(f"| {d.label} | {d.crashes} | {len(ms)} | {' | '.join(cells)} | "
                         f"{d.violations} |")
        lines.append("")
    for run in runs:
        lines += [f"## {run.name}: `{run.command}`", ""]
        if run.rc is None:
            lines += [run.note, ""]
            continue
        lines += [f"{run.status}, {run.seconds:.0f} s.", ""]
        lines += [_demoted(run.stdout), ""]
        if run.rc != 0 and run.stderr.strip():
            tail = "\n".join(run.stderr.strip().splitlines()[-30:])
            lines += ["Its stderr (last lines):", "", "```", tail, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _table_after(markdown: str, heading: str) -> str:
    """The first Markdown table under the heading that starts with ``heading``."""
    found, table = False, list[str]()
    for line in markdown.splitlines():
        if line.startswith("#"):
            if table:
                break
            found = line.lstrip("# ").startswith(heading)
        elif found and line.startswith("|"):
            table.append(line)
        elif table:
            break
    return "\n".join(table) if table else f"(no table under {heading!r})"


def _demoted(markdown: str) -> str:
    """A bench's Markdown under this file's headings: every heading one level down."""
    out = []
    fenced = False
    for line in markdown.strip().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("##" + line if line.startswith("#") and not fenced else line)
    return "\n".join(out)


def _machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    cpu = f"{os.cpu_count()} CPUs" + (f" ({model})" if model else "")
    return (f"{cpu}{memory}, {platform.system()} {platform.release()} {platform.machine()}, "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(ROOT))
    return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
