"""The web gateway in every kustomization: its configuration as ``GatewayConfig`` reads it in
the pod (the services it dials are the Services in front of purchase and notify, over TLS in
prod with only the CA of abc-tls; its secrets come from the abc-gateway Secret), and the
Ingress that is the only way in."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.gateway import GatewayConfig

from ._kustomize import Manifest
from ._manifests import (
    GATEWAY,
    KUSTOMIZATIONS,
    OVERLAYS,
    Container,
    abc_containers,
    environment,
    kustomization_id,
    mounted_secret,
    named,
    of_kind,
    pod_labels,
    pod_spec,
    quantity,
    render,
    selects,
    served,
)

every_kustomization = pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=kustomization_id)
HOSTS = {"base": "abc.example.com", "overlays/dev": "abc.localtest.me",
         "overlays/prod": "abc.example.com"}
AD_IMAGE_BYTES = 262144  # the largest ad image (types.proto, Filler.image)
CA_PEM = b"-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n"


def _ca(tmp_path: Path) -> Path:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(CA_PEM)
    return ca


def _gateway(objects: list[Manifest]) -> Container:
    (container,) = [c for c in abc_containers(objects) if served(c) == GATEWAY]
    return container


def _gateway_config(objects: list[Manifest],
                    ca: Path | None = None) -> tuple[GatewayConfig, dict[str, str]]:
    """The config the gateway reads in its pod, and its environment; ``ca`` stands in for
    the CA file a Secret would mount."""
    env = environment(_gateway(objects), objects)
    stand_ins = {"<secret abc-gateway/token>": "a-gateway-token",
                 "<secret abc-gateway/session-secret>": "s" * 32}
    read = {k: stand_ins.get(v, v) for k, v in env.items()}
    if "ABC_GATEWAY_TLS_CA" in read:
        assert ca is not None, "the gateway dials TLS here: give the test a CA"
        read["ABC_GATEWAY_TLS_CA"] = str(ca)
    return GatewayConfig.from_env(read), env


def _served_by(objects: list[Manifest], address: str) -> tuple[str, int]:
    """The workload a ``service:port`` address of this namespace reaches, and its container
    port there."""
    host, _, port = address.rpartition(":")
    service = named(objects, "Service", host)["spec"]
    (target,) = [p.get("targetPort", p["port"]) for p in service["ports"]
                 if p["port"] == int(port)]
    (workload,) = [w for w in objects if w["kind"] in ("Deployment", "StatefulSet")
                   and selects({"matchLabels": service["selector"]}, pod_labels(w))]
    (container_port,) = [p["containerPort"] for c in pod_spec(workload)["containers"]
                         for p in c["ports"] if target in (p["name"], p["containerPort"])]
    return workload["metadata"]["name"], container_port


@every_kustomization
def test_the_gateway_dials_purchase_and_notify_through_their_services(
        directory: Path, tmp_path: Path) -> None:
    objects = render(directory)
    config, _ = _gateway_config(objects, _ca(tmp_path))
    assert _served_by(objects, config.purchase) == ("abc-purchase", 50051)
    assert _served_by(objects, config.notify) == ("abc-notify", 50052)
    assert config.listen == "0.0.0.0:8080"


@every_kustomization
def test_the_gateway_takes_its_token_and_session_secret_from_its_secret(
        directory: Path, tmp_path: Path) -> None:
    config, env = _gateway_config(render(directory), _ca(tmp_path))
    assert env["ABC_GATEWAY_TOKEN"] == "<secret abc-gateway/token>"
    # The per-client limits see the client's address that the ingress controller forwards.
    assert env["FORWARDED_ALLOW_IPS"] == "*"
    assert env["ABC_GATEWAY_SESSION_SECRET"] == "<secret abc-gateway/session-secret>"
    assert (config.token, config.session_secret) == ("a-gateway-token", "s" * 32)


@every_kustomization
def test_the_ingress_sends_its_host_to_the_gateway_and_lets_events_stream(
        directory: Path) -> None:
    objects = render(directory)
    (ingress,) = of_kind(objects, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == HOSTS[kustomization_id(directory)]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    backend = path["backend"]["service"]
    service = named(objects, "Service", backend["name"])
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == backend["port"]["name"]]
    assert _served_by(objects, f"{backend['name']}:{port['port']}") == ("abc-gateway", 8080)
    notes = ingress["metadata"]["annotations"]
    # Server-Sent Events: unbuffered, and an idle stream is not cut after nginx's 60 s.
    assert notes["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    # An ad image gets through (with its form's other fields); a 50 MB upload stops here.
    limit = quantity(notes["nginx.ingress.kubernetes.io/proxy-body-size"].replace("m", "Mi"))
    assert 2 * AD_IMAGE_BYTES <= limit <= 2**20


@pytest.mark.parametrize("directory", OVERLAYS, ids=kustomization_id)
def test_prod_serves_the_gateway_over_https_only(directory: Path) -> None:
    (ingress,) = of_kind(render(directory), "Ingress")
    tls = ingress["spec"].get("tls", [])
    if directory.name == "dev":
        assert tls == []  # http://abc.localtest.me on a throwaway cluster
        return
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert tls == [{"hosts": sorted(hosts), "secretName": "abc-gateway-tls"}]
    assert ingress["metadata"]["annotations"].get(
        "nginx.ingress.kubernetes.io/ssl-redirect", "true") == "true"


@pytest.mark.parametrize("directory", OVERLAYS, ids=kustomization_id)
def test_prod_dials_the_services_over_tls_holding_only_their_ca(
        directory: Path, tmp_path: Path) -> None:
    objects = render(directory)
    config, env = _gateway_config(objects, _ca(tmp_path))
    if directory.name == "dev":  # plaintext with tokens, http: cookies can't be Secure
        assert (config.tls_ca, config.secure_cookies) == (None, False)
        return
    assert (config.tls_ca, config.secure_cookies) == (CA_PEM, True)
    gateway = _gateway(objects)
    path = env["ABC_GATEWAY_TLS_CA"]
    assert mounted_secret(gateway, path) == "abc-tls"
    # Of that Secret, only the CA: not the services' certificate, never their private key.
    (volume,) = [v for v in gateway.pod["volumes"] if v.get("secret", {}).get("secretName")
                 == "abc-tls"]
    assert volume["secret"]["items"] == [{"key": "ca.crt", "path": path.rpartition("/")[2]}]
    # The names it dials are Services of this namespace the certificate must carry (README).
    assert {config.purchase.rpartition(":")[0], config.notify.rpartition(":")[0]} == \
        {"abc-purchase", "abc-notify"}
