"""Live clusters, read-only, through the official ``kubernetes`` client (imported lazily).

``read_cluster`` lists what netpol models (Namespaces, Nodes, Pods, Services,
NetworkPolicies, the tiered kinds and Cilium's policies where served, and DaemonSets for CNI detection) with get
and list only; ``documents``
turns the result into the same RawDocuments the file loader makes, so validation and
``build_cluster`` are reused unchanged. Every failure is a ``LiveError`` with one line.
"""

from __future__ import annotations

from netpol.load.live.client import Connection, LiveError, LiveTarget, connect
from netpol.load.live.reader import LiveCluster, Progress, read_cluster

__all__ = [
    "Connection",
    "LiveCluster",
    "LiveError",
    "LiveTarget",
    "Progress",
    "connect",
    "read_cluster",
]
