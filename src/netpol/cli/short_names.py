"""A short name two kinds claim: ``cnp`` is the Network Policy API's ClusterNetworkPolicy
and Cilium's CiliumNetworkPolicy.

kubectl resolves such a name by what the API server serves and warns that the other kind
could be meant; netpol resolves it by what the input holds (``get`` and ``describe``
share this). Cilium's other short name, ``ciliumnp``, and ``clusternetworkpolicies``
are never ambiguous.
"""

from __future__ import annotations

from netpol.model.cilium import CNP_KIND as CILIUM_CNP_KIND
from netpol.model.cluster import Cluster
from netpol.model.tiers import CNP_KIND

SHARED = "cnp"


def cnp_kind(cluster: Cluster, namespaced: bool = False) -> tuple[str, str | None]:
    """The kind ``cnp`` names in ``cluster``, and a warning when the other one exists too.

    A namespace given (``describe cnp NS/NAME``) means Cilium's: ClusterNetworkPolicy is
    cluster-scoped. Otherwise ClusterNetworkPolicy, the meaning ``cnp`` had first, unless
    the input holds CiliumNetworkPolicies and no ClusterNetworkPolicy."""
    if namespaced:
        return CILIUM_CNP_KIND, None
    cilium = any(p.kind == CILIUM_CNP_KIND for p in cluster.cilium_policies)
    admin = any(p.kind == CNP_KIND for p in cluster.tiered_policies)
    if cilium and not admin:
        return CILIUM_CNP_KIND, None
    warning = None
    if cilium:
        warning = (
            f'short name "{SHARED}" also names ciliumnetworkpolicies.cilium.io, and the input '
            "holds both kinds: clusternetworkpolicies taken; ciliumnp names Cilium's"
        )
    return CNP_KIND, warning
