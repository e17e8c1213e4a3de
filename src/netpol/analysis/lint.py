"""The lint framework: checks with an id and a severity, findings with file:line and a hint.

The catalogue itself lives in the package ``netpol.analysis.lint_checks`` (one module per family),
gathered by ``netpol.analysis.checks``; ``docs/lint.md`` is generated from it (``python3 -m netpol.analysis.lint_catalogue``), so it cannot drift.
A policy silences checks for itself with the annotation
``lint.netpol.io/disable: "id,id"`` (or ``all``); the command line with ``--disable``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from netpol.engine.compile import CompiledCluster
from netpol.model.diagnostics import Severity
from netpol.model.objects import Namespace, Pod, Service
from netpol.model.policy import NetworkPolicy
from netpol.model.progress import SILENT, Progress
from netpol.model.source import Source
from netpol.model.tiers import TieredPolicy

DISABLE_ANNOTATION = "lint.netpol.io/disable"
SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which check, how bad, where (object, field, file:line), and how to fix it."""

    check: str
    severity: Severity
    message: str
    obj: str  # "NetworkPolicy/app1-ns/backend-policy", "Namespace/app1-ns", "Service/..."
    field: str  # "spec.ingress[0].from[0]"; "" for the whole object
    path: str
    line: int
    hint: str
    policy: str | None = None  # policy id when the finding is about one (annotations apply)

    @property
    def location(self) -> str:
        if not self.path:
            return "<input>"
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
            "object": self.obj,
            "field": self.field,
            "file": self.path,
            "line": self.line,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class Check:
    """One entry of the catalogue; ``run`` yields findings for a whole cluster."""

    id: str
    severity: Severity
    title: str  # one line, what is wrong
    description: str  # why it matters (a paragraph, for docs/lint.md and SARIF help)
    hint: str  # how to fix it, in general
    run: Callable[[LintContext], Iterable[Finding]] = field(repr=False, compare=False)
    pitfall: str = ""  # e.g. "spec 7.1" or "tutorial AND vs OR"
    needs_pods: bool = False  # meaningless without the workloads in the input

    def finding(
        self,
        message: str,
        obj: str,
        source: Source,
        field_path: str = "",
        hint: str = "",
        policy: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            self.id,
            severity or self.severity,
            message,
            obj,
            field_path,
            source.path,
            source.line_of(field_path),
            hint or self.hint,
            policy,
        )

    def on_policy(
        self,
        policy: NetworkPolicy,
        message: str,
        field_path: str = "",
        hint: str = "",
        severity: Severity | None = None,
    ) -> Finding:
        return self.finding(
            message,
            f"NetworkPolicy/{policy.id}",
            policy.source,
            field_path,
            hint,
            policy.id,
            severity,
        )


CHECKS: list[Check] = []


Run = Callable[["LintContext"], Iterable[Finding]]


def check(
    id: str,
    severity: Severity,
    title: str,
    description: str,
    hint: str,
    pitfall: str = "",
    needs_pods: bool = False,
) -> Callable[[Run], Run]:
    """Register the decorated function as a check of the catalogue."""

    def register(run: Run) -> Run:
        CHECKS.append(Check(id, severity, title, description, hint, run, pitfall, needs_pods))
        return run

    return register


def by_id(check_id: str) -> Check:
    for c in CHECKS:
        if c.id == check_id:
            return c
    raise KeyError(check_id)


class LintContext:
    """A compiled cluster and the lookups several checks share, computed once."""

    def __init__(self, cc: CompiledCluster) -> None:
        self.cc = cc
        self.cluster = cc.cluster
        self.cache: dict[str, object] = {}  # results several checks share (redundancy, backends)
        self.gave_up: dict[str, str] = {}  # check id -> why it could not run on this input

    @cached_property
    def pods(self) -> tuple[Pod, ...]:
        """Pods policies can select (with an IP, not node traffic)."""
        return self.cc.policy_pods

    @cached_property
    def pods_by_namespace(self) -> dict[str, list[Pod]]:
        found: dict[str, list[Pod]] = {}
        for pod in self.pods:
            found.setdefault(pod.namespace, []).append(pod)
        return found

    @cached_property
    def namespaces(self) -> tuple[Namespace, ...]:
        return self.cluster.namespaces

    def namespace(self, name: str) -> Namespace | None:
        return self.cluster.namespace_by_name.get(name)

    def service(self, service_id: str) -> Service | None:
        return self.cluster.service_by_id.get(service_id)


def disabled_by_annotation(policy: NetworkPolicy | TieredPolicy) -> frozenset[str]:
    for key, value in policy.annotations:
        if key == DISABLE_ANNOTATION:
            return frozenset(v.strip() for v in value.split(",") if v.strip())
    return frozenset()


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    checks: tuple[Check, ...]  # the checks that ran
    skipped: tuple[tuple[str, str], ...] = ()  # (check id, why it did not run)
    suppressed: int = 0  # findings silenced by policy annotations

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def fails(self, fail_on: str) -> bool:
        """True when a finding is at least as severe as ``fail_on`` (error or warning)."""
        threshold = SEVERITY_ORDER[Severity(fail_on)]
        return any(SEVERITY_ORDER[f.severity] <= threshold for f in self.findings)


def run_checks(
    cc: CompiledCluster,
    checks: Sequence[Check],
    disabled: Iterable[str] = (),
    progress: Progress = SILENT,
) -> LintReport:
    """Every enabled check over ``cc``; findings sorted by file, line, then check id."""
    off = set(disabled)
    context = LintContext(cc)
    policies: list[NetworkPolicy | TieredPolicy] = [*cc.cluster.policies]
    policies += cc.cluster.tiered_policies
    annotations = {p.id: disabled_by_annotation(p) for p in policies}
    ran = []
    skipped = []
    findings: list[Finding] = []
    suppressed = 0
    progress.phase(f"linting {len(policies):,} policies, check", len(checks))
    for check in checks:
        progress.advance()
        if check.id in off:
            skipped.append((check.id, "disabled on the command line"))
            continue
        if check.needs_pods and not context.pods:
            skipped.append((check.id, "the input has no pods (add the workloads to check this)"))
            continue
        ran.append(check)
        for finding in check.run(context):
            silenced = annotations.get(finding.policy or "", frozenset())
            if check.id in silenced or "all" in silenced:
                suppressed += 1
                continue
            findings.append(finding)
    for check_id, why in context.gave_up.items():
        skipped.append((check_id, why))
        ran = [c for c in ran if c.id != check_id]
    unique = list(dict.fromkeys(findings))
    unique.sort(key=lambda f: (f.path, f.line, SEVERITY_ORDER[f.severity], f.check, f.message))
    return LintReport(tuple(unique), tuple(ran), tuple(skipped), suppressed)
