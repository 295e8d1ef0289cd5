"""The rendered manifests of deploy/k8s and what the tests ask of them: the Abc containers,
the environment a container gets, label selectors, resource quantities."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._kustomize import Manifest, build, split_image

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
KUSTOMIZATIONS = [BASE, *OVERLAYS]
IMAGE = "abc-slots"
GATEWAY = "gateway"  # `abc serve gateway`: HTTP, a client of the services, no gRPC server
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job"})


def kustomization_id(directory: Path) -> str:
    return str(directory.relative_to(K8S))


@functools.cache
def _rendered(directory: Path) -> list[Manifest]:
    return build(directory)


def render(directory: Path) -> list[Manifest]:
    """The objects ``directory``'s kustomization renders (a copy: change it freely)."""
    return copy.deepcopy(_rendered(directory))


def named(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"want one {kind} {name}, found {len(found)}"
    return found[0]


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def workloads(objects: list[Manifest]) -> list[Manifest]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Manifest) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


@dataclass(frozen=True)
class Container:
    """One container of a workload's pod template."""

    workload: Manifest
    spec: Manifest

    @property
    def name(self) -> str:
        return f"{self.workload['kind']}/{self.workload['metadata']['name']}:{self.spec['name']}"

    @property
    def pod(self) -> Manifest:
        return pod_spec(self.workload)


def containers(objects: list[Manifest]) -> Iterator[Container]:
    for workload in workloads(objects):
        pod = pod_spec(workload)
        for spec in pod.get("initContainers", []) + pod["containers"]:
            yield Container(workload, spec)


def abc_containers(objects: list[Manifest]) -> list[Container]:
    """The containers running the Abc image (whatever registry an overlay moved it to)."""
    return [c for c in containers(objects)
            if split_image(c.spec["image"])[0].rsplit("/", 1)[-1] == IMAGE]


def served(container: Container) -> str:
    """What ``abc serve`` runs in an Abc container: its first argument (the image's CMD,
    purchase, without one)."""
    return str(container.spec.get("args", ["purchase"])[0])


def grpc_services(objects: list[Manifest]) -> list[Container]:
    """The Abc containers that serve gRPC: every one but the web gateway's."""
    return [c for c in abc_containers(objects) if served(c) != GATEWAY]


_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def environment(container: Container, objects: list[Manifest]) -> dict[str, str]:
    """The variables the kubelet gives ``container``: envFrom ConfigMaps, then env in order,
    with $(VAR) expanded from what is defined so far. A value from a Secret or a field reads
    ``<secret NAME/KEY>`` / ``<field PATH>``; an unresolvable $(VAR) fails the test."""
    env: dict[str, str] = {}
    for source in container.spec.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"{container.name}: envFrom {source}"
        config = named(objects, "ConfigMap", source["configMapRef"]["name"])
        env.update(config.get("data", {}))
    for var in container.spec.get("env", []):
        env[var["name"]] = _value(var, env, objects, container.name)
    return env


def _value(var: Manifest, defined: Mapping[str, str], objects: list[Manifest],
           where: str) -> str:
    if "value" in var:
        def expand(match: re.Match[str]) -> str:
            assert match[1] in defined, f"{where}: {var['name']} uses $({match[1]}) undefined"
            return defined[match[1]]
        return _VAR.sub(expand, var["value"])
    source = var["valueFrom"]
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return f"<secret {ref['name']}/{ref['key']}>"
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        data: dict[str, str] = named(objects, "ConfigMap", ref["name"])["data"]
        return data[ref["key"]]
    return f"<field {source['fieldRef']['fieldPath']}>"


def mounted_secret(container: Container, path: str) -> str | None:
    """The Secret whose volume holds file ``path`` in ``container``, if any."""
    volumes = {v["name"]: v for v in container.pod.get("volumes", [])}
    for mount in container.spec.get("volumeMounts", []):
        if path.startswith(mount["mountPath"].rstrip("/") + "/"):
            secret = volumes[mount["name"]].get("secret")
            return None if secret is None else str(secret["secretName"])
    return None


def selects(selector: Manifest, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels and matchExpressions) selects ``labels``."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        held = {"In": key in labels and labels[key] in values,
                "NotIn": key not in labels or labels[key] not in values,
                "Exists": key in labels,
                "DoesNotExist": key not in labels}[operator]
        if not held:
            return False
    return True


_QUANTITY = re.compile(r"^(?P<number>[0-9.]+)(?P<suffix>m|k|M|G|Ki|Mi|Gi|Ti)?$")
_SUFFIX = {None: 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9,
           "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}


def quantity(value: Any) -> float:
    """A Kubernetes resource quantity ("100m", "1", "512Mi") as a number."""
    match = _QUANTITY.match(str(value))
    assert match, f"not a quantity: {value!r}"
    return float(match["number"]) * _SUFFIX[match["suffix"]]
