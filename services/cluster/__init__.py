"""A local Abc cluster of real processes, for ``abc up`` and ``abc demo``."""

from ._child import Child, ClusterError, Interrupted, clean_env, free_port, running, serving
from ._cluster import RECOVERY_PORT_BASE, Cluster, Layout, recovery_listen

__all__ = ["RECOVERY_PORT_BASE", "Child", "Cluster", "ClusterError", "Interrupted", "Layout",
           "clean_env", "free_port", "recovery_listen", "running", "serving"]
