"""Check expectations against the engine's verdicts, keeping the evidence of every failure.

An ``allow`` expectation passes when every (source, destination) pair it names allows
every port it lists; a ``deny`` when no pair allows any of them. A pod reaching itself
is left out (it always can). An expectation that resolves to no endpoint is an error,
never a pass. ``default: deny`` checks every pod pair in scope: whatever it allows must
be covered by an ``allow`` expectation (``default: allow`` is the mirror image).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from netpol.analysis.endpoints import EndpointError, EndpointResolver, Resolved
from netpol.analysis.evidence import explain_pair
from netpol.analysis.expectations import Expectation, ExpectationsFile
from netpol.engine.class_verdicts import AllowedByClass
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint
from netpol.engine.explain import Explanation
from netpol.engine.ports import ConnectionSet
from netpol.model.objects import Pod
from netpol.model.progress import SILENT, Progress

PASS, FAIL, ERROR = "pass", "fail", "error"
MAX_EVIDENCE = 5  # explained failures per expectation; the rest are listed


@dataclass(frozen=True, slots=True, eq=False)  # one per distinct verdict: identity will do
class Judged:
    """What a pair's connections mean for its expectation (the same for every pair of an
    expectation with the same connections: worked out once, see ``judge``)."""

    offending: ConnectionSet  # needed but denied (allow), or allowed though forbidden (deny)
    reached: bool  # some needed connection is allowed
    reached_all: bool  # every needed connection is allowed
    depends_on_dns: bool


UNJUDGED = Judged(ConnectionSet.none(), False, False, False)  # a PairCheck judges itself


def judge(
    expect: str, required: ConnectionSet, allowed: ConnectionSet, dns: ConnectionSet
) -> Judged:
    """The port-set algebra of one pair, worked out once per distinct input: a hundred
    thousand pairs share a few hundred sets (the same objects: the verdicts are remembered
    per class pair, the ports per destination). Keyed by identity, not by hashing the
    sets' intervals each time; the sets are kept beside the answer, so no id is reused."""
    key = (expect, id(required), id(allowed), id(dns))
    found = _JUDGED.get(key)
    if found is None:
        if len(_JUDGED) >= JUDGED_KEPT:
            _JUDGED.clear()
        found = _JUDGED[key] = (required, allowed, dns, _judge(expect, required, allowed, dns))
    return found[3]


JUDGED_KEPT = 65536
_JUDGED: dict[tuple[str, int, int, int], tuple[object, object, object, Judged]] = {}


