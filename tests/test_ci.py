""".ci/ensure-chromium, which ``make test`` runs first: it leaves an installed chromium alone,
installs Debian's package non-interactively where it is missing (as root, or through sudo
that asks no password), and without either says what to run and fails. ``apt-get``, ``id``
and ``sudo`` are stand-ins on PATH that log their calls (installing for real is what CI does
on a machine without chromium); the script itself runs for real in bash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests._support.processes import ROOT

SCRIPT = ROOT / ".ci" / "ensure-chromium"


def _tools(tmp_path: Path, uid: int, sudo_works: bool) -> Path:
    """A folder of stand-ins: apt-get logs its arguments and environment and "installs"
    chromium by creating the file; id says ``uid``; sudo runs its command or refuses."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    chromium = tmp_path / "chromium"
    scripts = {
        "apt-get": f'echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND apt-get $*" >> {tmp_path}/calls\n'
                   f'case "$1" in install) printf "#!/bin/sh\\n" > {chromium}; '
                   f'chmod +x {chromium};; esac\n',
        "id": f"echo {uid}\n",
        "sudo": (f'echo "sudo $*" >> {tmp_path}/calls\n'
                 'shift; [ "$1" = true ] && exit 0; exec "$@"\n') if sudo_works
                else "exit 1\n",
    }
    for name, body in scripts.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}")
        tool.chmod(0o755)
    return bin_dir


def _ensure(tmp_path: Path, uid: int = 0, sudo_works: bool = False,
            present: bool = False) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    chromium = tmp_path / "chromium"
    if present:
        chromium.write_text("#!/bin/sh\n")
        chromium.chmod(0o755)
    bin_dir = _tools(tmp_path, uid, sudo_works)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CHROMIUM": str(chromium)}
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=30, check=False)
    calls = tmp_path / "calls"
    return done, calls.read_text().splitlines() if calls.exists() else []


def test_an_installed_chromium_is_left_alone(tmp_path: Path) -> None:
    done, calls = _ensure(tmp_path, present=True)
    assert (done.returncode, calls) == (0, [])


def test_root_installs_debians_chromium_without_questions(tmp_path: Path) -> None:
    done, calls = _ensure(tmp_path, uid=0)
    assert done.returncode == 0, done.stderr
    assert calls[0] == "DEBIAN_FRONTEND=noninteractive apt-get update -qq"
    assert calls[1].startswith("DEBIAN_FRONTEND=noninteractive apt-get install -y ")
    assert "chromium" in calls[1].split()
    assert len(calls) == 2


def test_without_root_it_installs_through_sudo_that_asks_no_password(tmp_path: Path) -> None:
    done, calls = _ensure(tmp_path, uid=1000, sudo_works=True)
    assert done.returncode == 0, done.stderr
    assert next(c for c in calls if c.startswith("sudo")) == "sudo -n true"
    assert any(c.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y")
               for c in calls), calls


def test_without_root_or_sudo_it_says_what_to_run_and_fails(tmp_path: Path) -> None:
    done, calls = _ensure(tmp_path, uid=1000, sudo_works=False)
    assert done.returncode == 1
    assert "sudo apt-get install -y chromium" in done.stderr
    assert not any("apt-get" in c for c in calls)


def test_make_test_runs_it_and_ci_runs_the_readmes_test_command() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "test: browser lint\n" in makefile
    assert "browser:\n\t.ci/ensure-chromium\n" in makefile
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("make test")
    assert "make test" in (ROOT / "README.md").read_text()
