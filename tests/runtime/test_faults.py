"""The test-only fault switch: off by default, refuses unknown steps, exits at its step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.journal import STEPS
from services.runtime import FAULT_ENV, FAULT_EXIT_CODE, FaultConfigError, fault_switch

ROOT = Path(__file__).resolve().parents[2]


def test_off_without_the_variable() -> None:
    assert fault_switch(STEPS, {}) is None
    assert fault_switch(STEPS, {FAULT_ENV: ""}) is None
    assert fault_switch(STEPS, {FAULT_ENV: "  "}) is None


def test_unknown_step_is_refused() -> None:
    with pytest.raises(FaultConfigError, match="not a step"):
        fault_switch(STEPS, {FAULT_ENV: "buy.nope"})


def test_known_step_gives_an_observer_that_ignores_other_steps() -> None:
    observer = fault_switch(STEPS, {FAULT_ENV: " buy.fill "})
    assert observer is not None
    for step in STEPS:
        if step != "buy.fill":  # the matching step would os._exit this test process
            observer(step)


def test_observer_exits_the_process_at_its_step() -> None:
    code = (
        "from services.journal import STEPS\n"
        "from services.runtime import fault_switch\n"
        f"observer = fault_switch(STEPS, {{{FAULT_ENV!r}: 'buy.fill'}})\n"
        "assert observer is not None\n"
        "observer('buy.intent')\n"
        "print('before', flush=True)\n"
        "observer('buy.fill')\n"
        "print('after', flush=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == FAULT_EXIT_CODE, done.stderr
    assert done.stdout == "before\n"
