"""The generated code in services/api is what protos/generate.py makes from protos/ today."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATE = ROOT / "protos" / "generate.py"
API = ROOT / "services" / "api"


def _differences() -> Callable[[Path, Path], list[str]]:
    spec = importlib.util.spec_from_file_location("abc_protos_generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: Callable[[Path, Path], list[str]] = module.differences
    return found


def test_generated_code_is_fresh() -> None:
    done = subprocess.run([sys.executable, str(GENERATE), "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_check_notices_an_edited_a_missing_and_an_extra_file(tmp_path: Path) -> None:
    differences = _differences()
    ignore = shutil.ignore_patterns("__pycache__")
    fresh, committed = tmp_path / "fresh", tmp_path / "committed"
    shutil.copytree(API, fresh, ignore=ignore)
    shutil.copytree(API, committed, ignore=ignore)
    assert differences(fresh, committed) == []

    edited = committed / "abc" / "v1" / "purchase_pb2.py"
    edited.write_text(edited.read_text() + "# edited by hand\n")
    (committed / "abc" / "v1" / "types_pb2.pyi").unlink()
    (committed / "abc" / "v1" / "stray_pb2.py").write_text("")
    assert differences(fresh, committed) == [
        "abc/v1/purchase_pb2.py", "abc/v1/stray_pb2.py", "abc/v1/types_pb2.pyi"]
