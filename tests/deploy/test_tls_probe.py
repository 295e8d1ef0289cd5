"""The prod overlay's exec probe (overlays/prod/grpc_health_tls.py) against a real
``abc serve purchase`` serving TLS on loopback, with certificates made by the openssl CLI:
self-signed, and issued by a CA as cert-manager issues them (ca.crt beside tls.crt)."""

from __future__ import annotations

import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.lab.cluster import clean_env

from ._manifests import K8S, REPO, grpc_services, named, render

PROD = K8S / "overlays" / "prod"
SCRIPT = PROD / "grpc_health_tls.py"
NAME = "abc-purchase"


def openssl(*args: str) -> None:
    tool = shutil.which("openssl")
    if tool is None:
        pytest.skip("openssl CLI not found: can't make a test certificate")
    subprocess.run([tool, *args], check=True, capture_output=True, timeout=60)


def key_and_request(folder: Path, stem: str, subject: str) -> list[str]:
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(folder / f"{stem}.key"), "-subj", subject]


def self_signed(folder: Path) -> None:
    openssl("req", "-x509", "-days", "1", *key_and_request(folder, "tls", f"/CN={NAME}"),
            "-addext", f"subjectAltName=DNS:{NAME}", "-out", str(folder / "tls.crt"))


def ca_issued(folder: Path) -> None:
    openssl("req", "-x509", "-days", "1", *key_and_request(folder, "ca", "/CN=abc test CA"),
            "-out", str(folder / "ca.crt"))
    openssl("req", "-new", *key_and_request(folder, "tls", f"/CN={NAME}"),
            "-out", str(folder / "tls.csr"))
    (folder / "san.ext").write_text(f"subjectAltName=DNS:{NAME}\n")
    openssl("x509", "-req", "-days", "1", "-in", str(folder / "tls.csr"),
            "-CA", str(folder / "ca.crt"), "-CAkey", str(folder / "ca.key"),
            "-CAcreateserial", "-extfile", str(folder / "san.ext"),
            "-out", str(folder / "tls.crt"))


def read_port(process: subprocess.Popen[str], timeout_s: float = 30) -> int:
    """The port from the service's "abc-purchase listening on port N" line."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = process.stdout.readline()
                if not line:
                    break
                if "listening on port" in line:
                    return int(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no port from abc serve (exit {process.poll()})")


@pytest.fixture(scope="module", params=["self-signed", "ca-issued"])
def tls_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as the abc-tls Secret is mounted: tls.crt, tls.key[, ca.crt]."""
    folder = tmp_path_factory.mktemp(request.param)
    (self_signed if request.param == "self-signed" else ca_issued)(folder)
    return folder


@pytest.fixture(scope="module")
def tls_port(tls_dir: Path) -> Iterator[int]:
    """``abc serve purchase`` on a free loopback port, serving TLS with ``tls_dir``'s pair."""
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "purchase", "--store", "memory://",
         "--listen", "127.0.0.1:0", "--tls-cert", str(tls_dir / "tls.crt"),
         "--tls-key", str(tls_dir / "tls.key")],
        cwd=REPO, env=clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    try:
        yield read_port(process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()


def probe(port: int, server_name: str, tls_dir: Path) -> subprocess.CompletedProcess[str]:
    """The probe as the pod runs it: ABC_TLS_CERT from the ConfigMap, no --cert."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--port", str(port), "--server-name", server_name],
        env=clean_env({"ABC_TLS_CERT": str(tls_dir / "tls.crt")}), capture_output=True, text=True,
        timeout=30, check=False)


def test_serving_over_tls_passes(tls_port: int, tls_dir: Path) -> None:
    done = probe(tls_port, NAME, tls_dir)
    assert (done.returncode, done.stdout.strip()) == (0, "SERVING"), done.stderr


def test_a_name_the_certificate_does_not_carry_fails(tls_port: int, tls_dir: Path) -> None:
    done = probe(tls_port, "abc-elsewhere", tls_dir)
    assert done.returncode == 1 and done.stdout.startswith("no answer"), done.stdout


def test_nothing_listening_fails(tmp_path: Path) -> None:
    self_signed(tmp_path)
    # Port 1 on loopback: nothing of ours listens there.
    done = probe(1, NAME, tmp_path)
    assert done.returncode == 1 and done.stdout.startswith("no answer"), done.stdout


def test_prod_probes_run_this_script_from_its_config_map() -> None:
    objects = render(PROD)
    shipped = named(objects, "ConfigMap", "abc-tls-probe")["data"]
    assert shipped == {SCRIPT.name: SCRIPT.read_text()}
    for container in grpc_services(objects):
        volumes = {v["name"]: v for v in container.pod["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container.spec["volumeMounts"]}
        for kind in ("readinessProbe", "livenessProbe"):
            python, path, *_ = container.spec[kind]["exec"]["command"]
            folder, _, file = path.rpartition("/")
            assert python == "python" and file == SCRIPT.name, container.name
            assert mounts[folder]["configMap"]["name"] == "abc-tls-probe", container.name
