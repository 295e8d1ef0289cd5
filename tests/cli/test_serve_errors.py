"""A service that can't start says why, in one line, with no traceback: an address already
taken by another process, a setting in the environment that is not a number."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_an_address_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", "serve", "purchase", "--listen",
             f"127.0.0.1:{port}", "--store", "memory://"],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert f"can't listen on 127.0.0.1:{port} (address in use?)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_number_in_the_environment_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "serve", "recovery", "--store", "memory://"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "ABC_RECOVERY_REPLICAS": "three"})
    assert done.returncode == 2
    assert "--replicas: invalid int value: 'three'" in done.stderr
    assert "Traceback" not in done.stderr