def _judge(
    expect: str, required: ConnectionSet, allowed: ConnectionSet, dns: ConnectionSet
) -> Judged:
    reached = required & allowed
    offending = required - allowed if expect == "allow" else reached
    return Judged(
        offending,
        not reached.is_empty,
        (required - allowed).is_empty,
        not (required & dns).is_empty,
    )


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
    # what the sets mean (``judge``): given by ``check``, which has it per class pair
    judged: Judged = field(default_factory=lambda: UNJUDGED, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.judged is UNJUDGED:
            judged = judge(self.expect, self.required, self.allowed, self.dns)
            object.__setattr__(self, "judged", judged)

    @property
    def depends_on_dns(self) -> bool:
        """Whether the verdict on the ports the expectation names depends on DNS."""
        return self.judged.depends_on_dns

    @property
    def ok(self) -> bool:
        return self.judged.offending.is_empty

    @property
    def offending(self) -> ConnectionSet:
        """Needed but denied (allow), or allowed though forbidden (deny)."""
        return self.judged.offending

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

    @cached_property
    def failures(self) -> tuple[PairCheck, ...]:
        return tuple(p for p in self.pairs if not p.ok)

    @cached_property
    def actual(self) -> str:
        """The verdict in one word: allowed, denied or partly allowed."""
        if self.status == ERROR:
            return "error"
        judged = {p.judged for p in self.pairs}  # the few distinct verdicts of its pairs
        if any(j.depends_on_dns for j in judged):
            return "unknown (depends on DNS: toFQDNs, see --fqdn-map)"
        if judged and all(j.reached_all for j in judged):
            return "allowed"
        if judged and not any(j.reached for j in judged):
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
    violations: Sequence[DefaultViolation]  # a DefaultViolations, unless made by hand
    line: int = 0
    error: str = ""  # the scope names a namespace the input does not have

    @property
    def status(self) -> str:
        if self.error:
            return ERROR
        return FAIL if self.violations else PASS

    @property
    def explained(self) -> list[DefaultViolation]:
        """The violations that carry evidence, in order."""
        explained = getattr(self.violations, "explained", None)  # DefaultViolations
        if explained is not None:
            return list(explained())
        return [v for v in self.violations if v.evidence is not None]

    def touching(self, admits: Callable[[Pod], bool]) -> DefaultResult:
        """Only the violations with a source or destination pod that ``admits`` keeps."""
        narrowed = getattr(self.violations, "touching", None)  # DefaultViolations
        if narrowed is not None:
            return replace(self, violations=narrowed(admits))  # counted per class pair
        kept = tuple(
            v
            for v in self.violations
            if any(e.pod is not None and admits(e.pod) for e in (v.src, v.dst))
        )
        return replace(self, violations=kept)

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


def verify(
    cc: CompiledCluster, expectations: ExpectationsFile, progress: Progress = SILENT
) -> VerifyReport:
    """Every expectation of the file checked against ``cc``, plus the default if one is set."""
    resolver = EndpointResolver(cc, expectations.namespace)
    allowed = AllowedByClass(cc)
    progress.phase(
        f"checking {len(expectations.expectations):,} expectations", len(expectations.expectations)
    )
    results = []
    for expectation in expectations.expectations:
        results.append(check(cc, resolver, expectation, allowed))
        progress.advance()
    default = None
    if expectations.default != "none":
        default = check_default(cc, expectations, tuple(results), progress)
    return VerifyReport(expectations.path, tuple(results), default, cc.profile.name)


Wanted = list[tuple[Endpoint, ConnectionSet, tuple[tuple[str, int, str], ...]]]
_Verdict = tuple[ConnectionSet, ConnectionSet, Judged]  # allowed, depends on DNS, judged


class _Destinations:
    """An expectation's destinations from one source namespace, with what a row of verdicts
    needs of them worked out once (not once per source pod)."""

    def __init__(self, wanted: Wanted) -> None:
        self.wanted = wanted
        self.pod_ids = [dst.pod.id if dst.pod is not None else None for dst, _, _ in wanted]

    def row(self, allowed: AllowedByClass, src: Endpoint, expect: str) -> list[_Verdict | None]:
        """The verdict of ``src`` towards each destination where its class pair decides it
        (``AllowedByClass.towards``), judged for what the expectation needs there."""
        row: list[_Verdict | None] = []
        verdicts = allowed.towards(src, [dst for dst, _, _ in self.wanted])
        for verdict, (_, required, _) in zip(verdicts, self.wanted, strict=True):
            if verdict is None:
                row.append(None)
            else:
                have, dns = verdict
                row.append((have, dns, judge(expect, required, have, dns)))
        return row


def _wanted(resolver: EndpointResolver, expectation: Expectation, from_ns: str | None) -> Wanted:
    """(destination, connections needed post-DNAT, via per port) per destination endpoint,
    from a source in namespace ``from_ns`` (a bare name resolves there, as its DNS would)."""
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
    return [
        (endpoint, required, tuple((proto, port, text) for (proto, port), text in vias.items()))
        for endpoint, required, vias in found.values()
    ]


def check(
    cc: CompiledCluster,
    resolver: EndpointResolver,
    expectation: Expectation,
    allowed: AllowedByClass | None = None,
) -> ExpectationResult:
    """One expectation: every pair it names, each with the evidence of a failure.

    ``allowed`` remembers verdicts per pair of classes across expectations (a workload's
    replicas against another's are one class pair, however many pod pairs). Where a source
    lands depends only on its namespace, so the destinations are resolved once per
    namespace of the sources, not once per source pod."""
    allowed = allowed or AllowedByClass(cc)
    expect = expectation.expect
    side = "from"
    try:
        sources = resolver.sources(expectation.src)
        side = "to"
        wanted_from: dict[str | None, _Destinations] = {}
        # (source namespace, what decides the source's verdicts) -> its verdict per destination
        rows: dict[tuple[object, ...], list[_Verdict | None]] = {}
        pairs = []
        for src in sources:
            from_ns = src.pod.namespace if src.pod is not None else None
            destinations = wanted_from.get(from_ns)
            if destinations is None:
                destinations = _Destinations(_wanted(resolver, expectation, from_ns))
                wanted_from[from_ns] = destinations
            wanted = destinations.wanted
            alike = allowed.alike(src)
            row = None
            if alike is not None:
                row = rows.get((from_ns, *alike))
                if row is None:
                    row = destinations.row(allowed, src, expect)
                    rows[(from_ns, *alike)] = row
            own = src.pod.id if src.pod is not None else None
            for i, (dst, required, vias) in enumerate(wanted):
                if own is not None and destinations.pod_ids[i] == own:
                    continue  # a pod reaching itself: left out
                verdict = row[i] if row is not None else None
                if verdict is None:
                    have, dns = allowed.allowed(src, dst), allowed.depends_on_dns(src, dst)
                    verdict = (have, dns, judge(expect, required, have, dns))
                have, dns, judged = verdict
                pairs.append(PairCheck(src, dst, expect, required, have, vias, None, dns, judged))
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


def check_default(
    cc: CompiledCluster,
    expectations: ExpectationsFile,
    results: tuple[ExpectationResult, ...],
    progress: Progress = SILENT,
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
    from netpol.analysis.verify_default import DefaultViolations  # numpy: only for a default
    from netpol.engine.matrix import class_matrix

    matrix = class_matrix(cc, progress=progress)
    pods = [p for p in cc.cluster.pods if p.id in matrix.partition.class_of_pod]
    outside = sum(1 for p in pods if scope and p.namespace not in scope)
    checked = len(pods) * (len(pods) - 1) - outside * (outside - 1)
    progress.phase(f"checking default: {mode} over {checked:,} pod pairs")
    ends = (lambda pod: pod.namespace in scope,) if scope else ()
    violations = DefaultViolations(cc, matrix, mode, covered, ends, MAX_EVIDENCE * 4)
    return DefaultResult(
        mode, tuple(sorted(scope)), checked, violations, expectations.line_of_default
    )
