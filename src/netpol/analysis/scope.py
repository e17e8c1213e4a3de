"""``-n`` / ``-l`` for the verbs that report on objects (lint, verify): which findings and
expectations concern the pods in scope. Applied to the finished report, so the checks
and the verdicts are the same with or without a scope; only what is shown changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from netpol.analysis.lint import Finding, LintReport
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint
from netpol.engine.names import Scope
from netpol.load.services import service_backends
from netpol.model.objects import Pod

if TYPE_CHECKING:  # lint scopes its report too, and need not load verify to start
    from netpol.analysis.verify import ExpectationResult, VerifyReport


def finding_namespace(finding: Finding) -> str | None:
    """The namespace of the object a finding is about; None for a cluster-scoped one."""
    kind, _, rest = finding.obj.partition("/")
    if kind == "Namespace":
        return rest
    namespace, slash, _ = rest.rpartition("/")
    return namespace if slash else None


def pods_of_finding(cc: CompiledCluster, finding: Finding) -> list[Pod]:
    """The pods a finding concerns: those its policy selects, the pods of its namespace,
    workload or Service, or the pod itself."""
    cluster = cc.cluster
    if finding.policy is not None:
        compiled = next((c for c in cc.policies if c.policy.id == finding.policy), None)
        if compiled is not None:
            return [p for p in cc.policy_pods if compiled.selects(p)]
        if cc.tiered is not None:
            tiered = cc.tiered
            for member in tiered.policies:
                if member.policy.id == finding.policy:
                    return [p for p in cc.policy_pods if tiered.selects(member, p)]
        return []
    kind, _, rest = finding.obj.partition("/")
    if kind == "Namespace":
        return [p for p in cluster.pods if p.namespace == rest]
    if kind == "Pod":
        return [p for p in cluster.pods if p.id == rest]
    if kind == "Service" and rest in cluster.service_by_id:
        return [b.pod for b in service_backends(cluster, cluster.service_by_id[rest])]
    return [p for p in cluster.pods if p.workload is not None and p.workload.id == rest]


def lint_in_scope(cc: CompiledCluster, report: LintReport, scope: Scope) -> LintReport:
    """The findings about objects of ``-n``'s namespace and, with ``-l``, about objects
    that concern a pod the selector matches (a cluster-scoped object only without ``-n``)."""
    if scope.everything:
        return report
    kept = tuple(
        f
        for f in report.findings
        if scope.admits_namespace(finding_namespace(f))
        and (scope.selector is None or any(scope.admits(p) for p in pods_of_finding(cc, f)))
    )
    return replace(report, findings=kept)


def verify_in_scope(report: VerifyReport, scope: Scope) -> VerifyReport:
    """The expectations with a source or destination pod in scope (an expectation that
    names nothing is bad input and always stays), each with only its pairs that touch the
    scope; the default keeps only its violations that touch the scope."""
    if scope.everything:
        return report
    results = [_narrowed(r, scope) for r in report.results]
    default = report.default
    if default is not None:
        default = default.touching(scope.admits)
    return replace(report, results=tuple(r for r in results if r is not None), default=default)


def _touches(scope: Scope, *ends: Endpoint) -> bool:
    return any(e.pod is not None and scope.admits(e.pod) for e in ends)


def _narrowed(result: ExpectationResult, scope: Scope) -> ExpectationResult | None:
    if not result.pairs:
        return result  # an error: it names no endpoint at all
    pairs = tuple(p for p in result.pairs if _touches(scope, p.src, p.dst))
    if not pairs:
        return None
    from netpol.analysis.verify import FAIL, PASS

    status = PASS if all(p.ok for p in pairs) else FAIL
    return replace(result, pairs=pairs, status=status)
