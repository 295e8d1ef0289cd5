"""Every kustomization under deploy/k8s renders, and every object it renders is valid for the
Kubernetes API, checked offline against the OpenAPI schemas kubernetes-validate ships."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from kubernetes_validate.utils import latest_version  # type: ignore[import-untyped]

from ._kustomize import KustomizeError, Manifest, build, strategic_merge
from ._manifests import KUSTOMIZATIONS, OVERLAYS, kustomization_id, render

# The oldest Kubernetes the manifests are for: gRPC probes are GA from 1.27. The newest is
# the latest whose schemas kubernetes-validate bundles.
KUBERNETES_VERSIONS = ["1.27.0", latest_version()]

every_kustomization = pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=kustomization_id)


def _key(obj: Manifest) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def test_the_overlays_are_dev_and_prod() -> None:
    assert [p.name for p in OVERLAYS] == ["dev", "prod"]


@every_kustomization
def test_renders_distinct_objects(directory: Path) -> None:
    objects = render(directory)
    keys = [_key(o) for o in objects]
    assert objects and len(keys) == len(set(keys))


@pytest.mark.parametrize("directory", OVERLAYS, ids=kustomization_id)
def test_overlays_put_everything_in_their_namespace(directory: Path) -> None:
    objects = render(directory)
    (namespace,) = [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"]
    assert {o["metadata"]["namespace"] for o in objects if o["kind"] != "Namespace"} == \
        {namespace}


@every_kustomization
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_objects_match_the_kubernetes_schemas(directory: Path, version: str) -> None:
    # strict: an unknown field (a typo, a field newer than `version`) is an error too.
    failures = []
    for obj in render(directory):
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            failures.append(f"{_key(obj)} at {path}: {exc.message}")
    assert not failures, "\n".join(failures)


@every_kustomization
def test_renders_as_kustomize_does(directory: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl on PATH to compare with (its kustomize)")
    done = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    theirs = {_key(o): o for o in yaml.safe_load_all(done.stdout) if o}
    ours = {_key(o): o for o in render(directory)}
    assert sorted(ours) == sorted(theirs)
    for key, obj in ours.items():
        assert obj == theirs[key], key


def test_strategic_merge_orders_and_deletes_as_kustomize() -> None:
    original: Manifest = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"},
                                  {"name": "C", "value": "3"}],
                          "probe": {"grpc": {"port": 1}, "periodSeconds": 5}}
    patch = {"env": [{"name": "C", "value": "9"}, {"name": "D", "value": "4"},
                     {"name": "B", "$patch": "delete"}],
             "probe": {"grpc": None, "exec": {"command": ["true"]}}}
    assert strategic_merge(original, patch) == {
        "env": [{"name": "C", "value": "9"}, {"name": "D", "value": "4"},
                {"name": "A", "value": "1"}],
        "probe": {"exec": {"command": ["true"]}, "periodSeconds": 5}}
    assert original["env"][1] == {"name": "B", "value": "2"}  # the original is left alone


def test_unsupported_kustomize_fields_are_refused(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\ncommonLabels: {a: b}\n")
    with pytest.raises(KustomizeError, match="commonLabels"):
        build(tmp_path)
