"""No secret values in the repository, only references to the Secrets an operator creates;
and the NetworkPolicy that lets only gateways reach purchase and notify."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._kustomize import load_documents
from ._manifests import (
    K8S,
    KUSTOMIZATIONS,
    Container,
    abc_containers,
    containers,
    kustomization_id,
    named,
    of_kind,
    pod_labels,
    render,
    selects,
    workloads,
)

SECRETS = {"abc-couchbase", "abc-tokens", "abc-tls"}  # the README says how to create them
EXPECTED = {"base": {"abc-couchbase", "abc-tokens"}, "overlays/dev": {"abc-tokens"},
            "overlays/prod": SECRETS}
GATEWAY = {"app.kubernetes.io/component": "gateway", "app.kubernetes.io/part-of": "abc"}

every_kustomization = pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=kustomization_id)


def secret_references(container: Container) -> set[str]:
    names = {var["valueFrom"]["secretKeyRef"]["name"] for var in container.spec.get("env", [])
             if "secretKeyRef" in var.get("valueFrom", {})}
    names |= {s["secretRef"]["name"] for s in container.spec.get("envFrom", [])
              if "secretRef" in s}
    mounted = {m["name"] for m in container.spec.get("volumeMounts", [])}
    return names | {v["secret"]["secretName"] for v in container.pod.get("volumes", [])
                    if "secret" in v and v["name"] in mounted}


def test_no_file_under_deploy_holds_a_secret_value() -> None:
    files = sorted(K8S.rglob("*.yaml")) + sorted(K8S.rglob("*.yml"))
    assert files
    for path in files:
        for doc in load_documents(path):
            if isinstance(doc, dict) and doc.get("kind") == "Secret":
                assert not doc.get("data") and not doc.get("stringData"), path


@every_kustomization
def test_no_secret_objects_only_references_to_the_documented_ones(directory: Path) -> None:
    objects = render(directory)
    assert not of_kind(objects, "Secret")
    referenced = set().union(*(secret_references(c) for c in containers(objects)))
    assert referenced == EXPECTED[kustomization_id(directory)]


@every_kustomization
def test_only_gateways_reach_purchase_and_notify(directory: Path) -> None:
    objects = render(directory)
    (policy,) = of_kind(objects, "NetworkPolicy")
    spec = policy["spec"]
    guarded = {w["metadata"]["name"] for w in workloads(objects)
               if selects(spec["podSelector"], pod_labels(w))}
    assert guarded == {"abc-purchase", "abc-notify"}
    assert spec["policyTypes"] == ["Ingress"]
    (rule,) = spec["ingress"]
    # One peer: pods of this namespace with the gateway labels; no namespaces, no IP blocks.
    assert rule["from"] == [{"podSelector": {"matchLabels": GATEWAY}}]
    assert selects(rule["from"][0]["podSelector"], {**GATEWAY, "app": "any"})
    assert not selects(rule["from"][0]["podSelector"],
                       {"app.kubernetes.io/component": "purchase",
                        "app.kubernetes.io/part-of": "abc"})
    # Its ports are exactly each guarded pod's gRPC port.
    (port,) = rule["ports"]
    for name in guarded:
        (container,) = [c for c in abc_containers(objects)
                        if c.workload is named(objects, "Deployment", name)]
        grpc = [p for p in container.spec["ports"] if port["port"] in (p["name"],
                                                                        p["containerPort"])]
        assert [p["name"] for p in grpc] == ["grpc"], name


def test_every_yaml_under_deploy_is_rendered_by_some_kustomization() -> None:
    # A stray manifest no overlay includes would escape every check here.
    rendered: set[tuple[str, str]] = set()
    for directory in KUSTOMIZATIONS:
        rendered |= {(o["kind"], o["metadata"]["name"]) for o in render(directory)}
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_documents(path):
            assert (doc["kind"], doc["metadata"]["name"]) in rendered, path
