"""Which CNI a cluster runs, whether it enforces NetworkPolicy, and the profile to assume.

The evidence is the node agents: DaemonSets (and the pods they own) in kube-system or the
CNI's own namespace. A cluster may run two (AWS VPC CNI with Calico for policy, flannel
with Calico as canal): the one that enforces NetworkPolicy decides the verdicts, so it is
the one reported first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from netpol.model.cluster import Cluster
from netpol.model.objects import Container

# kindnetd gained a NetworkPolicy controller (sigs.k8s.io/kube-network-policies) in the
# images KIND v0.24 ships, tagged from v20240813 on; older kindnetd ignores policies.
KINDNET_POLICY_SINCE = 20240813


@dataclass(frozen=True, slots=True)
class Agent:
    """One node agent: a DaemonSet, or the DaemonSet owner of pods, with what it runs."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    containers: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, image, command + args)

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(c[1] for c in self.containers)

    @property
    def evidence(self) -> str:
        images = ", ".join(self.images) or "no image"
        return f"DaemonSet {self.namespace}/{self.name} ({images})"


@dataclass(frozen=True, slots=True)
class CniFinding:
    """A CNI found on the cluster and what it means for NetworkPolicy."""

    name: str  # short id: calico, cilium, kindnet, ...
    title: str  # what to call it: "Calico", "kindnet (KIND)"
    enforces: bool | None  # None: cannot tell
    profile: str  # the netpol profile matching its behaviour
    reason: str  # why it does or does not enforce
    evidence: str  # the DaemonSet it was recognised by


UNKNOWN = CniFinding(
    "unknown",
    "unknown CNI",
    None,
    "upstream",
    "no known CNI agent (DaemonSet) was found in the cluster; managed clusters may hide it",
    "",
)


@dataclass(frozen=True, slots=True)
class CniReport:
    """Every CNI found; ``primary`` is the one whose NetworkPolicy behaviour applies."""

    findings: tuple[CniFinding, ...]

    @property
    def primary(self) -> CniFinding:
        enforcing = [f for f in self.findings if f.enforces]
        return (enforcing or list(self.findings) or [UNKNOWN])[0]

    @property
    def summary(self) -> str:
        """``Calico`` or ``Calico (with AWS VPC CNI)``."""
        others = [f.title for f in self.findings if f is not self.primary]
        title = self.primary.title
        return f"{title} (with {', '.join(others)})" if others else title


@dataclass(frozen=True, slots=True)
class _Signature:
    name: str
    title: str
    daemonsets: tuple[str, ...]
    image: str  # a substring of the agent's image
    profile: str
    judge: Callable[[Agent], tuple[bool | None, str]]


def _always(reason: str) -> Callable[[Agent], tuple[bool | None, str]]:
    return lambda agent: (True, reason)


def _never(reason: str) -> Callable[[Agent], tuple[bool | None, str]]:
    return lambda agent: (False, reason)


def _kindnet(agent: Agent) -> tuple[bool | None, str]:
    for image in agent.images:
        found = re.search(r"kindnetd:v(\d{8})", image)
        if found:
            date = int(found.group(1))
            if date >= KINDNET_POLICY_SINCE:
                return True, (
                    f"kindnetd v{date} (KIND v0.24 or later) enforces NetworkPolicy "
                    "through kube-network-policies"
                )
            return False, (
                f"kindnetd v{date} (before KIND v0.24) has no NetworkPolicy controller: "
                "policies are accepted by the API server and then ignored"
            )
    return None, "kindnetd of an unknown version: images from v20240813 on enforce, older ones not"


def _aws_node(agent: Agent) -> tuple[bool | None, str]:
    args = [a for _, _, argv in agent.containers for a in argv]
    if "--enable-network-policy=true" in args:
        return True, "the VPC CNI's network policy agent runs with --enable-network-policy=true"
    return False, (
        "the VPC CNI enforces NetworkPolicy only when its network policy agent runs with "
        "--enable-network-policy=true (it does not here)"
    )


def _kube_router(agent: Agent) -> tuple[bool | None, str]:
    args = [a for _, _, argv in agent.containers for a in argv]
    if "--run-firewall=false" in args:
        return False, "kube-router runs with --run-firewall=false: its policy controller is off"
    return True, "kube-router's network policy controller (--run-firewall) enforces policies"


