"""Check expectations against the engine's verdicts, keeping the evidence of every failure.

An ``allow`` expectation passes when every (source, destination) pair it names allows
every port it lists; a ``deny`` when no pair allows any of them. A pod reaching itself
is left out (it always can). An expectation that resolves to no endpoint is an error,
never a pass. ``default: deny`` checks every pod pair in scope: whatever it allows must
be covered by an ``allow`` expectation (``default: allow`` is the mirror image).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from netpol.analysis.endpoints import EndpointError, EndpointResolver, Resolved
from netpol.analysis.evidence import explain_pair
from netpol.analysis.expectations import Expectation, ExpectationsFile
from netpol.engine.class_verdicts import AllowedByClass
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint
from netpol.engine.explain import Explanation
from netpol.engine.ports import ConnectionSet
from netpol.model.objects import Pod

PASS, FAIL, ERROR = "pass", "fail", "error"
MAX_EVIDENCE = 5  # explained failures per expectation; the rest are listed


@dataclass(frozen=True)
class PairCheck:
    """One (source, destination) pair of an expectation: what it needs and what it gets."""

    src: Endpoint
    dst: Endpoint
    expect: str
    required: ConnectionSet
    allowed: ConnectionSet
    vias: tuple[tuple[str, int, str], ...] = ()  # (protocol, pod port, how the name resolved)
    evidence: Explanation | None = None  # for a failing pair: the first offending port
    # what unresolved Cilium toFQDNs rules could still allow: its verdict depends on DNS
    dns: ConnectionSet = field(default_factory=ConnectionSet.none)

    @property
    def depends_on_dns(self) -> bool:
        """Whether the verdict on the ports the expectation names depends on DNS."""
        return not (self.required & self.dns).is_empty

    @property
    def ok(self) -> bool:
        return self.offending.is_empty

    @property
    def offending(self) -> ConnectionSet:
        """Needed but denied (allow), or allowed though forbidden (deny)."""
        if self.expect == "allow":
            return self.required - self.allowed
        return self.required & self.allowed

    def via(self, protocol: str | None = None, port: int | None = None) -> str:
        for proto, number, text in self.vias:
            if protocol is None or (proto == protocol and number == port):
                return text
        return ""


@dataclass(frozen=True)
class ExpectationResult:
    expectation: Expectation
    status: str
    pairs: tuple[PairCheck, ...] = ()
    error: str = ""

    @property
    def failures(self) -> tuple[PairCheck, ...]:
        return tuple(p for p in self.pairs if not p.ok)

    @property
    def actual(self) -> str:
        """The verdict in one word: allowed, denied or partly allowed."""
        if self.status == ERROR:
            return "error"
        if any(p.depends_on_dns for p in self.pairs):
            return "unknown (depends on DNS: toFQDNs, see --fqdn-map)"
        verdicts = {not (p.required & p.allowed).is_empty for p in self.pairs}
        full = {p.required <= p.allowed for p in self.pairs}
        if full == {True}:
            return "allowed"
        if verdicts == {False}:
            return "denied"
        return "partly allowed"


@dataclass(frozen=True)
class DefaultViolation:
    src: Endpoint
    dst: Endpoint
    extra: ConnectionSet  # allowed but not listed (deny), or denied but not listed (allow)
    allowed: ConnectionSet
    evidence: Explanation | None = None


@dataclass(frozen=True)
class DefaultResult:
    default: str  # "deny" or "allow"
    scope: tuple[str, ...]
    pairs_checked: int
    violations: tuple[DefaultViolation, ...]
    line: int = 0
    error: str = ""  # the scope names a namespace the input does not have

    @property
    def status(self) -> str:
        if self.error:
            return ERROR
        return FAIL if self.violations else PASS

    @property
    def name(self) -> str:
        where = f" in {', '.join(self.scope)}" if self.scope else ""
        return f"default: {self.default} (every other pod pair{where})"


@dataclass(frozen=True)
class VerifyReport:
    path: str
    results: tuple[ExpectationResult, ...]
    default: DefaultResult | None = None
    profile: str = "upstream"

    @property
    def counts(self) -> dict[str, int]:
        """How many expectations (and the default, when set) passed, failed, or erred."""
        found = {PASS: 0, FAIL: 0, ERROR: 0}
        for r in self.results:
            found[r.status] += 1
        if self.default is not None:
            found[self.default.status] += 1
        return found

    @property
    def passed(self) -> bool:
        ok = all(r.status == PASS for r in self.results)
        return ok and (self.default is None or self.default.status == PASS)


def verify(cc: CompiledCluster, expectations: ExpectationsFile) -> VerifyReport:
    """Every expectation of the file checked against ``cc``, plus the default if one is set."""
    resolver = EndpointResolver(cc, expectations.namespace)
    allowed = AllowedByClass(cc)
    results = tuple(check(cc, resolver, e, allowed) for e in expectations.expectations)
    default = None
    if expectations.default != "none":
        default = check_default(cc, expectations, results)
    return VerifyReport(expectations.path, results, default, cc.profile.name)


def _wanted(
    resolver: EndpointResolver, expectation: Expectation, src: Endpoint
) -> dict[str, tuple[Endpoint, ConnectionSet, dict[tuple[str, int], str]]]:
    """Destination id -> (endpoint, connections needed post-DNAT, via per port)."""
    from_ns = src.pod.namespace if src.pod is not None else None
    found: dict[str, tuple[Endpoint, ConnectionSet, dict[tuple[str, int], str]]] = {}

    def add(resolved: Resolved, conns: ConnectionSet) -> None:
        endpoint, have, vias = found.get(
            resolved.endpoint.id, (resolved.endpoint, ConnectionSet.none(), {})
        )
        if resolved.via and resolved.port is not None:
            vias[(resolved.protocol, resolved.port)] = resolved.via
        found[resolved.endpoint.id] = (endpoint, have | conns, vias)

    if not expectation.ports:
        for r in resolver.destinations(expectation.dst, None, "TCP", from_ns):
            add(r, ConnectionSet.all())
    for spec in expectation.ports:
        single = spec.lo == spec.hi
        for r in resolver.destinations(
            expectation.dst, spec.lo if single else None, spec.protocol, from_ns
        ):
            if single and r.port is not None:
                add(r, ConnectionSet.of(spec.protocol, r.port))
            else:
                add(r, ConnectionSet.of(spec.protocol, spec.lo, spec.hi))
    return found


def check(
    cc: CompiledCluster,
    resolver: EndpointResolver,
    expectation: Expectation,
    allowed: AllowedByClass | None = None,
) -> ExpectationResult:
    """One expectation: every pair it names, each with the evidence of a failure.

    ``allowed`` remembers verdicts per pair of classes across expectations (a workload's
    replicas against another's are one class pair, however many pod pairs)."""
    allowed = allowed or AllowedByClass(cc)
    side = "from"
    try:
        sources = resolver.sources(expectation.src)
        side = "to"
        pairs = []
        for src in sources:
            for dst, required, vias in _wanted(resolver, expectation, src).values():
                if src.same_pod(dst):
                    continue
                pairs.append(_pair(allowed, src, dst, required, vias, expectation.expect))
    except EndpointError as exc:
        return ExpectationResult(expectation, ERROR, error=f"{side}: {exc}")
    if not pairs:
        return ExpectationResult(
            expectation,
            ERROR,
            error="no pair of distinct endpoints: source and destination are the same pod",
        )
    explained = 0
    checked = []
    for p in pairs:
        if not p.ok and explained < MAX_EVIDENCE:
            explained += 1
            protocol, port, _ = next(iter(p.offending))
            evidence = explain_pair(cc, p.src, p.dst, protocol, port, p.via(protocol, port))
            p = replace(p, evidence=evidence)
        checked.append(p)
    status = PASS if all(p.ok for p in checked) else FAIL
    return ExpectationResult(expectation, status, tuple(checked))


def _pair(
    allowed: AllowedByClass,
    src: Endpoint,
    dst: Endpoint,
    required: ConnectionSet,
    vias: dict[tuple[str, int], str],
    expect: str,
) -> PairCheck:
    listed = tuple((proto, port, text) for (proto, port), text in vias.items())
    dns = allowed.depends_on_dns(src, dst)
    return PairCheck(src, dst, expect, required, allowed.allowed(src, dst), listed, dns=dns)


def check_default(
    cc: CompiledCluster, expectations: ExpectationsFile, results: tuple[ExpectationResult, ...]
) -> DefaultResult:
    """Every pod pair in scope: nothing beyond the listed allows (deny), or nothing denied
    beyond the listed denies (allow)."""
    mode = expectations.default
    listed = "allow" if mode == "deny" else "deny"
    covered: dict[tuple[str, str], ConnectionSet] = {}
    for result in results:
        if result.expectation.expect != listed:
            continue
        for p in result.pairs:
            key = (p.src.id, p.dst.id)
            covered[key] = covered.get(key, ConnectionSet.none()) | p.required
    scope = set(expectations.default_scope)
    unknown = sorted(scope - set(cc.cluster.namespace_by_name))
    if unknown:
        # A typo here would check no pair at all and pass: an error, like an endpoint
        # that matches nothing.
        known = ", ".join(sorted(cc.cluster.namespace_by_name)) or "none"
        return DefaultResult(
            mode,
            tuple(sorted(scope)),
            0,
            (),
            expectations.line_of_scope or expectations.line_of_default,
            f"defaultScope: no namespace {unknown[0]!r} in the input (namespaces: {known})",
        )
    from netpol.engine.matrix import class_matrix  # numpy: only for a default, not at start-up

    matrix = class_matrix(cc)
    members: dict[int, list[Pod]] = {}
    for pod in cc.cluster.pods:
        cls = matrix.partition.class_of_pod.get(pod.id)
        if cls is not None:
            members.setdefault(cls, []).append(pod)
    class_pairs = [(a, b) for a in members for b in members]
    violations: list[DefaultViolation] = []
    resolver = EndpointResolver(cc)
    for a, b in class_pairs:
        allowed = matrix.connections(a, b)
        if mode == "deny" and allowed.is_empty:
            continue  # allows nothing, so nothing unlisted
        for src in members[a]:
            for dst in members[b]:
                if src.id == dst.id:
                    continue
                if scope and src.namespace not in scope and dst.namespace not in scope:
                    continue
                have = covered.get((src.id, dst.id), ConnectionSet.none())
                extra = allowed - have if mode == "deny" else ~have - allowed
                if extra.is_empty:
                    continue
                s, d = resolver.pod(src), resolver.pod(dst)
                evidence = None
                if len(violations) < MAX_EVIDENCE * 4:
                    protocol, port, _ = next(iter(extra))
                    evidence = explain_pair(cc, s, d, protocol, port)
                violations.append(DefaultViolation(s, d, extra, allowed, evidence))
    violations.sort(key=lambda v: (v.src.id, v.dst.id))
    pods = [p for group in members.values() for p in group]
    outside = sum(1 for p in pods if scope and p.namespace not in scope)
    checked = len(pods) * (len(pods) - 1) - outside * (outside - 1)
    return DefaultResult(
        mode, tuple(sorted(scope)), checked, tuple(violations), expectations.line_of_default
    )
