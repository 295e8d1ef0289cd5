"""A service that can't start says why, in one line, with no traceback: here an address
already taken by another process."""

from __future__ import annotations

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