def _weave(agent: Agent) -> tuple[bool | None, str]:
    if any(name == "weave-npc" for name, _, _ in agent.containers):
        return True, "weave-npc, Weave Net's policy controller, enforces NetworkPolicy"
    return False, "Weave Net without its weave-npc container does not enforce NetworkPolicy"


SIGNATURES = (
    _Signature(
        "cilium",
        "Cilium",
        ("cilium",),
        "cilium/cilium",
        "cilium",
        _always("Cilium enforces NetworkPolicy (eBPF); ipBlock never matches pods"),
    ),
    _Signature(
        "gke-dataplane-v2",
        "GKE Dataplane V2 (Cilium)",
        ("anetd",),
        "/anetd",
        "cilium",
        _always("GKE Dataplane V2 is Cilium and enforces NetworkPolicy"),
    ),
    _Signature(
        "canal",
        "Canal (flannel with Calico policy)",
        ("canal",),
        "",
        "calico",
        _always("Canal runs Calico's Felix, which enforces NetworkPolicy"),
    ),
    _Signature(
        "calico",
        "Calico",
        ("calico-node",),
        "calico/node",
        "calico",
        _always("Calico's Felix enforces NetworkPolicy on every node"),
    ),
    _Signature(
        "antrea",
        "Antrea",
        ("antrea-agent",),
        "antrea/antrea",
        "upstream",
        _always("Antrea enforces NetworkPolicy (Open vSwitch)"),
    ),
    _Signature(
        "kube-router", "kube-router", ("kube-router",), "kube-router", "upstream", _kube_router
    ),
    _Signature("weave", "Weave Net", ("weave-net",), "weave-kube", "upstream", _weave),
    _Signature(
        "ovn-kubernetes",
        "OVN-Kubernetes",
        ("ovnkube-node",),
        "ovn-kubernetes",
        "upstream",
        _always("OVN-Kubernetes enforces NetworkPolicy as OVN ACLs"),
    ),
    _Signature(
        "azure-npm",
        "Azure Network Policy Manager",
        ("azure-npm",),
        "azure-npm",
        "upstream",
        _always("Azure NPM enforces NetworkPolicy with iptables/ipsets"),
    ),
    _Signature(
        "kube-network-policies",
        "kube-network-policies",
        ("kube-network-policies",),
        "kube-network-policies",
        "upstream",
        _always("kube-network-policies enforces NetworkPolicy with nftables"),
    ),
    _Signature(
        "aws-vpc-cni", "AWS VPC CNI", ("aws-node",), "amazon-k8s-cni", "upstream", _aws_node
    ),
    _Signature(
        "flannel",
        "flannel",
        ("kube-flannel-ds", "kube-flannel"),
        "flannel/flannel",
        "upstream",
        _never("flannel only connects pods; it has no NetworkPolicy controller"),
    ),
    _Signature("kindnet", "kindnet (KIND)", ("kindnet",), "kindnetd", "upstream", _kindnet),
)


def detect_cni(
    daemonsets: Iterable[Mapping[str, Any]], pods: Iterable[Mapping[str, Any]]
) -> CniReport:
    """The CNIs whose agents appear among ``daemonsets`` and DaemonSet-owned ``pods``.

    Both are API objects (dicts) as ``kubectl get -o json`` prints them; pods alone suffice,
    so a snapshot (which keeps pods, not DaemonSets) is enough.
    """
    agents = _agents(daemonsets, pods)
    findings: list[CniFinding] = []
    claimed: set[tuple[str, str]] = set()
    for signature in SIGNATURES:
        for agent in agents:
            if (agent.namespace, agent.name) not in claimed and _matches(signature, agent):
                claimed.add((agent.namespace, agent.name))
                enforces, reason = signature.judge(agent)
                findings.append(
                    CniFinding(
                        signature.name,
                        signature.title,
                        enforces,
                        signature.profile,
                        reason,
                        agent.evidence,
                    )
                )
                break
    return CniReport(tuple(findings))


