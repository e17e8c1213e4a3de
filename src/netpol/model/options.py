"""Implementation-defined behaviour as named profiles, travelling in one frozen Options."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_POD_CIDR = "10.244.0.0/16"  # KIND's, like the tutorial's cluster


@dataclass(frozen=True, slots=True)
class Profile:
    """The knobs the spec leaves to implementations (spec 2.5, 2.6, 4.4)."""

    name: str
    description: str
    ipblock_matches_pod_ips: bool = True
    ipblock_matches_node_ips: bool = True
    pod_to_own_node: bool = True
    host_network_is_node: bool = True
    cilium_identity: bool = False
    honours_policy_types: bool = True

    def knobs(self) -> dict[str, bool]:
        return {
            "ipblock_matches_pod_ips": self.ipblock_matches_pod_ips,
            "ipblock_matches_node_ips": self.ipblock_matches_node_ips,
            "pod_to_own_node": self.pod_to_own_node,
            "host_network_is_node": self.host_network_is_node,
            "cilium_identity": self.cilium_identity,
            "honours_policy_types": self.honours_policy_types,
        }


KNOB_HELP = {
    "ipblock_matches_pod_ips": "an ipBlock peer matches pods whose IP it covers (spec 2.5, edge case 36)",
    "ipblock_matches_node_ips": "an ipBlock peer matches node IPs and hostNetwork pods (spec 2.5)",
    "pod_to_own_node": "a pod may always connect to its own node, even when egress-isolated (spec 2.6)",
    "host_network_is_node": "hostNetwork pods are node traffic: never isolated, never matched by selectors (spec 2.6)",
    "cilium_identity": "selectors see Cilium's identity labels (namespace, service account, cluster, "
    "namespace labels; no pod-template-hash), and CiliumNetworkPolicies are evaluated (Cilium spec 2.2, docs/cilium.md)",
    "honours_policy_types": "a NetworkPolicy's rules of a direction missing from its policyTypes "
    "are ignored (Cilium spec 8: Cilium <= 1.20.1 enforces them, cilium/cilium#48703)",
}

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("upstream", "what the upstream e2e tests expect (default)"),
        Profile(
            "calico",
            "Calico: ipBlock matches pod and node IPs (projectcalico/calico#6634); "
            "workload-to-host traffic goes through egress policy",
            pod_to_own_node=False,
        ),
        Profile(
            "cilium",
            "Cilium v1.20: ipBlock never matches pods, nor node IPs by default "
            "(cilium/cilium#9209); CiliumNetworkPolicies evaluated; picked automatically when "
            "the input holds Cilium policies",
            ipblock_matches_pod_ips=False,
            ipblock_matches_node_ips=False,
            pod_to_own_node=False,
            cilium_identity=True,
            honours_policy_types=False,
        ),
    )
}


MAX_INPUT_BYTES = 256 * 1024 * 1024  # real inputs are a few MB; a cap only stops runaways


@dataclass(frozen=True, slots=True)
class InputLimits:
    """How much input a command may read: every file, and all of them together, at most
    ``max_bytes``; symbolic links leaving the input directory are followed only if asked."""

    max_bytes: int = MAX_INPUT_BYTES
    follow_symlinks: bool = False


@dataclass(frozen=True, slots=True)
class Options:
    """Everything that changes a verdict or a load, passed down explicitly (no globals)."""

    profile: Profile = field(default_factory=lambda: PROFILES["upstream"])
    pod_cidr: str = DEFAULT_POD_CIDR
    nodes: int = 3
    default_namespace: str = "default"
    skip_invalid: bool = False
    input_limits: InputLimits = InputLimits()
    # model KIND's CoreDNS and kube-dns Service when the input has none (load/addons.py)
    implicit_dns: bool = True
    # --fqdn-map: DNS names -> addresses, for Cilium toFQDNs rules (None: unresolved)
    fqdn_map: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # False: Cilium allows with L7 parts are left out, to tell what only they allow
    cilium_l7: bool = True
    # True: an unresolved toFQDNs peer matches every world address, to tell which verdicts
    # depend on DNS (those that differ from the default, where it matches nothing)
    fqdn_as_world: bool = False
