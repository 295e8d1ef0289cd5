"""A local Abc cluster of real processes, for ``abc up`` and ``abc demo``."""

from ._child import (
    Child,
    ClusterError,
    StartAborted,
    clean_env,
    free_port,
    http_serving,
    in_use,
    running,
    serving,
)
from ._cluster import Cluster, Layout
from ._nats_server import NatsServer, NatsServerError, nats_server_binary

__all__ = [
           "Child",
           "Cluster",
           "ClusterError",
           "Layout",
           "NatsServer",
           "NatsServerError",
           "StartAborted",
           "clean_env",
           "free_port",
           "http_serving",
           "in_use",
           "nats_server_binary",
           "running",
           "serving",
]
