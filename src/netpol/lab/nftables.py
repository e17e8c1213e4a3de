"""The engine's compiled policies as one ``inet`` nftables table for the node namespace.

Layout (the whole table is replaced in one transaction on every change):

* ``nat_prerouting``: Service VIPs and NodePorts, DNAT to a backend, like kube-proxy; so the
  filter below sees the backend pod and its target port, as the spec requires.
  ``nat_postrouting`` masquerades a pod that reached itself through its Service (hairpin).
* ``egress`` (forward, priority filter) and ``ingress`` (forward, priority filter + 10): both
  accept established/related first (policies are stateful), then jump through a verdict map
  keyed by pod IP to the pod's chain. Only isolated pods are in the maps; an ``accept`` in the
  egress chain ends that chain only, so the ingress chain still has its say.
* one chain per distinct rule list (pods with the same rules share it), one rule per
  (policy rule, peer set, connection set); peers and ports are named sets, deduplicated.
* ``deny``: reject, TCP reset or ICMP port unreachable, so a denied probe fails at once.

The rules come from ``CompiledCluster.applying`` and ``CompiledRule.connections_to``: the same
objects the verdict uses, never the YAML again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from netpol.engine.compile import CompiledCluster, CompiledRule
from netpol.engine.endpoints import NODE, Endpoint, endpoint_ips, node_endpoint
from netpol.engine.ports import MAX_PORT, MIN_PORT, ConnectionSet, merge_intervals
from netpol.lab.ranges import ALL_V4, Ranges, network_range, range_text, subtract
from netpol.lab.services import ServiceRoute
from netpol.lab.tier_chains import tiered_chain
from netpol.model.objects import Pod

TABLE = "netpol"


@dataclass(frozen=True, slots=True)
class LabPod:
    pod: Pod
    ip: str


@dataclass
class Ruleset:
    text: str
    rules: int
    chains: int
    sets: int


@dataclass
class RulesetBuilder:
    cc: CompiledCluster
    pods: Sequence[LabPod]
    ip_sets: dict[Ranges, str] = field(default_factory=dict)
    port_sets: dict[tuple[tuple[str, int, int], ...], str] = field(default_factory=dict)
    chains: dict[tuple[str, ...], str] = field(default_factory=dict)
    chain_bodies: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    _ranges_cache: dict[object, Ranges | None] = field(default_factory=dict)
    _endpoints: dict[str, Endpoint] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ip_of = {lp.pod.id: int(ipaddress.IPv4Address(lp.ip)) for lp in self.pods}
        self.pod_ranges = merge_intervals((v, v) for v in self.ip_of.values())
        self.pod_by_ip = {self.ip_of[lp.pod.id]: lp.pod for lp in self.pods}
        self.ipblock_matches_pods = self.cc.profile.ipblock_matches_pod_ips
        self.ipblock_matches_nodes = self.cc.profile.ipblock_matches_node_ips
        # what the engine takes for a node: node IPs, and hostNetwork pods where they are
        # node traffic; no lab packet comes from one, but a rule must still say the same
        self.node_addresses: list[tuple[Endpoint, Ranges]] = []
        nodes = [node_endpoint(n) for n in self.cc.cluster.nodes]
        nodes += [e for p in self.cc.cluster.pods if (e := self.cc.endpoint(p)).kind == NODE]
        for endpoint in nodes:
            ranges = merge_intervals(
                (int(ip), int(ip)) for ip in endpoint_ips(endpoint) if ip.version == 4
            )
            if ranges:
                self.node_addresses.append((endpoint, ranges))
        self.node_ranges = merge_intervals(r for _, ranges in self.node_addresses for r in ranges)
        # pods and nodes: every other address is outside the cluster (Cilium's world)
        self.cluster_ranges = merge_intervals([*self.pod_ranges, *self.node_ranges])

    # -- peers -------------------------------------------------------------------------

    def once(self, key: object, compute: Callable[[], Ranges | None]) -> Ranges | None:
        """``compute()``, once per ``key`` (a compiled rule) for the whole ruleset: a rule
        applies to many pods, its peers are the same addresses for each."""
        if key not in self._ranges_cache:
            self._ranges_cache[key] = compute()
        return self._ranges_cache[key]

    def endpoint(self, pod: Pod) -> Endpoint:
        """``pod`` as policy sees it, built once per ruleset."""
        found = self._endpoints.get(pod.id)
        if found is None:
            found = self._endpoints[pod.id] = self.cc.endpoint(pod)
        return found

    def peer_ranges(self, rule: CompiledRule) -> Ranges | None:
        """Every address the rule's peers match (None: any peer at all)."""
        return self.once(rule, lambda: None if rule.any_peer else self._peer_parts(rule))

    def _peer_parts(self, rule: CompiledRule) -> Ranges:
        parts: list[tuple[int, int]] = []
        for peer in rule.peers:
            block = peer.peer.ip_block
            if block is None:
                parts += [(v, v) for pid in peer.pod_ids if (v := self.ip_of.get(pid)) is not None]
                continue
            if block.network.version != 4:
                continue  # the lab is IPv4 only
            allowed: Ranges = (network_range(block.network),)
            holes = merge_intervals(
                network_range(x) for x in block.except_networks if x.version == 4
            )
            allowed = subtract(allowed, holes)
            if not self.ipblock_matches_pods:
                allowed = subtract(allowed, self.pod_ranges)
            if not self.ipblock_matches_nodes:
                allowed = subtract(allowed, self.node_ranges)
            parts += allowed
        return merge_intervals(parts)

    def pods_in(self, ranges: Ranges | None) -> list[Pod]:
        """Lab pods whose IP lies in ``ranges`` (None: all)."""
        if ranges is None:
            return [lp.pod for lp in self.pods]
        found = []
        for value, pod in self.pod_by_ip.items():
            if any(lo <= value <= hi for lo, hi in ranges):
                found.append(pod)
        return found

    # -- rule text ---------------------------------------------------------------------

    def addr_match(self, field_name: str, ranges: Ranges | None) -> str | None:
        """``ip daddr @ip_3``; "" for any address; None when nothing can match."""
        if ranges is None or ranges == ALL_V4:
            return ""
        if not ranges:
            return None
        if len(ranges) == 1:
            return f"ip {field_name} {range_text(*ranges[0])} "
        name = self.ip_sets.get(ranges)
        if name is None:
            name = self.ip_sets[ranges] = f"ip_{len(self.ip_sets)}"
        return f"ip {field_name} @{name} "

    def port_match(self, connections: ConnectionSet) -> str | None:
        """``meta l4proto . th dport @pp_2``; "" for everything; None for nothing."""
        if connections.is_all:
            return ""
        if connections.is_empty:
            return None
        elements = tuple((proto.lower(), lo, hi) for proto, lo, hi in connections)
        if len(elements) == 1:
            proto, lo, hi = elements[0]
            if (lo, hi) == (MIN_PORT, MAX_PORT):
                return f"meta l4proto {proto} "
            ports = str(lo) if lo == hi else f"{lo}-{hi}"
            return f"meta l4proto {proto} th dport {ports} "
        name = self.port_sets.get(elements)
        if name is None:
            name = self.port_sets[elements] = f"pp_{len(self.port_sets)}"
        return f"meta l4proto . th dport @{name} "

    def rule_line(
        self,
        field_name: str,
        ranges: Ranges | None,
        connections: ConnectionSet,
        verdict: str = "accept",
    ) -> str | None:
        addr = self.addr_match(field_name, ranges)
        ports = self.port_match(connections)
        if addr is None or ports is None:
            return None
        return f"{addr}{ports}{verdict}"

    def ingress_lines(self, pod: Pod) -> list[str]:
        lines: list[str] = []
        for compiled in self.cc.applying(pod, "Ingress"):
            for rule in compiled.rules("Ingress"):
                line = self.rule_line("saddr", self.peer_ranges(rule), rule.connections_to(pod))
                if line is not None:
                    lines.append(line)
        return lines

    def egress_lines(self, pod: Pod) -> list[str]:
        lines: list[str] = []
        for compiled in self.cc.applying(pod, "Egress"):
            for rule in compiled.rules("Egress"):
                lines += self.egress_rule_lines(rule)
        return lines

    def egress_rule_lines(self, rule: CompiledRule) -> list[str]:
        ranges = self.peer_ranges(rule)
        numeric = rule.connections_to(None)
        lines = []
        line = self.rule_line("daddr", ranges, numeric)
        if line is not None:
            lines.append(line)
        if rule.named:
            # Named ports resolve on each destination pod: group the pods the rule reaches by
            # what the names mean on them (numeric ports are already allowed above).
            groups: dict[ConnectionSet, list[int]] = {}
            for pod in self.pods_in(ranges):
                extra = rule.connections_to(pod) - numeric
                if not extra.is_empty:
                    groups.setdefault(extra, []).append(self.ip_of[pod.id])
            for extra, ips in groups.items():
                line = self.rule_line("daddr", merge_intervals((v, v) for v in ips), extra)
                if line is not None:
                    lines.append(line)
        return lines

    def chain_for(self, prefix: str, lines: list[str]) -> str:
        if not lines:
            return "deny"
        body = tuple(dict.fromkeys(lines))  # a rule repeated by two policies counts once
        name = self.chains.get(body)
        if name is None:
            name = self.chains[body] = f"{prefix}_{len(self.chains)}"
            self.chain_bodies.append((name, body))
        return name


