"""What of the cluster a Cilium CIDR rule or an ipBlock covers: the pod CIDR, pod IPs,
node IPs (Cilium matches none of them with a CIDR: Cilium semantics §4.2)."""

from __future__ import annotations

import ipaddress

from netpol.analysis.lint import LintContext
from netpol.analysis.lint_checks.cilium_grants import subnet
from netpol.analysis.lint_checks.common import workloads_text
from netpol.analysis.lint_checks.ipblocks import pods_in_block
from netpol.engine.selectors import matches
from netpol.model.cidr import parse_cidr_sloppy
from netpol.model.cilium import CIDRRule
from netpol.model.policy import IPBlock, IPNetwork
from netpol.model.wording import first_few


def networks_of(ctx: LintContext, rule: CIDRRule) -> list[IPNetwork]:
    """The prefixes a CIDR rule names: its own, or those of the CiliumCIDRGroups it picks."""
    if rule.cidr is not None:
        return [rule.cidr]
    groups = ctx.cluster.cidr_groups
    if rule.group_ref is not None:
        return [c for g in groups if g.name == rule.group_ref for c in g.cidrs]
    assert rule.group_selector is not None
    return [c for g in groups if matches(rule.group_selector, dict(g.labels)) for c in g.cidrs]


def excepted(address: IPNetwork, excepts: tuple[IPNetwork, ...]) -> bool:
    """Whether ``address`` (an address or the meeting of two prefixes) lies inside an except."""
    return any(subnet(address, x) for x in excepts)


def _inside(ip: str, network: IPNetwork, excepts: tuple[IPNetwork, ...]) -> bool:
    address = ipaddress.ip_network(ip)
    return subnet(address, network) and not excepted(address, excepts)


def in_cluster(ctx: LintContext, network: IPNetwork, excepts: tuple[IPNetwork, ...]) -> str:
    """What of the cluster a prefix (less its excepts) covers, in words; "" when nothing."""
    parts = []
    pod_cidr = parse_cidr_sloppy(ctx.cluster.pod_cidr)
    if pod_cidr is not None and pod_cidr.version == network.version and network.overlaps(pod_cidr):
        meeting = pod_cidr if pod_cidr.prefixlen >= network.prefixlen else network
        if not excepted(meeting, excepts):
            parts.append(f"the pod CIDR {ctx.cluster.pod_cidr}")
    block = IPBlock(str(network), network, except_networks=excepts)
    pods = pods_in_block(ctx, block)  # bisected, and kept per block
    if pods:
        parts.append(f"the IPs of {len(pods)} pod(s) ({workloads_text(pods)})")
    nodes = [
        n.name for n in ctx.cluster.nodes if any(_inside(ip, network, excepts) for ip in n.ips)
    ]
    if nodes:
        parts.append(f"node IPs ({first_few(nodes, 3)})")
    return " and ".join(parts)
