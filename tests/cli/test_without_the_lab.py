"""The production image leaves services/lab out: ``abc --help`` still works and lists the lab's
commands as not installed, ``abc demo`` says why it can't run, and serving needs no lab.
Simulated in a fresh interpreter where ``services.lab`` cannot be imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def abc_without_lab(*argv: str) -> subprocess.CompletedProcess[str]:
    code = ("import sys\n"
            "sys.modules['services.lab'] = None  # as if the directory were absent\n"
            "from services.cli import main\n"
            f"sys.exit(main({list(argv)!r}))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def test_help_lists_the_lab_commands_as_not_installed() -> None:
    done = abc_without_lab("--help")
    assert done.returncode == 0, done.stderr
    demo = next(line for line in done.stdout.splitlines() if line.strip().startswith("demo"))
    assert "not installed" in demo
    serve = next(line for line in done.stdout.splitlines() if line.strip().startswith("serve"))
    assert "not installed" not in serve


def test_a_lab_command_says_why_it_cannot_run() -> None:
    done = abc_without_lab("demo", "--duration", "5")
    assert done.returncode == 2
    assert "needs the lab" in done.stderr
    assert "Traceback" not in done.stderr


def test_serving_needs_no_lab() -> None:
    done = abc_without_lab("serve", "recovery", "--help")
    assert done.returncode == 0, done.stderr
    assert "ABC_RECOVERY_TICK_MS" in done.stdout
