"""verify decides each pair from its class pair (one verdict per row of alike sources, the
destinations resolved once per source namespace), and that is exactly what evaluating every
pair on its own gives: the same pairs in the same order, the same allowed connections, the
same offending ports, status and actual verdict, on random clusters of replicated pods
(classes of several members, spread over two nodes, some on the host network)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.analysis.test_verify_default import replicated_clusters

from netpol.analysis.endpoints import EndpointResolver
from netpol.analysis.expectations import parse_expectations
from netpol.analysis.verify import ERROR, FAIL, PASS, ExpectationResult, verify
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.endpoints import Endpoint
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import allowed
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

# derandomized: the same clusters every run, so the test cannot fail one run in fifty
SAME_AS_PAIRWISE = settings(max_examples=100, deadline=None, derandomize=True)
PORTS = ("", "port: 80", "port: 53, protocol: UDP", "ports: [443/TCP, 8000-8080/TCP]")


def endpoint_texts(c: Cluster, many: bool) -> list[str]:
    """Endpoints of many pods of several classes (a namespace, a label); with ``many`` False
    also each pod, a node and external addresses."""
    texts = [f"{{namespace: {n.name}}}" for n in c.namespaces]
    texts += ["{labels: {app: a}}", "{namespace: ns1, labels: {tier: b}}"]
    if not many:
        texts += [p.id for p in c.pods]
        texts += ["{ip: 10.1.0.201}", "{ip: 10.1.0.99}", "{cidr: 10.1.0.0/24}"]
    return texts


@st.composite
def expectation_files(draw: st.DrawFn, c: Cluster) -> str:
    """Every source of many pods against every endpoint, each with drawn ports and verdict."""
    lines = ["expectations:"]
    for src in endpoint_texts(c, many=True):
        for dst in endpoint_texts(c, many=False):
            ports = draw(st.sampled_from(PORTS))
            expect = draw(st.sampled_from(["allow", "deny"]))
            more = f", {ports}" if ports else ""
            lines.append(f"  - {{from: {src}, to: {dst}, expect: {expect}{more}}}")
    return "\n".join(lines) + "\n"


def pairwise(
    cc: CompiledCluster, result: ExpectationResult
) -> list[tuple[str, str, ConnectionSet]]:
    """Every source against every destination, each pair evaluated on its own."""
    resolver = EndpointResolver(cc)
    e = result.expectation
    found = []
    for src in resolver.sources(e.src):
        ns = src.pod.namespace if src.pod is not None else None
        dsts: dict[str, Endpoint] = {}
        for spec in e.ports or (None,):
            single = spec is not None and spec.lo == spec.hi
            port = spec.lo if spec is not None and single else None
            protocol = spec.protocol if spec is not None else "TCP"
            for r in resolver.destinations(e.dst, port, protocol, ns):
                dsts.setdefault(r.endpoint.id, r.endpoint)
        for dst in dsts.values():
            if not src.same_pod(dst):
                found.append((src.id, dst.id, allowed(cc, src, dst)))
    return found


@SAME_AS_PAIRWISE
@given(st.data(), replicated_clusters(), st.sampled_from(sorted(PROFILES)))
def test_each_pair_of_an_expectation_is_its_own_verdict(
    data: st.DataObject, c: Cluster, profile: str
) -> None:
    cc = compile_cluster(c, Options(profile=PROFILES[profile]))
    report = verify(cc, parse_expectations(data.draw(expectation_files(c)), "inline.yaml"))
    for result in report.results:
        if result.status == ERROR:
            continue
        expected = pairwise(cc, result)
        assert [(p.src.id, p.dst.id, p.allowed) for p in result.pairs] == expected
        for p in result.pairs:
            assert p.dns.is_empty  # no Cilium toFQDNs here
            want = p.required - p.allowed if p.expect == "allow" else p.required & p.allowed
            assert p.offending == want and p.ok == want.is_empty
        assert result.status == (PASS if all(p.ok for p in result.pairs) else FAIL)
        reached = {not (p.required & p.allowed).is_empty for p in result.pairs}
        full = {p.required <= p.allowed for p in result.pairs}
        actual = (
            "allowed" if full == {True} else "denied" if reached == {False} else "partly allowed"
        )
        assert result.actual == actual
        explained = [p for p in result.pairs if p.evidence is not None]
        assert explained == [p for p in result.pairs if not p.ok][:5]
