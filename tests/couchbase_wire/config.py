"""The cluster map (``GET_CLUSTER_CONFIG``, 0xb5): the JSON the SDK needs to route KV ops.

The C++ core under the Python SDK (couchbase-cxx-client ``core/topology/configuration_json.hxx``)
reads: ``rev``/``revEpoch`` (it keeps the newest), ``nodesExt[i].services.kv`` (the KV port of
node ``i``; ``hostname``, ``thisNode``), ``name`` (the bucket), ``nodeLocator`` and
``vBucketServerMap.vBucketMap`` (vbucket -> ``[active node index, replicas...]``),
``bucketCapabilities``. This server is one node owning every vbucket of one bucket.

What each piece does for the SDK 4.6.3 (C++ core 1.3.2), shown by ``test_config.py``:

- without ``nodesExt`` the core falls back to the pre-5.0 ``nodes`` list, finds none, and the
  process aborts;
- a node without ``services.kv`` makes the process crash (SIGSEGV) when it routes a KV op;
- without ``vBucketServerMap.vBucketMap`` no key maps to a node: every KV op times out.

The cluster-level connection (no bucket selected yet) gets the same map without the bucket
parts (``name``, ``vBucketServerMap``), as a real node's "global" config (GCCCP).
"""

from __future__ import annotations

import enum
import json
from typing import Any

VBUCKETS = 64  # a real bucket has 1024 (128 on macOS); any count works for the client


class ConfigVariant(enum.Enum):
    """The good map, and broken ones for the config-shape test."""

    GOOD = "good"
    NO_NODES_EXT = "no_nodes_ext"  # no nodesExt (and no legacy "nodes" list either)
    NO_KV_SERVICE = "no_kv_service"  # nodesExt[0].services without "kv"
    NO_VBUCKET_MAP = "no_vbucket_map"  # vBucketServerMap without vBucketMap


def cluster_config(host: str, port: int, bucket: str | None,
                   variant: ConfigVariant = ConfigVariant.GOOD, rev: int = 1) -> bytes:
    """The map for a connection; ``bucket`` None for the cluster-level (bucket-less) one."""
    services: dict[str, int] = {"kv": port}
    if variant is ConfigVariant.NO_KV_SERVICE:
        services = {"mgmt": 8091}
    config: dict[str, Any] = {"rev": rev, "revEpoch": 1}
    if variant is not ConfigVariant.NO_NODES_EXT:
        config["nodesExt"] = [{"services": services, "hostname": host, "thisNode": True}]
    if bucket is not None:
        server_map: dict[str, Any] = {
            "hashAlgorithm": "CRC",
            "numReplicas": 0,
            "serverList": [f"{host}:{port}"],
        }
        if variant is not ConfigVariant.NO_VBUCKET_MAP:
            server_map["vBucketMap"] = [[0] for _ in range(VBUCKETS)]
        config.update({
            "name": bucket,
            "uuid": "0123456789abcdef0123456789abcdef",
            "nodeLocator": "vbucket",
            "bucketCapabilities": ["couchapi", "collections", "durableWrite", "nodesExt",
                                   "cccp", "xattr"],
            "vBucketServerMap": server_map,
        })
    return json.dumps(config).encode()


ERROR_MAP = json.dumps({"version": 1, "revision": 1, "errors": {}}).encode()
"""GET_ERROR_MAP (0xfe): an empty map is enough: the client then uses its built-in handling
of every status (the map only adds attributes for codes it does not know)."""
