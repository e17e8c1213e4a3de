"""Policies with ordered rules and actions, evaluated tier by tier (spec section 6).

AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy and Calico's
NetworkPolicy/GlobalNetworkPolicy all reduce to one shape: a policy in a tier, with an
order, a subject, and per direction a list of rules whose first match decides (Allow,
Deny, Pass to the next tier, or Log and go on). Kubernetes NetworkPolicies sit in the
``default`` tier at order 1000, where Calico puts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netpol.model.expressions import CalicoSelector
from netpol.model.policy import IPNetwork, PolicyPort
from netpol.model.selectors import LabelSelector
from netpol.model.source import GENERATED, Source

ALLOW, DENY, PASS, LOG = "Allow", "Deny", "Pass", "Log"
ACTIONS = (ALLOW, DENY, PASS, LOG)

ANP_KIND = "AdminNetworkPolicy"
BANP_KIND = "BaselineAdminNetworkPolicy"
CNP_KIND = "ClusterNetworkPolicy"
CALICO_NP_KIND = "NetworkPolicy"  # projectcalico.org/v3
CALICO_GNP_KIND = "GlobalNetworkPolicy"
CILIUM_NP_KIND = "CiliumNetworkPolicy"  # model.cilium's CNP_KIND, kept here for the id

# what an endpoint match may cover: pods (never hostNetwork pods), nodes (node IPs and
# hostNetwork pods), anything; and for Cilium: world (addresses outside the cluster's pods
# and nodes), cluster (pods and nodes) and nothing (an entity or peer netpol cannot resolve)
PODS, NODES, ANY = "pods", "nodes", "any"
WORLD, CLUSTER, NOTHING = "world", "cluster", "nothing"

# a named port whose protocol comes from the container port (ANP namedPort, CNP
# destinationNamedPort): the name is resolved under every protocol
ANY_PROTOCOL = ""

Selector = LabelSelector | CalicoSelector


@dataclass(frozen=True, slots=True)
class EndpointMatch:
    """Which endpoints a subject or a peer covers: every field that is set must hold.

    ``scope`` says what can match at all: ``pods`` (never hostNetwork pods), ``nodes``
    (node IPs and hostNetwork pods, by node labels) or ``any`` (pods, nodes and external
    IPs, as a ``networks`` peer or a Calico ``nets`` entity).
    """

    scope: str = PODS
    namespace: str | None = None  # a namespaced Calico policy's selectors stay in its namespace
    namespaces: Selector | None = None  # over namespace labels
    pods: Selector | None = None  # over pod labels
    not_pods: Selector | None = None  # Calico notSelector
    service_account_names: tuple[str, ...] = ()  # Calico serviceAccounts.names
    service_accounts: Selector | None = None  # over ServiceAccount labels
    nodes: Selector | None = None  # over node labels (scope nodes)
    nets: tuple[IPNetwork, ...] = ()  # some address inside one of them
    not_nets: tuple[IPNetwork, ...] = ()  # no address inside any of them
    ip_version: int | None = None  # Calico ipVersion: addresses of this family only
    nets_text: tuple[str, ...] = field(default=(), compare=False)  # as written
    not_nets_text: tuple[str, ...] = field(default=(), compare=False)
    # on this node / on any other node: Cilium's host and remote-node, relative to the
    # subject pod, and the subject side of a rule expanded per node
    node_name: str | None = None
    not_node_name: str | None = None
    shown: str = field(default="", compare=False)  # how a Cilium peer is written
    why_nothing: str = ""  # scope NOTHING: why it matches no endpoint of the model

    def text(self) -> str:
        """``namespaces kubernetes.io/metadata.name=kube-system AND pods k8s-app=kube-dns``."""
        if self.shown:
            return self.shown
        parts = []
        if self.namespace is not None:
            parts.append(f"namespace {self.namespace}")
        if self.namespaces is not None:
            parts.append(f"namespaces {self.namespaces.text()}")
        if self.pods is not None:
            parts.append(f"pods {self.pods.text()}")
        if self.not_pods is not None:
            parts.append(f"not pods {self.not_pods.text()}")
        if self.service_account_names:
            parts.append(f"serviceAccounts {','.join(self.service_account_names)}")
        if self.service_accounts is not None:
            parts.append(f"serviceAccounts {self.service_accounts.text()}")
        if self.nodes is not None:
            parts.append(f"nodes {self.nodes.text()}")
        if self.nets:
            parts.append(f"networks {', '.join(self.nets_shown)}")
        if self.not_nets:
            parts.append(f"not networks {', '.join(self.not_nets_shown)}")
        if self.ip_version is not None:
            parts.append(f"IPv{self.ip_version}")
        if self.node_name is not None:
            parts.append(f"on node {self.node_name}")
        if self.not_node_name is not None:
            parts.append(f"not on node {self.not_node_name}")
        if not parts:
            return "everything" if self.scope == ANY else f"all {self.scope}"
        return " AND ".join(parts)

    @property
    def nets_shown(self) -> tuple[str, ...]:
        """``nets`` as written (as parsed when built without the text)."""
        return self.nets_text or tuple(map(str, self.nets))

    @property
    def not_nets_shown(self) -> tuple[str, ...]:
        return self.not_nets_text or tuple(map(str, self.not_nets))

    @property
    def uses_service_accounts(self) -> bool:
        return bool(self.service_account_names) or self.service_accounts is not None

    def selectors(self) -> tuple[Selector, ...]:
        """Selectors over pod labels (what endpoint classes must tell apart)."""
        return tuple(s for s in (self.pods, self.not_pods) if s is not None)

    def networks(self) -> tuple[IPNetwork, ...]:
        return self.nets + self.not_nets


EVERY_ENDPOINT = EndpointMatch(scope=ANY)


@dataclass(frozen=True, slots=True)
class TierRule:
    """One rule: the first rule (in tier, policy and written order) that matches decides.

    ``peers`` are ORed (empty: every endpoint); ``local`` narrows the subject side
    (Calico's ``destination`` of an ingress rule, ``source`` of an egress rule).
    ``protocols`` None means every protocol; ``ports`` empty means every port of them.
    ``unmatchable`` says why the rule can never match in netpol's model (ICMP only, a
    source-port or HTTP match), so explanations can say so instead of staying silent.
    """

    index: int
    action: str
    name: str = ""
    peers: tuple[EndpointMatch, ...] = ()
    ports: tuple[PolicyPort, ...] = ()
    not_ports: tuple[PolicyPort, ...] = ()
    protocols: tuple[str, ...] | None = None
    local: EndpointMatch | None = None
    unmatchable: str = ""
    source: Source = GENERATED
    section: str = ""  # where a Cilium rule is written: "ingressDeny", "specs[1].egress"
    note: str = ""  # what an allow leaves to others: "L7-filtered (http)"

    @property
    def any_peer(self) -> bool:
        return not self.peers

    def text(self) -> str:
        """``Allow to pods k8s-app=kube-dns on 53/UDP``: how lint and explain quote a rule."""
        verb = self.action
        parts = [verb]
        if self.peers:
            parts.append(" OR ".join(p.text() for p in self.peers))
        if self.ports:
            parts.append("on " + ", ".join(p.text() for p in self.ports))
        elif self.protocols is not None:
            parts.append("on " + (", ".join(self.protocols) or "no TCP/UDP/SCTP"))
        if self.not_ports:
            parts.append("except " + ", ".join(p.text() for p in self.not_ports))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class TieredPolicy:
    """An admin, baseline or Calico policy, already defaulted."""

    kind: str
    api_version: str
    name: str
    namespace: str | None  # None: cluster-scoped
    tier: str
    order: float | None  # priority (ANP, CNP) or order (Calico); None sorts last
    subject: EndpointMatch
    types: tuple[str, ...]  # the directions the policy applies to
    ingress: tuple[TierRule, ...] = ()
    egress: tuple[TierRule, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    source: Source = GENERATED
    # the directions in which selecting a pod puts it in default deny (None: every type);
    # a Cilium rule with enableDefaultDeny false, or netpol's allow-localhost, selects
    # without isolating
    isolates: tuple[str, ...] | None = None

    @property
    def id(self) -> str:
        """``AdminNetworkPolicy/allow-dns``, ``GlobalNetworkPolicy/deny-all``, for a
        namespaced Calico policy ``NetworkPolicy.projectcalico.org/app1-ns/allow``, for a
        CNP ``CiliumNetworkPolicy/app1-ns/deny``."""
        if self.namespace is None:
            return f"{self.kind}/{self.name}"
        if self.kind == CILIUM_NP_KIND:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}.projectcalico.org/{self.namespace}/{self.name}"

    @property
    def label(self) -> str:
        """How a decision chain names it: ``AdminNetworkPolicy allow-dns``."""
        if self.namespace is None:
            return f"{self.kind} {self.name}"
        if self.kind == CILIUM_NP_KIND:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"Calico NetworkPolicy {self.namespace}/{self.name}"

    def isolating(self, direction: str) -> bool:
        """Whether selecting a pod puts its ``direction`` in default deny."""
        isolates = self.types if self.isolates is None else self.isolates
        return direction in isolates

    @property
    def sort_key(self) -> tuple[bool, float, str]:
        return (self.order is None, self.order or 0.0, self.name)

    def rules(self, direction: str) -> tuple[TierRule, ...]:
        if direction not in self.types:
            return ()
        return self.ingress if direction == "Ingress" else self.egress


@dataclass(frozen=True, slots=True)
class Tier:
    """A Calico tier: policies in order; ``default_action`` ends it for selected endpoints."""

    name: str
    order: float | None
    default_action: str  # DENY or PASS
    source: Source = GENERATED

    @property
    def sort_key(self) -> tuple[bool, float, str]:
        return (self.order is None, self.order or 0.0, self.name)


# Where Calico (v3.30+) evaluates the Network Policy API and Kubernetes NetworkPolicy.
ADMIN_TIER = Tier("kube-admin", 1_000, PASS)
DEFAULT_TIER = Tier("default", 1_000_000, DENY)
BASELINE_TIER = Tier("kube-baseline", 10_000_000, PASS)
BUILTIN_TIERS = (ADMIN_TIER, DEFAULT_TIER, BASELINE_TIER)
NETWORK_POLICY_ORDER = 1000.0  # Calico's order for converted Kubernetes NetworkPolicies


def order_number(value: float) -> int | float:
    """A tier or policy order as written: 1000, not 1000.0 (nor 1e+06 for 1000000)."""
    return int(value) if float(value).is_integer() else value
