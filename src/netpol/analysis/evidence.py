"""The engine's own evidence for one pair on one port, as ``netpol explain`` prints it."""

from __future__ import annotations

from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint
from netpol.engine.explain import Explanation
from netpol.engine.resolve import Target
from netpol.engine.verdict import evaluate


def explain_pair(
    cc: CompiledCluster,
    src: Endpoint,
    dst: Endpoint,
    protocol: str,
    port: int | None,
    via: str = "",
) -> Explanation:
    """Evaluate ``src -> dst`` and keep the verdict with the port it is asked about."""
    return Explanation(src, Target(dst, port, protocol, via), evaluate(cc, src, dst))
