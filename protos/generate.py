"""Regenerate services/api/ from protos/: ``python protos/generate.py`` (from anywhere).

Runs grpc_tools.protoc with mypy stubs, then makes the generated imports absolute under
``services.api`` (protoc writes ``from abc.v1 import ...``, which would be the standard
library's ``abc``). The proto file names inside the descriptors stay ``abc/v1/*.proto``, so
reflection shows the API as written. The generated _pb2 modules hold the descriptors without
their comments (protoc's Python output drops source_code_info), so it also writes
``services/api/source_info.py``: each file's comments, which reflection serves with the
descriptors. ``--check`` regenerates into a temporary folder and exits 1 if anything differs
from what is committed.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "services" / "api"
_IMPORT = re.compile(r"^from abc\.v1 import", re.MULTILINE)
_HEADER = '"""Generated from protos/ by protos/generate.py: never edit by hand."""\n'


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    plugins = [f"--plugin={name}={_plugin(name)}" for name in ("protoc-gen-mypy",
                                                                "protoc-gen-mypy_grpc")]
    args = ["protoc", *plugins, f"-I{PROTOS}", f"-I{include}", f"--python_out={out}",
            f"--grpc_python_out={out}", f"--mypy_out={out}", f"--mypy_grpc_out={out}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for path in out.rglob("*.py*"):
        if path.suffix in (".py", ".pyi"):
            path.write_text(_IMPORT.sub("from services.api.abc.v1 import", path.read_text()))
    for package in (out, out / "abc", out / "abc" / "v1"):
        (package / "__init__.py").write_text(_HEADER)
    (out / "source_info.py").write_text(source_info_module(protos, include))


def source_info_module(protos: list[str], include: Path) -> str:
    """A module mapping each proto file's name to its serialized SourceCodeInfo, cut down to
    the locations that carry comments (what reflection clients show; spans alone are for
    editors)."""
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_set = Path(tmp) / "api.binpb"
        args = ["protoc", f"-I{PROTOS}", f"-I{include}", "--include_source_info",
                f"--descriptor_set_out={descriptor_set}", *protos]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed (descriptor set)")
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    lines = [_HEADER.rstrip("\n").removesuffix('"""'), "",
             "Each API file's comments: its FileDescriptorProto's source_code_info (the locations",
             "with comments), serialized. The _pb2 modules leave them out; reflection serves them",
             'with the descriptors (services/runtime/_reflection.py)."""', "",
             "SOURCE_CODE_INFO: dict[str, bytes] = {"]
    for file in sorted(files, key=lambda f: f.name):
        info = descriptor_pb2.SourceCodeInfo(location=[
            location for location in file.source_code_info.location
            if location.leading_comments or location.trailing_comments
            or location.leading_detached_comments])
        data = info.SerializeToString(deterministic=True)
        lines.append(f"    {file.name!r}: (")
        lines.extend(f"        {data[i:i + 64]!r}" for i in range(0, len(data), 64))
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _plugin(name: str) -> str:
    """mypy-protobuf's plugins, beside this Python (a venv's bin is not always on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: pip install mypy-protobuf")
    return found


def differences(a: Path, b: Path) -> list[str]:
    names = {p.relative_to(root) for root in (a, b) for p in root.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    return sorted(str(n) for n in names
                  if not (a / n).exists() or not (b / n).exists()
                  or not filecmp.cmp(a / n, b / n, shallow=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if services/api is stale")
    args = parser.parse_args()
    if not args.check:
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        generate(OUT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        stale = differences(Path(tmp), OUT)
    for name in stale:
        print(f"stale: services/api/{name}", file=sys.stderr)
    if stale:
        print("run: python protos/generate.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
