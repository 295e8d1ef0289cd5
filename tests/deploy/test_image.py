"""The Dockerfile and .dockerignore, read as text (no Docker engine here): a multi-stage
build on slim Python 3.11, a non-root user, `abc serve` as the entrypoint whose argument
picks a service, and a build context that carries what the build copies and nothing else."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from services.cli._main import build_parser

from ._manifests import KUSTOMIZATIONS, REPO, abc_containers, kustomization_id, render


@dataclass
class Stage:
    image: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, name: str) -> str:
        values = [arg for op, arg in self.instructions if op == name]
        assert values, f"no {name} in the stage FROM {self.image}"
        return values[-1]


def dockerfile_stages() -> list[Stage]:
    """The stages of ./Dockerfile, ARGs before the first FROM substituted."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        op, arg = op.upper(), arg.strip()
        if op == "ARG" and not stages:
            name, _, default = arg.partition("=")
            args[name] = default
        elif op == "FROM":
            image = arg.split()[0]
            for name, value in args.items():
                image = image.replace(f"${{{name}}}", value).replace(f"${name}", value)
            stages.append(Stage(image))
        else:
            stages[-1].instructions.append((op, arg))
    return stages


def test_multi_stage_on_slim_python_3_11() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        assert stage.image.startswith("python:3.11-slim"), stage.image
    runtime = stages[-1]
    assert any(op == "COPY" and arg.startswith("--from=") for op, arg in runtime.instructions)


def test_runs_as_a_numeric_non_root_user() -> None:
    user = dockerfile_stages()[-1].last("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric, so runAsNonRoot can verify it"


def test_entrypoint_is_abc_serve_and_the_command_a_service() -> None:
    runtime = dockerfile_stages()[-1]
    assert json.loads(runtime.last("ENTRYPOINT")) == ["abc", "serve"]
    cmd = json.loads(runtime.last("CMD"))
    args = build_parser().parse_args(["serve", *cmd])
    assert args.service == "purchase"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=kustomization_id)
def test_user_and_ports_agree_with_the_manifests(directory: Path) -> None:
    runtime = dockerfile_stages()[-1]
    exposed = {int(p) for p in runtime.last("EXPOSE").split()}
    uid = int(runtime.last("USER").split(":")[0])
    for container in abc_containers(render(directory)):
        assert {p["containerPort"] for p in container.spec["ports"]} <= exposed
        assert container.pod["securityContext"]["runAsUser"] == uid


def _glob(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: * and ? within a folder, **/ across folders."""
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
    return re.compile(regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]") + r"\Z")


def dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context: the last pattern that
    matches the path or one of its parent folders decides (``!`` re-includes)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for line in (REPO / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        glob = _glob(pattern.lstrip("!").rstrip("/"))
        if any(glob.match(prefix) for prefix in prefixes):
            excluded = not pattern.startswith("!")
    return excluded


def test_the_build_context_holds_what_the_build_copies_and_no_more() -> None:
    build = dockerfile_stages()[0]
    sources = [arg.split()[:-1] for op, arg in build.instructions if op == "COPY"]
    copied = [s for srcs in sources for s in srcs]
    assert copied == ["pyproject.toml", "README.md", "services"]
    for source in copied:
        assert (REPO / source).exists()
        assert not dockerignore_excludes(source), source
    assert not dockerignore_excludes("services/cli/_main.py")
    for kept_out in (".git/HEAD", ".venv/bin/python", ".abc/abc.db", "tests/conftest.py",
                     "deploy/k8s/base/kustomization.yaml", "services/cli/__pycache__/x.pyc",
                     "Dockerfile", "services/lab/sim/_run.py", "services/lab/__init__.py"):
        assert dockerignore_excludes(kept_out), kept_out


def test_the_image_installs_abc_without_extras() -> None:
    """The lab extra (the NATS server wheel) and the dev tools stay out of the image."""
    build = dockerfile_stages()[0]
    installs = [arg.split()[2:] for op, arg in build.instructions
                if op == "RUN" and arg.startswith("pip install")]
    assert installs == [["."]]
