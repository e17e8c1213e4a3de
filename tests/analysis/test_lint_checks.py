"""The lint catalogue: every check fires on its failing manifest and not on its passing one,
every spec section 7 pitfall is covered, the tutorial's `role: web` peer is flagged with the
right hint, and the fixed three-tier example gets notes only."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import cluster_from_yaml

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import DISABLE_ANNOTATION, LintReport, run_checks
from netpol.analysis.lint_examples import BASE, CASES
from netpol.analysis.lint_examples_cilium import CILIUM_CASES
from netpol.engine.compile import compile_cluster
from netpol.model.diagnostics import Severity
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import load_cluster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def lint_text(text: str, disabled: tuple[str, ...] = (), profile: str = "") -> LintReport:
    options = Options(implicit_dns=False, profile=PROFILES[profile or "upstream"])
    return run_checks(compile_cluster(cluster_from_yaml(text, options), options), CHECKS, disabled)


def lint_example(name: str) -> LintReport:
    options = Options()
    result = load_cluster([str(EXAMPLES / name)], options)
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return run_checks(compile_cluster(result.cluster, options), CHECKS)


ALL_CASES = CASES + CILIUM_CASES


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.title for c in ALL_CASES])
def test_check_fires_on_bad_and_not_on_good(case: object) -> None:
    from netpol.analysis.lint_examples import Case

    assert isinstance(case, Case)
    bad = lint_text(BASE + case.bad, profile=case.profile).findings
    good = lint_text(BASE + case.good, profile=case.profile).findings
    bad = [f for f in bad if f.check == case.check]
    good = [f for f in good if f.check == case.check]
    assert bad, f"{case.check} did not fire on its failing manifest"
    assert not good, f"{case.check} fired on its passing manifest: {good[0].message}"
    for finding in bad:
        assert finding.path == "test.yaml" and finding.line > 0
        assert finding.message and finding.hint
        assert finding.severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)


def test_every_check_has_a_case() -> None:
    assert {c.id for c in CHECKS} == {case.check for case in ALL_CASES}


def test_every_spec_section_7_pitfall_has_a_firing_case() -> None:
    covered = {p for case in CASES for p in case.pitfalls}
    assert covered >= set(range(1, 16)), f"pitfalls without a case: {set(range(1, 16)) - covered}"


def test_check_ids_are_unique_and_documented() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for check in CHECKS:
        assert check.title and check.description and check.hint
        assert "\n" not in check.title


def test_tutorial_role_web_peer_is_flagged_with_the_frontend_hint() -> None:
    report = lint_example("tutorial")
    found = [f for f in report.findings if f.check == "peer-selects-nothing"]
    assert len(found) == 1
    finding = found[0]
    assert finding.obj == "NetworkPolicy/app1-ns/backend-policy"
    assert finding.field == "spec.ingress[0].from[0]"
    assert finding.path.endswith("examples/tutorial/05-revised-backend-netpol.yaml")
    assert finding.line == 17  # the `- podSelector:` line of the published file
    assert "role=web" in finding.message
    assert "app1-ns/frontend-deploy" in finding.hint and "role: frontend" in finding.hint


def test_tutorial_frontend_to_backend_is_a_one_sided_flow() -> None:
    report = lint_example("tutorial")
    found = [f for f in report.findings if f.check == "one-sided-flow"]
    assert [f.obj for f in found] == ["NetworkPolicy/app1-ns/frontend-policy"]
    assert "app1-ns/backend-policy" in found[0].message


@pytest.mark.parametrize("example", ["three-tier", "three-tier-db-ns"])
def test_fixed_examples_get_notes_only(example: str) -> None:
    report = lint_example(example)
    assert report.count(Severity.ERROR) == 0
    assert report.count(Severity.WARNING) == 0, [f.message for f in report.findings]
    # What is really worth a note: the database initiates nothing, 0.0.0.0/0 also admits
    # in-cluster pods under Calico but not Cilium, and there is no namespace default-deny.
    assert {f.check for f in report.findings} == {
        "egress-deny-all",
        "ipblock-covers-pods",
        "namespace-without-default-deny",
    }


def test_disabled_on_the_command_line() -> None:
    report = lint_text(BASE, disabled=("namespace-without-default-deny",))
    assert not [f for f in report.findings if f.check == "namespace-without-default-deny"]
    assert ("namespace-without-default-deny", "disabled on the command line") in report.skipped


def test_disabled_by_annotation_on_the_policy() -> None:
    case = next(c for c in CASES if c.check == "egress-deny-all")
    annotated = case.bad.replace(
        "metadata: {name: web, namespace: x}",
        f'metadata: {{name: web, namespace: x, annotations: {{{DISABLE_ANNOTATION}: "egress-deny-all"}}}}',
    )
    assert annotated != case.bad
    report = lint_text(BASE + annotated)
    assert not [f for f in report.findings if f.check == "egress-deny-all"]
    assert report.suppressed == 1


def test_checks_that_need_pods_are_skipped_without_pods() -> None:
    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  egress:
    - to: [{podSelector: {}}]
"""
    report = lint_text(text)
    assert [f.check for f in report.findings] == ["rules-ignored"]
    assert (
        "peer-selects-nothing",
        "the input has no pods (add the workloads to check this)",
    ) in report.skipped


