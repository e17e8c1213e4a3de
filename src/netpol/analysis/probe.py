"""Live probes: which connections to try from inside running pods, what the engine predicts
for each, and the observed-against-predicted comparison.

A probe is a TCP connect from a source pod (one per workload) to a destination pod's IP on
a port its containers declare. UDP is left out: without a handshake, a probe cannot tell
a dropped datagram from a server that does not answer. How a connect is run inside a
container is ``probe_exec``'s job; this module only plans and judges.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from netpol.engine.compile import CompiledCluster
from netpol.engine.verdict import allowed
from netpol.model.objects import Pod

SKIPPED_PHASES = ("Pending", "Succeeded", "Failed", "Unknown")


@dataclass(frozen=True, slots=True)
class ProbeCase:
    """One connection to try: from ``src`` (exec'd into) to ``dst_ip``:``port``."""

    src: Pod
    dst: Pod
    dst_ip: str
    port: int
    protocol: str
    predicted: bool

    @property
    def target(self) -> str:
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What happened: ``observed`` None when the probe could not be run (``detail`` says why)."""

    case: ProbeCase
    observed: bool | None
    detail: str
    via: str = ""  # the pod the probe ran in when not the source itself (a probe pod)

    @property
    def agrees(self) -> bool | None:
        return None if self.observed is None else self.observed == self.case.predicted


@dataclass(frozen=True, slots=True)
class ProbePlan:
    cases: tuple[ProbeCase, ...]
    notes: tuple[str, ...]


def plan_probes(
    cc: CompiledCluster, namespaces: Iterable[str] = (), limit: int = 1000
) -> ProbePlan:
    """Every (source workload, destination pod, declared TCP port), with its prediction.

    Sources and destinations are running pods with an IP, not hostNetwork (their traffic is
    node traffic, which the policies do not select); ``namespaces`` limits both ends.
    """
    scope = set(namespaces)
    notes: list[str] = []
    pods = [
        p
        for p in cc.cluster.pods
        if p.ips
        and not p.host_network
        and p.phase not in SKIPPED_PHASES
        and (not scope or p.namespace in scope)
    ]
    sources: dict[str, Pod] = {}
    for pod in sorted(pods, key=lambda p: p.id):
        sources.setdefault(pod.workload_id, pod)  # one source pod per workload
    cases: list[ProbeCase] = []
    udp = 0
    for dst in pods:
        ports = sorted({(p.port, p.protocol) for p in dst.container_ports})
        udp += sum(1 for _, protocol in ports if protocol != "TCP")
        for src in sources.values():
            if src.id == dst.id:
                continue
            for port, protocol in ports:
                if protocol != "TCP":
                    continue
                cases.append(
                    ProbeCase(src, dst, dst.ips[0], port, protocol, predict(cc, src, dst, port))
                )
    if udp:
        notes.append(
            f"{udp} UDP/SCTP container port{'s are' if udp != 1 else ' is'} not probed: "
            "without a handshake a probe cannot tell denied from unanswered"
        )
    if len(cases) > limit:
        notes.append(f"{len(cases)} probes planned; only the first {limit} run (--limit)")
        cases = cases[:limit]
    return ProbePlan(tuple(cases), tuple(notes))


def predict(cc: CompiledCluster, src: Pod, dst: Pod, port: int, protocol: str = "TCP") -> bool:
    """The engine's verdict for ``src`` -> ``dst`` on ``port``."""
    return allowed(
        cc,
        cc.endpoint(src),
        cc.endpoint(dst),
    ).contains(protocol, port)


def as_probe_pod(case: ProbeCase, name: str, ip: str, cc: CompiledCluster) -> ProbeCase:
    """The case run from a probe pod standing in for ``case.src``: same namespace and labels,
    its own name and IP (an ipBlock rule may tell the two apart), predicted again."""
    stand_in = replace(case.src, name=name, ips=(ip,))
    return replace(case, src=stand_in, predicted=predict(cc, stand_in, case.dst, case.port))


@dataclass(frozen=True, slots=True)
class ProbeSummary:
    total: int
    agree: int
    disagree: int
    unprobed: int

    @property
    def ok(self) -> bool:
        return self.disagree == 0


def summarize(results: Iterable[ProbeResult]) -> ProbeSummary:
    results = list(results)
    agree = sum(1 for r in results if r.agrees is True)
    disagree = sum(1 for r in results if r.agrees is False)
    return ProbeSummary(len(results), agree, disagree, len(results) - agree - disagree)


def verdict_word(value: bool | None) -> str:
    return {True: "allowed", False: "denied", None: "-"}[value]
