"""No secret values in the repository, only references to the Secrets an operator creates;
the NetworkPolicy that lets only gateways reach purchase and notify; and the web gateway's
own, which lets only the ingress controller reach it and it reach only purchase and notify."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._kustomize import Manifest, load_documents
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
    pod_spec,
    render,
    selects,
    workloads,
)

# The README says how to create each.
SECRETS = {"abc-couchbase", "abc-tokens", "abc-tls", "abc-gateway", "abc-gateway-tls"}
EXPECTED = {"base": {"abc-couchbase", "abc-tokens", "abc-gateway"},
            "overlays/dev": {"abc-tokens", "abc-gateway"}, "overlays/prod": SECRETS}
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
    referenced |= {tls["secretName"] for ingress in of_kind(objects, "Ingress")
                   for tls in ingress["spec"].get("tls", [])}
    assert referenced == EXPECTED[kustomization_id(directory)]


@every_kustomization
def test_only_gateways_reach_purchase_and_notify(directory: Path) -> None:
    objects = render(directory)
    spec = named(objects, "NetworkPolicy", "abc-gateway-only")["spec"]
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


DNS = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
       "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
INGRESS_CONTROLLER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}}}
# Where a gateway may connect (workload, its named port), beyond DNS; dev adds its Jaeger.
REACHABLE = {("abc-purchase", "grpc"), ("abc-notify", "grpc")}
ALSO_REACHABLE = {"overlays/dev": {("jaeger", "otlp-grpc")}}


def _gateway_policies(objects: list[Manifest]) -> list[Manifest]:
    gateway = pod_labels(named(objects, "Deployment", "abc-gateway"))
    return [p for p in of_kind(objects, "NetworkPolicy")
            if selects(p["spec"]["podSelector"], gateway)]


def _container_ports(workload: Manifest) -> set[str]:
    return {p["name"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])}


@every_kustomization
def test_the_gateway_is_reached_only_from_the_ingress_controller(directory: Path) -> None:
    objects = render(directory)
    gateway = named(objects, "Deployment", "abc-gateway")
    fence = named(objects, "NetworkPolicy", "abc-gateway")
    assert [w["metadata"]["name"] for w in workloads(objects)
            if selects(fence["spec"]["podSelector"], pod_labels(w))] == ["abc-gateway"]
    assert fence["spec"]["policyTypes"] == ["Ingress", "Egress"]
    # Every rule that lets anything in, across the policies that select the gateway: one.
    rules = [rule for p in _gateway_policies(objects) for rule in p["spec"].get("ingress", [])]
    # One peer with both selectors (ANDed): the controller's pods, not its whole namespace.
    assert rules == [{"from": [INGRESS_CONTROLLER], "ports": [{"port": "http",
                                                               "protocol": "TCP"}]}]
    assert "http" in _container_ports(gateway)
    # And the gateway is what the services' policy admits.
    services = named(objects, "NetworkPolicy", "abc-gateway-only")["spec"]
    (admitted,) = services["ingress"][0]["from"]
    assert selects(admitted["podSelector"], pod_labels(gateway))


@every_kustomization
def test_the_gateway_reaches_only_purchase_and_notify(directory: Path) -> None:
    objects = render(directory)
    assert all("Egress" in p["spec"]["policyTypes"] for p in _gateway_policies(objects))
    reached: set[tuple[str, str]] = set()
    for policy in _gateway_policies(objects):
        for rule in policy["spec"].get("egress", []):
            ports = rule["ports"]
            for peer in rule["to"]:
                if peer == DNS:
                    assert ports == [{"port": 53, "protocol": "UDP"},
                                     {"port": 53, "protocol": "TCP"}], policy["metadata"]
                    continue
                # A pod selector in this namespace (no IP blocks, no other namespaces).
                assert set(peer) == {"podSelector"}, peer
                selected = [w for w in workloads(objects)
                            if selects(peer["podSelector"], pod_labels(w))]
                assert selected, peer
                for workload in selected:
                    for port in ports:
                        assert port["port"] in _container_ports(workload), port
                        reached.add((workload["metadata"]["name"], port["port"]))
    assert reached == REACHABLE | ALSO_REACHABLE.get(kustomization_id(directory), set())
