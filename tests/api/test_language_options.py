"""Every proto names its package for the other languages a gateway may be written in (Go,
Java, C#), the same in every file, and the generated code lands where those options say.

The options are read twice: from the .proto text, and from the descriptors of the generated
_pb2 modules (what reflection serves). Java, C# and Go code is generated only where a full
``protoc`` is installed (grpc_tools' protoc has the Python generators only; Debian's
protobuf-compiler has the rest), Go only with ``protoc-gen-go`` on the PATH; the Java sources
are compiled when ``javac`` and a protobuf-java jar of protoc's own version are at hand.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf.descriptor import FileDescriptor

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
FILES = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))

GO_PACKAGE = "github.com/abc-slots/abc/gen/go/abc/v1;abcv1"
JAVA_PACKAGE = "com.abcslots.abc.v1"
CSHARP_NAMESPACE = "Abc.V1"
SHARED = {"csharp_namespace": f'"{CSHARP_NAMESPACE}"', "go_package": f'"{GO_PACKAGE}"',
          "java_multiple_files": "true", "java_package": f'"{JAVA_PACKAGE}"'}

_OPTION = re.compile(r'^option\s+(\w+)\s*=\s*("[^"]*"|\w+)\s*;', re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([\w.]+)\s*;", re.MULTILINE)


def outer_classname(proto: str) -> str:
    """``abc/v1/purchase.proto`` -> ``PurchaseProto``."""
    return "".join(part.capitalize() for part in Path(proto).stem.split("_")) + "Proto"


def module_of(proto: str) -> ModuleType:
    return importlib.import_module("services.api." + proto.removesuffix(".proto")
                                   .replace("/", ".") + "_pb2")


def descriptor_of(proto: str) -> FileDescriptor:
    found: FileDescriptor = module_of(proto).DESCRIPTOR
    return found


def top_level_names(file: FileDescriptor) -> tuple[list[str], list[str], list[str]]:
    return (list(file.message_types_by_name), list(file.enum_types_by_name),
            list(file.services_by_name))


def test_there_are_protos() -> None:
    assert "abc/v1/purchase.proto" in FILES and len(FILES) >= 5


@pytest.mark.parametrize("proto", FILES)
def test_every_proto_sets_the_same_options(proto: str) -> None:
    text = (PROTOS / proto).read_text()
    options = dict(_OPTION.findall(text))
    assert options == {**SHARED, "java_outer_classname": f'"{outer_classname(proto)}"'}
    assert _PACKAGE.findall(text) == ["abc.v1"]


def test_the_options_follow_from_the_proto_package() -> None:
    """abc.v1: Go import path .../abc/v1 as package abcv1, Java com.abcslots.abc.v1, C#
    Abc.V1; so a second package (abc.v2) would get options of the same shape."""
    parts = ["abc", "v1"]
    path, _, go_name = GO_PACKAGE.partition(";")
    assert path.endswith("/" + "/".join(parts)) and go_name == "".join(parts)
    assert JAVA_PACKAGE.endswith("." + ".".join(parts))
    assert ".".join(part.capitalize() for part in parts) == CSHARP_NAMESPACE


@pytest.mark.parametrize("proto", FILES)
def test_the_generated_descriptors_carry_them(proto: str) -> None:
    file = descriptor_of(proto)
    options = file.GetOptions()
    assert (options.go_package, options.java_package, options.java_multiple_files,
            options.java_outer_classname, options.csharp_namespace) == (
        GO_PACKAGE, JAVA_PACKAGE, True, outer_classname(proto), CSHARP_NAMESPACE)
    messages, enums, services = top_level_names(file)
    # protoc would rename a clashing outer class (appending "OuterClass"), silently.
    assert outer_classname(proto) not in messages + enums + services


def test_outer_classnames_are_distinct() -> None:
    names = [descriptor_of(p).GetOptions().java_outer_classname for p in FILES]
    assert len(set(names)) == len(names)


def _full_protoc() -> str:
    protoc = shutil.which("protoc")
    if protoc is None:
        pytest.skip("no protoc with the Java, C# and Go generators on the PATH (grpc_tools' "
                    "protoc has the Python ones only): apt-get install protobuf-compiler")
    return protoc


def _protoc(out: str, tmp_path: Path) -> Path:
    target = tmp_path / out.split("_")[0]
    target.mkdir()
    subprocess.run([_full_protoc(), f"-I{PROTOS}", f"--{out}={target}", *FILES], check=True,
                   capture_output=True, timeout=60)
    return target


def _protoc_version(protoc: str) -> str:
    done = subprocess.run([protoc, "--version"], capture_output=True, text=True, check=True)
    return done.stdout.split()[-1]  # "libprotoc 3.21.12" / "libprotoc 31.1"


def _protobuf_java_jar(version: str) -> Path | None:
    """A protobuf-java jar that fits protoc ``version``'s Java code: the same version (the
    runtime of protoc 31.1 is 4.31.1; before 22, they were numbered alike)."""
    java = version if version.startswith("3.") else f"4.{version}"
    for candidate in (Path("/usr/share/java") / f"protobuf-{java}.jar",
                      Path.home() / ".m2" / "repository" / "com" / "google" / "protobuf"
                      / "protobuf-java" / java / f"protobuf-java-{java}.jar"):
        if candidate.exists():
            return candidate
    return None


def test_java_sources_one_file_per_message(tmp_path: Path) -> None:
    out = _protoc("java_out", tmp_path)
    package = out.joinpath(*JAVA_PACKAGE.split("."))
    expected = set()
    for proto in FILES:
        messages, enums, _ = top_level_names(descriptor_of(proto))
        expected |= {f"{outer_classname(proto)}.java", *(f"{m}.java" for m in messages),
                     *(f"{m}OrBuilder.java" for m in messages), *(f"{e}.java" for e in enums)}
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert written == {str((package / name).relative_to(out)) for name in expected}

    javac = shutil.which("javac")
    jar = _protobuf_java_jar(_protoc_version(_full_protoc()))
    if javac is None or jar is None:
        pytest.skip(f"Java sources checked, not compiled: javac {javac}, protobuf-java {jar}")
    classes = tmp_path / "classes"
    subprocess.run([javac, "-nowarn", "-cp", str(jar), "-d", str(classes),
                    *(str(p) for p in out.rglob("*.java"))], check=True, capture_output=True,
                   timeout=300)
    built = classes.joinpath(*JAVA_PACKAGE.split("."))
    assert (built / "BuyRequest.class").exists()
    assert (built / f"{outer_classname('abc/v1/purchase.proto')}.class").exists()


def test_csharp_sources_in_the_namespace(tmp_path: Path) -> None:
    out = _protoc("csharp_out", tmp_path)
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(outer_classname(p).removesuffix("Proto") + ".cs" for p in FILES)
    for path in out.iterdir():
        assert f"namespace {CSHARP_NAMESPACE} {{" in path.read_text()


def test_go_sources_in_one_package(tmp_path: Path) -> None:
    if shutil.which("protoc-gen-go") is None:
        pytest.skip("protoc-gen-go is not on the PATH (apt-get install protoc-gen-go)")
    out = _protoc("go_out", tmp_path)
    path, _, name = GO_PACKAGE.partition(";")
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted(f"{path}/{Path(p).stem}.pb.go" for p in FILES)
    for file in written:
        assert re.search(rf"^package {name}$", (out / file).read_text(), re.MULTILINE)