def _matches(signature: _Signature, agent: Agent) -> bool:
    if agent.name in signature.daemonsets:
        return True
    return bool(signature.image) and any(signature.image in image for image in agent.images)


def _agents(
    daemonsets: Iterable[Mapping[str, Any]], pods: Iterable[Mapping[str, Any]]
) -> list[Agent]:
    agents: dict[tuple[str, str], Agent] = {}
    for ds in daemonsets:
        if not isinstance(ds, Mapping):
            continue
        meta = _map(ds.get("metadata"))
        template = _map(_map(ds.get("spec")).get("template"))
        agent = _agent(meta, str(meta.get("name") or ""), _map(template.get("spec")))
        if agent is not None:
            agents[(agent.namespace, agent.name)] = agent
    for pod in pods:
        if not isinstance(pod, Mapping):
            continue
        meta = _map(pod.get("metadata"))
        owner = next(
            (
                r
                for r in _list(meta.get("ownerReferences"))
                if isinstance(r, dict) and r.get("controller") and r.get("kind") == "DaemonSet"
            ),
            None,
        )
        if owner is None:
            continue
        agent = _agent(meta, str(owner.get("name") or ""), _map(pod.get("spec")))
        if agent is not None:
            agents.setdefault((agent.namespace, agent.name), agent)
    return [agents[k] for k in sorted(agents)]


def _agent(meta: Mapping[str, Any], name: str, spec: Mapping[str, Any]) -> Agent | None:
    if not name:
        return None
    containers = []
    for c in _list(spec.get("initContainers")) + _list(spec.get("containers")):
        if isinstance(c, dict):
            argv = tuple(str(a) for a in _list(c.get("command")) + _list(c.get("args")))
            containers.append((str(c.get("name") or ""), str(c.get("image") or ""), argv))
    labels = {str(k): str(v) for k, v in _map(meta.get("labels")).items()}
    return Agent(str(meta.get("namespace") or ""), name, labels, tuple(containers))


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def detect_cni_in_cluster(cluster: Cluster) -> CniReport:
    """The same detection on a modelled cluster (manifests or a snapshot): its DaemonSet
    workloads and the pods they own."""
    daemonsets = [
        _as_api(w.namespace, w.name, w.pod_labels, w.containers, None)
        for w in cluster.workloads
        if w.kind == "DaemonSet"
    ]
    pods = [
        _as_api(p.namespace, p.workload.name, p.labels, p.containers, p.workload.kind)
        for p in cluster.pods
        if p.workload is not None and p.workload.kind == "DaemonSet"
    ]
    return detect_cni(daemonsets, pods)


def _as_api(
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    containers: tuple[Container, ...],
    owner_kind: str | None,
) -> dict[str, Any]:
    spec = {
        "containers": [
            {"name": c.name, "image": c.image, "command": list(c.command), "args": list(c.args)}
            for c in containers
        ]
    }
    meta: dict[str, Any] = {"namespace": namespace, "name": name, "labels": dict(labels)}
    if owner_kind is None:
        return {"metadata": meta, "spec": {"template": {"spec": spec}}}
    meta["ownerReferences"] = [{"controller": True, "kind": owner_kind, "name": name}]
    return {"metadata": meta, "spec": spec}


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    """What live mode assumes from the detected CNI, and what it should tell the user."""

    profile: str | None  # None: keep the profile given (or the default)
    warning: str | None = None  # the CNI does not enforce NetworkPolicy
    note: str | None = None  # the profile was switched to the CNI's


def choose_profile(report: CniReport, user_set: bool, current: str) -> ProfileChoice:
    """The CNI's profile unless the user chose one (``user_set``) or the CNI is unknown."""
    cni = report.primary
    warning = None
    if cni.enforces is False:
        warning = (
            f"{report.summary} does not enforce NetworkPolicy: {cni.reason}; netpol shows what "
            "the policies would allow under a CNI that enforces them"
        )
    if user_set or cni.name == "unknown":
        return ProfileChoice(None, warning)
    note = None
    if cni.profile != current:
        note = (
            f"{report.summary} detected: using --profile {cni.profile} "
            "(pass --profile to choose another)"
        )
    return ProfileChoice(cni.profile, warning, note)
