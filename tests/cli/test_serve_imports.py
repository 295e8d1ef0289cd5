"""``abc serve X`` loads what service X runs, and nothing of the lab (the production image
leaves the lab out, and a service should not pay for the simulation, the load generator or the
demo). Counted in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("purchase", "notify", "recovery")


def loaded_by(*argv: str) -> list[str]:
    code = ("import contextlib, json, sys\n"
            "from services.cli import main\n"
            "with contextlib.redirect_stdout(None), contextlib.suppress(SystemExit):\n"
            f"    main({list(argv)!r})\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('services'))))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    modules: list[str] = json.loads(done.stdout)
    return modules


@pytest.mark.parametrize("service", SERVICES)
def test_serving_a_service_loads_no_lab_module_and_no_other_service(service: str) -> None:
    loaded = loaded_by("serve", service, "--help")
    assert f"services.{service}" in loaded
    assert [m for m in loaded if m.startswith("services.lab")] == []
    others = [f"services.{s}" for s in SERVICES if s != service]
    assert [m for m in loaded if m in others] == []


def test_the_count_sees_the_lab_when_a_lab_command_runs() -> None:
    """The check can fail: ``abc sim --help`` does load the lab."""
    assert "services.lab.sim" in loaded_by("sim", "--help")
