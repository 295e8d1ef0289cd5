"""A gRPC health probe for a TLS port: exit 0 when grpc.health.v1 on this pod says SERVING.

Kubernetes' own gRPC probe dials plaintext only (TLS for it, ``grpc.mode: TLS``, is alpha in
1.37 behind the GRPCContainerProbeTLS feature gate), so the prod overlay runs this instead,
inside the service's container, with the image's Python and grpcio::

    python /etc/abc/probe/grpc_health_tls.py --port 50051 --server-name abc-purchase

It dials 127.0.0.1, trusts the CA beside the serving certificate (``ca.crt`` next to
``$ABC_TLS_CERT``, as cert-manager writes it) or, without one, the certificate itself (a
self-signed one), and requires the certificate to name ``--server-name``. Prints the status;
exit 0 on SERVING, 1 on anything else (NOT_SERVING while draining, no answer, bad TLS).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def trust_anchor(cert: Path) -> bytes:
    """The issuing CA if the Secret carries one, else the (self-signed) certificate."""
    ca = cert.with_name("ca.crt")
    return (ca if ca.is_file() else cert).read_bytes()


def health(port: int, server_name: str, roots: bytes, timeout_s: float) -> str:
    """The overall status name (SERVING, NOT_SERVING, ...) or why there is none."""
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    options = [("grpc.ssl_target_name_override", server_name)]
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials, options) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.RpcError as exc:
            code = exc.code().name if isinstance(exc, grpc.Call) else "ERROR"
            return f"no answer: {code}"
    status: str = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True, help="the service's gRPC port")
    parser.add_argument("--server-name", required=True,
                        help="a DNS name the certificate must carry, e.g. abc-purchase")
    parser.add_argument("--cert", type=Path, default=os.environ.get("ABC_TLS_CERT"),
                        help="the serving certificate (default: $ABC_TLS_CERT)")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    if args.cert is None:
        parser.error("no --cert and no ABC_TLS_CERT")
    try:
        roots = trust_anchor(args.cert)
    except OSError as exc:
        print(f"can't read the certificate: {exc}")
        return 1
    status = health(args.port, args.server_name, roots, args.timeout)
    print(status)
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
