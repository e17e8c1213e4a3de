"""One flow, named the user's way, evaluated pod by pod with its evidence.

``explain`` never computes the matrix: it resolves the names, then evaluates each
(source, destination) pair directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint
from netpol.engine.resolve import Resolver, Target, split_port
from netpol.engine.tiers import RuleMiss
from netpol.engine.verdict import Verdict, evaluate


@dataclass(frozen=True, slots=True)
class Explanation:
    """A verdict for one source endpoint and one resolved destination (port post-DNAT)."""

    src: Endpoint
    target: Target
    verdict: Verdict
    # with tiered policies: their rules that did not match, per side (egress, ingress)
    egress_misses: tuple[RuleMiss, ...] = ()
    ingress_misses: tuple[RuleMiss, ...] = ()

    @property
    def port(self) -> int | None:
        return self.target.port

    @property
    def protocol(self) -> str:
        return self.target.protocol

    @property
    def allowed(self) -> bool:
        """Allowed on the asked port, or allowed anything at all when no port was asked."""
        if self.port is None:
            return not self.verdict.allowed.is_empty
        return self.verdict.allows(self.protocol, self.port)


def explain(
    cc: CompiledCluster, source: str, destination: str, namespace: str | None = None
) -> list[Explanation]:
    """Evidence for every (source pod, destination pod) the two names stand for.

    A bare destination name resolves from the source's namespace, as DNS inside the
    source pod would. Raises ResolveError with a one-line reason for unknown names.
    """
    resolver = Resolver(cc)
    sources = resolver.sources(source, namespace)
    host, port, protocol = split_port(destination)
    results = []
    for src in sources:
        hint = namespace or (src.pod.namespace if src.pod is not None else None)
        for target in resolver.targets(host, hint, port, protocol):
            dst = target.endpoint
            verdict = evaluate(cc, src, dst)
            if cc.tiered is None:
                results.append(Explanation(src, target, verdict))
                continue
            egress = cc.tiered.misses(src, dst, "Egress")
            ingress = cc.tiered.misses(dst, src, "Ingress")
            results.append(Explanation(src, target, verdict, egress, ingress))
    return results