def test_fail_on_threshold() -> None:
    report = lint_example("tutorial")
    assert not report.fails("error")
    assert report.fails("warning")


def lint_file(path: Path) -> LintReport:
    options = Options(implicit_dns=False)
    result = load_cluster([str(path)], options)
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return run_checks(compile_cluster(result.cluster, options), CHECKS)


MULTI_NAMESPACE = Path(__file__).resolve().parent / "inputs" / "multi-namespace.yaml"


def test_realistic_multi_namespace_set_up_is_clean() -> None:
    # Before: every per-namespace default-deny was "redundant" (the allow policies isolate
    # the same pods today) and "denies all egress" (allow-dns lets the pods out).
    report = lint_file(MULTI_NAMESPACE)
    assert [f"{f.check} {f.obj}" for f in report.findings] == []


def test_default_deny_is_still_a_note_when_nothing_else_lets_the_pods_out(
    tmp_path: Path,
) -> None:
    text = MULTI_NAMESPACE.read_text()
    shop_dns = text.index("metadata: {name: allow-dns, namespace: shop}")
    start = text.rindex("---", 0, shop_dns)
    end = text.index("---", shop_dns)
    changed = tmp_path / "m.yaml"
    changed.write_text(text[:start] + text[end:])
    report = lint_file(changed)
    found = [f for f in report.findings if f.check == "egress-deny-all"]
    assert [(f.obj, f.message) for f in found] == [
        (
            "NetworkPolicy/shop/default-deny",
            "denies all egress for shop/api, DNS included: intended?",
        )
    ]


def test_a_second_default_deny_is_redundant(tmp_path: Path) -> None:
    text = MULTI_NAMESPACE.read_text()
    extra = (
        "\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-all-again, namespace: shop}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
    )
    changed = tmp_path / "m.yaml"
    changed.write_text(text + extra)
    found = [f.obj for f in lint_file(changed).findings if f.check == "redundant-policy"]
    assert found == ["NetworkPolicy/shop/deny-all-again"]


def test_a_namespace_finding_points_at_a_pod_when_the_namespace_is_not_declared() -> None:
    # No Namespace manifest and no policy in namespace foo: the finding must name the
    # user's file (the pod that brings the namespace in), not "<generated>" or a policy
    # of another namespace.
    report = lint_text(
        """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: bar}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: foo, labels: {app: a}}
spec: {containers: [{name: a, image: x}]}
status: {podIP: 10.0.0.1}
"""
    )
    found = [f for f in report.findings if f.check == "namespace-without-default-deny"]
    assert [(f.obj, f.path, f.line) for f in found] == [("Namespace/foo", "test.yaml", 6)]
