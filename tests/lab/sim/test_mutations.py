"""The simulation can fail: switch off one protocol safeguard at a time and it must find a
broken invariant within a bounded number of seeds."""

from __future__ import annotations

import dataclasses

import pytest

from services.journal import Safeguards
from services.lab.sim import run_seed

BOUND = 1000  # seeds; each mutation is found far sooner (abc sim --disable NAME shows when)


@pytest.mark.parametrize("safeguard", [f.name for f in dataclasses.fields(Safeguards)])
def test_removing_a_safeguard_is_caught(safeguard: str) -> None:
    mutated = Safeguards(**{safeguard: False})
    for seed in range(BOUND):
        result = run_seed(seed, mutated)
        if not result.ok:
            assert result.failure is not None and "invariant" in result.failure
            return
    pytest.fail(f"{BOUND} seeds with {safeguard} off and no invariant broken")


def test_the_same_seed_replays_exactly() -> None:
    first, second = run_seed(42), run_seed(42)
    assert [str(line) for line in first.trace] == [str(line) for line in second.trace]
    assert first.trace, "a seed that does nothing replays trivially"
    assert [str(x) for x in run_seed(43).trace] != [str(x) for x in first.trace]
