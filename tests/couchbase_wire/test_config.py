"""The cluster map's shape: what the SDK (4.6.3, C++ core 1.3.2) needs in GET_CLUSTER_CONFIG.

Each case runs the real SDK in a subprocess (``_sdk_probe.py``) against a server serving one
variant of the map, because two of the broken maps kill the SDK's process (an abort, a
segfault) and would take pytest with them. Every subprocess is bounded by ``PROBE_TIMEOUT_S``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .config import ConfigVariant, cluster_config
from .server import WireServer

PROBE = Path(__file__).with_name("_sdk_probe.py")
PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Probe:
    returncode: int
    stdout: list[str]
    stderr: str

    @property
    def opened(self) -> bool:
        return "opened" in self.stdout

    @property
    def result(self) -> dict[str, object] | None:
        for line in self.stdout:
            if line.startswith("{"):
                value: dict[str, object] = json.loads(line)
                return value
        return None


def run_probe(variant: ConfigVariant) -> tuple[Probe, WireServer]:
    with WireServer(config_variant=variant) as server:
        done = subprocess.run([sys.executable, str(PROBE), server.url],
                              env={**os.environ, **server.env},
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
                              check=False)
    return Probe(done.returncode, done.stdout.splitlines(), done.stderr), server


def test_the_good_map_works() -> None:
    probe, server = run_probe(ConfigVariant.GOOD)
    assert probe.returncode == 0, probe
    assert probe.result == {"ok": True}
    assert server.document("probe") is not None


def test_without_nodes_ext_the_sdk_process_aborts() -> None:
    probe, _ = run_probe(ConfigVariant.NO_NODES_EXT)
    # the core falls back to the legacy "nodes" list, which is not there either: an uncaught
    # std::out_of_range, std::terminate, SIGABRT -- while opening
    assert probe.returncode == -signal.SIGABRT, probe
    assert not probe.opened
    assert 'key "nodes" not found' in probe.stderr


def test_without_a_kv_port_the_sdk_process_crashes() -> None:
    probe, _ = run_probe(ConfigVariant.NO_KV_SERVICE)
    assert probe.returncode == -signal.SIGSEGV, probe
    assert not probe.opened


def test_without_a_vbucket_map_every_operation_times_out() -> None:
    probe, server = run_probe(ConfigVariant.NO_VBUCKET_MAP)
    assert probe.returncode == 3, probe
    assert probe.opened
    assert probe.result is not None
    assert probe.result["stage"] == "kv"
    assert "UnAmbiguousTimeoutException" in str(probe.result["error"])
    assert server.document("probe") is None  # the upsert never left the client
    assert not server.writes


@pytest.mark.parametrize("variant", list(ConfigVariant))
def test_the_variants_differ_from_the_good_map_only_where_named(variant: ConfigVariant) -> None:
    good = json.loads(cluster_config("127.0.0.1", 1234, "b"))
    other = json.loads(cluster_config("127.0.0.1", 1234, "b", variant))
    if variant is ConfigVariant.NO_NODES_EXT:
        assert "nodesExt" not in other and "nodes" not in other
        other["nodesExt"] = good["nodesExt"]
    elif variant is ConfigVariant.NO_KV_SERVICE:
        assert "kv" not in other["nodesExt"][0]["services"]
        other["nodesExt"][0]["services"] = good["nodesExt"][0]["services"]
    elif variant is ConfigVariant.NO_VBUCKET_MAP:
        assert "vBucketMap" not in other["vBucketServerMap"]
        other["vBucketServerMap"]["vBucketMap"] = good["vBucketServerMap"]["vBucketMap"]
    assert other == good


def test_the_cluster_level_map_has_no_bucket() -> None:
    config = json.loads(cluster_config("127.0.0.1", 1234, None))
    assert config["nodesExt"] == [{"services": {"kv": 1234}, "hostname": "127.0.0.1",
                                   "thisNode": True}]
    assert "name" not in config and "vBucketServerMap" not in config
