"""The workloads as the Abc services will see them: the command line and environment each
container gets, parsed by the real ``abc`` parser, and what Kubernetes does with the pods."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
from pathlib import Path

import pytest
import yaml

from services.cli._main import build_parser
from services.recovery import RecoveryConfig, ordinal_from_hostname
from services.runtime import ServerConfig, ServerConfigError

from ._kustomize import Manifest, build
from ._manifests import (
    BASE,
    GATEWAY,
    K8S,
    KUSTOMIZATIONS,
    OVERLAYS,
    Container,
    abc_containers,
    containers,
    environment,
    grpc_services,
    kustomization_id,
    mounted_secret,
    named,
    of_kind,
    pod_labels,
    quantity,
    render,
    selects,
    served,
    workloads,
)

SERVICES = {"purchase", "notify", "recovery", GATEWAY}
DRAIN_S = 5  # services/runtime Served.stop: calls in flight get up to 5 s after SIGTERM
EXPORT_S = 10  # room to export buffered spans at exit (the OTLP exporter's timeout)

every_kustomization = pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=kustomization_id)
every_overlay = pytest.mark.parametrize("directory", OVERLAYS, ids=kustomization_id)


def serve_args(container: Container, objects: list[Manifest], mp: pytest.MonkeyPatch,
               tokens_file: Path | None = None) -> argparse.Namespace:
    """``abc serve ARGS`` parsed as in the pod: with the pod's environment (the options read
    their ABC_* defaults when the parser is built). ``tokens_file`` stands in for the file
    ABC_TOKENS_FILE names, which only the mounted Secret would hold."""
    for name in [n for n in os.environ if n.startswith(("ABC_", "OTEL_"))]:
        mp.delenv(name)
    for name, value in environment(container, objects).items():
        mp.setenv(name, value)
    if tokens_file is not None:
        mp.setenv("ABC_TOKENS_FILE", str(tokens_file))
    argv = ["serve", *container.spec.get("args", [])]
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{container.name}: `abc {' '.join(argv)}` does not parse")


def server_config(args: argparse.Namespace) -> ServerConfig:
    """The server config ``abc serve`` builds from these arguments (and the environment)."""
    serve = importlib.import_module(f"services.cli._serve_{args.service}")
    config: ServerConfig = serve.config(args).server
    return config


def listen_port(args: argparse.Namespace) -> int:
    host, _, port = args.listen.rpartition(":")
    assert host == "0.0.0.0", args.listen
    return int(port)


def probe_port(probe: Manifest, where: str) -> int:
    handlers = {"grpc", "exec", "httpGet", "tcpSocket"} & set(probe)
    assert len(handlers) == 1, f"{where}: a probe takes one handler, has {handlers}"
    if "grpc" in probe:
        return int(probe["grpc"]["port"])
    if "httpGet" in probe:
        return int(probe["httpGet"]["port"])
    command = probe["exec"]["command"]
    return int(command[command.index("--port") + 1])


@every_kustomization
def test_each_abc_container_runs_a_service_that_abc_serve_knows(
        directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = render(directory)
    served = []
    for container in abc_containers(objects):
        # No command: the image's entrypoint, `abc serve` (tests/deploy/test_image.py).
        assert "command" not in container.spec, container.name
        with monkeypatch.context() as mp:
            served.append(serve_args(container, objects, mp).service)
    assert sorted(served) == sorted(SERVICES)


@every_kustomization
def test_probes_ask_the_health_service_on_the_port_the_service_listens_on(
        directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = render(directory)
    for container in abc_containers(objects):
        with monkeypatch.context() as mp:
            port = listen_port(serve_args(container, objects, mp))
        ports = {p["name"]: p["containerPort"] for p in container.spec["ports"]}
        protocol = "http" if served(container) == GATEWAY else "grpc"
        assert ports == {protocol: port}, container.name
        for kind in ("readinessProbe", "livenessProbe"):
            probe = container.spec[kind]
            assert probe_port(probe, f"{container.name} {kind}") == port
            if "grpc" in probe:  # the server's overall health ("" service)
                assert probe["grpc"].get("service", "") == ""
            if protocol == "http":  # the gateway's health endpoint, over plain HTTP
                assert probe["httpGet"]["path"] == "/healthz", container.name
                assert probe["httpGet"].get("scheme", "HTTP") == "HTTP", container.name


@every_overlay
def test_every_service_starts_with_tokens_and_tls_or_plaintext(
        directory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Off loopback a service refuses to start without tokens, and without TLS unless told
    # it may serve plaintext: check each pod's configuration passes that check.
    objects = render(directory)
    tokens = tmp_path / "tokens"
    tokens.write_text("gateway:test-token\n")
    for container in grpc_services(objects):
        env = environment(container, objects)
        assert mounted_secret(container, env["ABC_TOKENS_FILE"]) == "abc-tokens"
        with monkeypatch.context() as mp:
            config = server_config(serve_args(container, objects, mp, tokens))
        config.check()
        if config.tls_cert is not None or config.tls_key is not None:
            for path in (env["ABC_TLS_CERT"], env["ABC_TLS_KEY"]):
                assert mounted_secret(container, path) == "abc-tls", (container.name, path)
        else:
            assert config.allow_plaintext


def test_the_base_alone_refuses_to_serve_without_a_transport_choice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = render(BASE)
    tokens = tmp_path / "tokens"
    tokens.write_text("gateway:test-token\n")
    for container in grpc_services(objects):
        with monkeypatch.context() as mp:
            config = server_config(serve_args(container, objects, mp, tokens))
        with pytest.raises(ServerConfigError, match="without TLS"):
            config.check()


@every_kustomization
def test_the_posse_is_told_the_replica_count_it_runs_with(
        directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = render(directory)
    posse = named(objects, "StatefulSet", "abc-recovery")
    (container,) = [c for c in abc_containers(objects) if c.workload is posse]
    with monkeypatch.context() as mp:
        args = serve_args(container, objects, mp)
    replicas = posse["spec"]["replicas"]
    assert args.replicas == replicas, "ABC_RECOVERY_REPLICAS must equal the StatefulSet's replicas"
    # Pod i is named abc-recovery-<i>, its hostname; each must be a valid replica of N.
    assert "ordinals" not in posse["spec"] and "hostname" not in container.pod
    for i in range(replicas):
        ordinal = ordinal_from_hostname(f"{posse['metadata']['name']}-{i}")
        assert ordinal == i
        RecoveryConfig("memory://", ordinal, args.replicas, args.schedule)
    headless = named(objects, "Service", posse["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert selects({"matchLabels": headless["spec"]["selector"]}, pod_labels(posse))


@every_overlay
def test_the_overlay_count_alone_resizes_the_posse(
        directory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scaling is one edit: the abc-recovery count in the overlay's kustomization.yaml.
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    kustomization = tree / kustomization_id(directory) / "kustomization.yaml"
    settings = yaml.safe_load(kustomization.read_text())
    (posse_count,) = [r for r in settings["replicas"] if r["name"] == "abc-recovery"]
    posse_count["count"] = 7
    kustomization.write_text(yaml.safe_dump(settings))
    objects = build(kustomization.parent)
    posse = named(objects, "StatefulSet", "abc-recovery")
    (container,) = [c for c in abc_containers(objects) if c.workload is posse]
    with monkeypatch.context() as mp:
        assert serve_args(container, objects, mp).replicas == posse["spec"]["replicas"] == 7


@every_kustomization
def test_stateless_services_run_replicated_except_in_dev(directory: Path) -> None:
    for deployment in of_kind(render(directory), "Deployment"):
        if deployment["metadata"]["name"] in ("abc-purchase", "abc-notify", "abc-gateway"):
            replicas = deployment["spec"]["replicas"]
            assert replicas == 1 if directory.name == "dev" else replicas >= 2


@every_kustomization
def test_every_container_runs_as_non_root_with_resource_limits(directory: Path) -> None:
    objects = render(directory)
    ours = {c.name for c in abc_containers(objects)}
    for container in containers(objects):
        pod_context = container.pod.get("securityContext", {})
        context = {**pod_context, **container.spec.get("securityContext", {})}
        where = container.name
        assert context.get("runAsNonRoot") is True, where
        assert context.get("runAsUser", 1) != 0, where
        assert context.get("allowPrivilegeEscalation") is False, where
        assert "ALL" in context.get("capabilities", {}).get("drop", []), where
        assert context.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        if container.name in ours:
            assert context.get("readOnlyRootFilesystem") is True, where
            # Service links would add ABC_<SERVICE>_* variables (ABC_PURCHASE_PORT, ...)
            # beside the ABC_* settings the services read.
            assert container.pod.get("enableServiceLinks") is False, where
        assert container.pod.get("automountServiceAccountToken") is False, where
        resources = container.spec["resources"]
        for resource in ("cpu", "memory"):
            request = quantity(resources["requests"][resource])
            assert 0 < request <= quantity(resources["limits"][resource]), (where, resource)


@every_kustomization
def test_services_drain_within_the_termination_grace_period(directory: Path) -> None:
    for container in abc_containers(render(directory)):
        pre_stop = container.spec.get("lifecycle", {}).get("preStop")
        if container.workload["kind"] == "Deployment":
            # Behind a Service: wait for the endpoints to drop the pod before draining.
            assert pre_stop is not None, container.name
        sleep_s = 0
        if pre_stop is not None:
            sleep, seconds = pre_stop["exec"]["command"]
            assert sleep == "sleep", container.name
            sleep_s = int(seconds)
        grace = container.pod["terminationGracePeriodSeconds"]
        assert sleep_s + DRAIN_S + EXPORT_S <= grace, container.name


@every_kustomization
def test_services_and_budgets_select_exactly_their_workload(directory: Path) -> None:
    objects = render(directory)
    for service in of_kind(objects, "Service"):
        (workload,) = [w for w in workloads(objects)
                       if selects({"matchLabels": service["spec"]["selector"]}, pod_labels(w))]
        ports = [p for c in workload["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])]
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            assert any(target in (p.get("name"), p["containerPort"]) for p in ports), \
                (service["metadata"]["name"], target)
    for budget in of_kind(objects, "PodDisruptionBudget"):
        matching = [w for w in workloads(objects)
                    if selects(budget["spec"]["selector"], pod_labels(w))]
        assert len(matching) == 1, budget["metadata"]["name"]
        assert budget["spec"].get("maxUnavailable") == 1
    protected = {b["metadata"]["name"] for b in of_kind(objects, "PodDisruptionBudget")}
    assert {"abc-purchase", "abc-notify", "abc-recovery", "abc-gateway"} <= protected
