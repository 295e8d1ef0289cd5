"""``abc sim``: the deterministic simulation over many seeds, in parallel, with a replay
command and the trace for any seed that fails."""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from services.journal import Safeguards
from services.lab.sim import CRASH_POINTS, UNREACHABLE, SeedResult, missing_points, run_seed

_SAFEGUARDS = [f.name for f in dataclasses.fields(Safeguards)]


def register(commands: Any, _argv: Sequence[str]) -> None:
    p = commands.add_parser(
        "sim", help="run the deterministic simulation of the purchase journal",
        description="Run the real journal code against a simulated store under one seeded "
                    "scheduler that races, crashes and loses replies; check the invariants "
                    "after every write and audit after recovery. Exit 1 if any seed fails.")
    p.add_argument("--seeds", type=int, default=None, metavar="N",
                   help="how many seeds to run (default 1000, or 1 with --seed)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="the first seed (default 0); alone, runs just that seed")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="J",
                   help="worker processes (default: one per core)")
    p.add_argument("--trace", action="store_true",
                   help="print the whole trace of each failing seed (default: its last 60 lines)")
    p.add_argument("--disable", choices=_SAFEGUARDS, default=None, metavar="SAFEGUARD",
                   help="switch one protocol safeguard off, to watch the simulation catch it: "
                        + ", ".join(_SAFEGUARDS))
    p.set_defaults(run=run_sim)


@dataclasses.dataclass
class _Totals:
    seeds: int = 0
    ops: int = 0
    checks: int = 0
    failures: list[int] = dataclasses.field(default_factory=list)
    crash_points: Counter[str] = dataclasses.field(default_factory=Counter)
    outcomes: Counter[str] = dataclasses.field(default_factory=Counter)

    def add(self, result: SeedResult) -> None:
        self.seeds += 1
        self.ops += result.ops
        self.checks += result.checks
        self.crash_points.update(result.crash_points)
        self.outcomes.update(result.outcomes)
        if not result.ok:
            self.failures.append(result.seed)


def run_sim(args: argparse.Namespace) -> int:
    count = args.seeds if args.seeds is not None else (1 if args.seed is not None else 1000)
    first = args.seed or 0
    if count < 1 or args.jobs < 1:
        print("abc: --seeds and --jobs must be at least 1", file=sys.stderr)
        return 2
    seeds = range(first, first + count)
    started = time.monotonic()
    totals = _Totals()
    progress = _Progress(count)
    for result in _results(seeds, args.jobs, args.disable):
        totals.add(result)
        progress.show(totals)
    progress.done()
    elapsed = time.monotonic() - started
    _print_summary(totals, elapsed, seeds, args)
    for seed in sorted(totals.failures)[:3]:
        _print_failure(seed, args)
    return 1 if totals.failures else 0


def _results(seeds: range, jobs: int, disabled: str | None) -> Iterator[SeedResult]:
    if jobs == 1 or len(seeds) < 50:
        for seed in seeds:
            yield _summary(run_seed(seed, _safeguards(disabled)))
        return
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        yield from pool.imap_unordered(_run_one, [(s, disabled) for s in seeds], chunksize=20)


def _run_one(job: tuple[int, str | None]) -> SeedResult:
    seed, disabled = job
    return _summary(run_seed(seed, _safeguards(disabled)))


def _summary(result: SeedResult) -> SeedResult:
    """The result without its trace (a failing seed is replayed for that: it's deterministic)."""
    return dataclasses.replace(result, trace=[])


def _safeguards(disabled: str | None) -> Safeguards:
    return Safeguards(**{disabled: False}) if disabled else Safeguards()


class _Progress:
    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()
        self.started = self.last = time.monotonic()

    def show(self, totals: _Totals) -> None:
        now = time.monotonic()
        if now - self.last < (0.5 if self.tty else 10) and totals.seeds < self.total:
            return
        self.last = now
        rate = totals.seeds / max(now - self.started, 1e-9)
        line = (f"sim: {totals.seeds}/{self.total} seeds, {len(totals.failures)} failed, "
                f"{rate:.0f} seeds/s")
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n", file=sys.stderr,
              flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def _print_summary(totals: _Totals, elapsed: float, seeds: range,
                   args: argparse.Namespace) -> None:
    mode = f" with safeguard {args.disable} OFF" if args.disable else ""
    print(f"seeds {seeds.start}..{seeds.start + totals.seeds - 1}{mode}: "
          f"{totals.seeds - len(totals.failures)} passed, {len(totals.failures)} failed "
          f"in {elapsed:.1f} s ({totals.ops} store ops, {totals.checks} invariant checks)")
    print("\ncrash points (a crash after each protocol step):")
    for point in CRASH_POINTS:
        print(f"  after {point:<18} {totals.crash_points.get(point, 0):>8}")
    for point, why in UNREACHABLE.items():
        print(f"  after {point:<18} {'n/a':>8}  (unreachable: {why})")
    missing = missing_points(dict(totals.crash_points))
    if missing:
        print(f"  not hit: {', '.join(missing)} (run more seeds)")
    print("\noutcomes seen:")
    for name, n in sorted(totals.outcomes.items()):
        print(f"  {name:<28} {n:>8}")


def _print_failure(seed: int, args: argparse.Namespace) -> None:
    result = run_seed(seed, _safeguards(args.disable))
    replay = f"abc sim --seed {seed} --trace" + (f" --disable {args.disable}" if args.disable
                                                   else "")
    lines = result.trace if args.trace else result.trace[-60:]
    print(f"\nFAILED seed {seed}: {result.failure}\nreplay: {replay}")
    print(f"trace ({'all' if args.trace else 'last'} {len(lines)} of {len(result.trace)} lines):")
    for line in lines:
        print(f"  {line}")