def compile_ruleset(
    cc: CompiledCluster, pods: Sequence[LabPod], routes: Sequence[ServiceRoute], table: str = TABLE
) -> Ruleset:
    """The complete table for the lab's pods under ``cc``, ready for ``nft -f``."""
    b = RulesetBuilder(cc, pods)
    egress_map: list[str] = []
    ingress_map: list[str] = []
    for lp in pods:
        if cc.tiered is not None:
            for direction, entries in (("Egress", egress_map), ("Ingress", ingress_map)):
                name = tiered_chain(b, lp.pod, direction)
                if name is not None:
                    entries.append(f"{lp.ip} : goto {name}")
            continue
        if cc.isolated(lp.pod, "Egress"):
            egress_map.append(f"{lp.ip} : goto {b.chain_for('eg', b.egress_lines(lp.pod))}")
        if cc.isolated(lp.pod, "Ingress"):
            ingress_map.append(f"{lp.ip} : goto {b.chain_for('in', b.ingress_lines(lp.pod))}")

    out: list[str] = [
        f"table inet {table} {{}}",
        f"delete table inet {table}",
        f"table inet {table} {{",
    ]
    n_sets = 0

    def block(kind: str, name: str, header: Sequence[str], elements: Sequence[str]) -> None:
        nonlocal n_sets
        n_sets += 1
        out.append(f"  {kind} {name} {{")
        out.extend(f"    {h}" for h in header)
        if elements:
            out.append("    elements = {")
            for i in range(0, len(elements), 8):
                chunk = ", ".join(elements[i : i + 8])
                out.append(f"      {chunk},")
            out.append("    }")
        out.append("  }")

    for ranges, name in b.ip_sets.items():
        block(
            "set",
            name,
            ["type ipv4_addr", "flags interval"],
            [range_text(lo, hi) for lo, hi in ranges],
        )
    for port_elements, name in b.port_sets.items():
        block(
            "set",
            name,
            ["type inet_proto . inet_service", "flags interval"],
            [f"{p} . {lo}" if lo == hi else f"{p} . {lo}-{hi}" for p, lo, hi in port_elements],
        )
    block("set", "self", ["type ipv4_addr . ipv4_addr"], [f"{lp.ip} . {lp.ip}" for lp in pods])
    block("map", "egress_pods", ["type ipv4_addr : verdict"], egress_map)
    block("map", "ingress_pods", ["type ipv4_addr : verdict"], ingress_map)

    svc_elements: list[str] = []
    node_port_elements: list[str] = []
    svc_chains: list[tuple[str, str]] = []
    for route in routes:
        if not route.backends:
            continue  # no endpoints: the VIP is unrouted, so a client fails at once
        name = f"svc_{len(svc_chains)}"
        proto = route.protocol.lower()
        if len(route.backends) == 1:
            ip, port = route.backends[0]
            target = f"{ip}:{port}"
        else:
            mapping = ", ".join(
                f"{i} : {ip} . {port}" for i, (ip, port) in enumerate(route.backends)
            )
            target = f"numgen random mod {len(route.backends)} map {{ {mapping} }}"
        svc_chains.append((name, f"meta l4proto {proto} dnat ip to {target}"))
        if route.vip is not None:
            svc_elements.append(f"{route.vip} . {proto} . {route.port} : goto {name}")
        if route.node_port is not None:
            node_port_elements.append(f"{proto} . {route.node_port} : goto {name}")
    block("map", "services", ["type ipv4_addr . inet_proto . inet_service : verdict"], svc_elements)
    block("map", "node_ports", ["type inet_proto . inet_service : verdict"], node_port_elements)

    rules = 0

    def chain(name: str, lines: Sequence[str], base: str | None = None) -> None:
        nonlocal rules
        out.append(f"  chain {name} {{")
        if base:
            out.append(f"    {base}")
        out.extend(f"    {line}" for line in lines)
        out.append("  }")
        rules += len(lines)

    chain(
        "nat_prerouting",
        [
            "ip daddr . meta l4proto . th dport vmap @services",
            "fib daddr type local meta l4proto . th dport vmap @node_ports",
        ],
        "type nat hook prerouting priority dstnat; policy accept;",
    )
    chain(
        # A pod reaching its own Service (hairpin) gets the node's address as source, as
        # kube-proxy does, so its replies come back through the node and are un-NATed.
        "nat_postrouting",
        ["ct status dnat ip saddr . ip daddr @self masquerade"],
        "type nat hook postrouting priority srcnat; policy accept;",
    )
    for name, line in svc_chains:
        chain(name, [line])
    stateful = ["ct state established,related accept", "ip saddr . ip daddr @self accept"]
    chain(
        "egress",
        [*stateful, "ip saddr vmap @egress_pods"],
        "type filter hook forward priority filter; policy accept;",
    )
    chain(
        "ingress",
        [*stateful, "ip daddr vmap @ingress_pods"],
        "type filter hook forward priority filter + 10; policy accept;",
    )
    chain(
        "deny",
        [
            "meta l4proto tcp counter reject with tcp reset",
            "counter reject with icmpx type port-unreachable",
        ],
    )
    for name, body in b.chain_bodies:
        chain(name, [*body, "goto deny"])
    out.append("}")
    return Ruleset("\n".join(out) + "\n", rules, len(b.chain_bodies), n_sets)
