"""The gateway dials purchase over TLS when it is given the CA to trust (``--tls-ca``,
``ABC_GATEWAY_TLS_CA``): against a purchase process serving TLS with a self-signed
certificate, a gateway trusting it serves pages, one dialling plaintext gets a 503 page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from services.gateway import GatewayConfig, create_app
from services.lab.cluster import Child, clean_env, free_port
from tests._support.processes import wait_logged
from tests._support.world import store_url
from tests.purchase.test_service_security import self_signed  # noqa: F401  (its fixture)

from ._system import GATEWAY_TOKEN, TOKENS
from ._testclient import TestClient


def test_the_gateway_dials_purchase_over_tls_with_the_ca_it_is_given(
    tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    cert, key = request.getfixturevalue("self_signed")
    target = f"localhost:{free_port()}"
    purchase = Child("purchase", [
        sys.executable, "-m", "services.cli", "serve", "purchase", "--listen",
        target.replace("localhost", "127.0.0.1"), "--store", store_url(tmp_path),
        "--tokens", TOKENS, "--tls-cert", str(cert), "--tls-key", str(key)],
        tmp_path / "purchase.log", None, clean_env())
    purchase.start()
    try:
        wait_logged(purchase.log, "listening on port", 20, purchase.process)
        for ca, status in ((cert.read_bytes(), 200), (None, 503)):
            app = create_app(GatewayConfig(purchase=target, notify=target, token=GATEWAY_TOKEN,
                                           tls_ca=ca))
            with TestClient(app, raise_server_exceptions=False) as client:
                answer = client.get("/")
                assert answer.status_code == status, answer.text
                if status == 200:
                    assert "No campaigns yet" in answer.text
    finally:
        purchase.stop()
