"""The lint catalogue, one module per family of checks.

Each family module registers its checks when imported; they are imported below in
catalogue order, which is the order of docs/lint.md and of ``netpol lint --list``
(a family may import an earlier one for a helper, never a later one). Checks about
behaviour use the engine (selected pods, peer pod sets, connection sets, verdicts);
checks about writing use the policy model and its source lines.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

CATALOGUE_ORDER = (
    "peers",  # AND vs OR
    "dns",
    "policy_types",
    "selection",  # selectors that select nothing, namespace labels
    "ports",
    "ipblocks",
    "isolation",  # pods left open, namespaces without default-deny
    "redundancy",
    "flows",  # Services and one-sided flows
    "tiers",  # admin, baseline and Calico tiers
    "cilium",  # CiliumNetworkPolicy and NetworkPolicy under Cilium
)

FAMILIES: tuple[ModuleType, ...] = tuple(
    import_module(f"{__name__}.{name}") for name in CATALOGUE_ORDER
)
