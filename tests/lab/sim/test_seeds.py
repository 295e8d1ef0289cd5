"""The simulation over many seeds: every invariant holds after every write and after
recovery, every crash point is hit, and the faults it injects really happen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from services.lab.sim import CRASH_POINTS, SeedResult, missing_points, run_seed


@dataclass
class Run:
    failures: list[SeedResult] = field(default_factory=list)
    crash_points: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    seeds: int = 0


def _run(first: int, count: int) -> Run:
    run = Run()
    for seed in range(first, first + count):
        result = run_seed(seed)
        run.seeds += 1
        run.crash_points.update(result.crash_points)
        run.outcomes.update(result.outcomes)
        if not result.ok:
            run.failures.append(result)
    return run


@pytest.fixture(scope="module")
def default_run(request: pytest.FixtureRequest) -> Run:
    return _run(0, int(request.config.getoption("--sim-seeds")))


def _explain(failures: list[SeedResult]) -> str:
    first = failures[0]
    trace = "\n".join(str(line) for line in first.trace[-40:])
    return (f"{len(failures)} seeds failed; first: seed {first.seed}: {first.failure}\n"
            f"replay: abc sim --seed {first.seed} --trace\n{trace}")


@pytest.mark.timeout(600)
def test_every_seed_keeps_every_invariant(default_run: Run) -> None:
    assert not default_run.failures, _explain(default_run.failures)


def test_every_crash_point_is_hit(default_run: Run) -> None:
    assert missing_points(dict(default_run.crash_points)) == []
    assert set(default_run.crash_points) <= set(CRASH_POINTS)


def test_the_races_and_faults_really_happen(default_run: Run) -> None:
    """A simulation that never loses a race or needs a resolver proves nothing."""
    seen = default_run.outcomes
    for outcome in ("Bought", "LostRace", "Interrupted", "AccountBusy", "DuplicateDeposit",
                    "login ROLLED_FORWARD", "login ROLLED_BACK", "crashed actors"):
        assert seen[outcome] > 0, f"no {outcome} in {default_run.seeds} seeds: {seen}"


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_many_more_seeds() -> None:
    run = _run(1_000_000, 50_000)
    assert not run.failures, _explain(run.failures)
