"""diff: the tutorial before and after 06-frontend-netpol.yaml changes exactly the
frontend's flows; workload and namespace views; external blocks; git revisions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netpol.analysis.diff import ADDED, CHANGED, REMOVED, DiffReport, diff
from netpol.analysis.revisions import RevisionError, load_revision, split_range
from netpol.engine.compile import compile_cluster
from netpol.engine.ports import ConnectionSet, parse_connection_set
from netpol.model.cluster import Cluster
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

TUTORIAL = Path(__file__).resolve().parents[2] / "examples" / "tutorial"
BEFORE_06 = [str(p) for p in sorted(TUTORIAL.glob("*.yaml")) if not p.name.startswith("06-")]
AFTER_06 = [str(p) for p in sorted(TUTORIAL.glob("*.yaml"))]


def load(paths: list[str]) -> Cluster:
    result = load_cluster(paths, Options())
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return result.cluster


def run(old: list[str], new: list[str], **kwargs: object) -> DiffReport:
    options = Options()
    return diff(
        compile_cluster(load(old), options),
        compile_cluster(load(new), options),
        **kwargs,  # type: ignore[arg-type]
    )


def summary(report: DiffReport) -> set[tuple[str, str, str, str, str]]:
    return {(c.change, c.src.id, c.dst.id, c.before.text(), c.after.text()) for c in report.changes}


def test_frontend_policy_changes_exactly_the_frontend_flows() -> None:
    report = run(BEFORE_06, AFTER_06, granularity="workload", include_external=True)
    for change in report.changes:
        assert "app1-ns/frontend-deploy" in (change.src.id, change.dst.id)
    pod_pairs = summary(report)
    assert (
        CHANGED,
        "app1-ns/frontend-deploy",
        "kube-system/coredns",
        "All Connections",
        "TCP 53,UDP 53",
    ) in pod_pairs
    assert (
        CHANGED,
        "kube-system/coredns",
        "app1-ns/frontend-deploy",
        "All Connections",
        "TCP 80",
    ) in pod_pairs
    external_in = [
        c for c in report.changes if c.src.kind == "External" and c.after.contains("TCP", 80)
    ]
    assert external_in and all(c.kept == ConnectionSet.of("TCP", 80) for c in external_in)
    assert all(c.change == REMOVED for c in report.changes if c.dst.kind == "External")
    # frontend -> backend was denied before (role: web) and still is: no change listed.
    assert not [c for c in report.changes if c.dst.id == "app1-ns/backend-deploy"]


def test_lost_kept_and_gained() -> None:
    report = run(BEFORE_06, AFTER_06, granularity="workload")
    change = next(c for c in report.changes if c.dst.id == "kube-system/coredns")
    assert change.kept == parse_connection_set("TCP 53,UDP 53")
    assert change.lost == ~parse_connection_set("TCP 53,UDP 53")
    assert change.gained.is_empty


def test_no_change_when_nothing_changed() -> None:
    report = run(AFTER_06, AFTER_06, include_external=True)
    assert not report.changed and report.pairs_compared > 0


def test_fixing_the_backend_policy_adds_frontend_to_backend() -> None:
    fixed = str(TUTORIAL.parent / "three-tier")
    report = run([str(TUTORIAL)], [fixed], granularity="pod")
    ((change, src, dst, before, after),) = summary(report)
    assert (change, before, after) == (ADDED, "No Connections", "TCP 5678")
    assert src.startswith("app1-ns/frontend-deploy-") and dst.startswith("app1-ns/backend-deploy-")


def test_namespace_granularity() -> None:
    report = run(BEFORE_06, AFTER_06, granularity="namespace")
    ids = {(c.src.id, c.dst.id) for c in report.changes}
    assert ("app1-ns", "kube-system") in ids and ("kube-system", "app1-ns") in ids


def test_evidence_shows_both_verdicts_on_a_telling_port() -> None:
    report = run(BEFORE_06, AFTER_06, granularity="workload", evidence=True)
    change = next(c for c in report.changes if c.src.id == "kube-system/coredns")
    assert change.evidence_before is not None and change.evidence_after is not None
    assert change.evidence_before.allowed and not change.evidence_after.allowed
    # frontend declares 80/TCP (kept); its number under UDP is what was lost.
    assert (change.evidence_after.protocol, change.evidence_after.port) == ("UDP", 80)
    assert [p.id for p in change.evidence_after.verdict.ingress.policies] == [
        "app1-ns/frontend-policy"
    ]


def test_split_range() -> None:
    assert split_range("main..HEAD") == ("main", "HEAD")
    assert split_range("v1..") == ("v1", None)
    for bad in ("main", "..HEAD", "a...b"):
        with pytest.raises(RevisionError):
            split_range(bad)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_revisions_are_read_without_checkout(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    deploy = tmp_path / "deploy"
    deploy.mkdir()
    for path in BEFORE_06:
        shutil.copy(path, deploy)
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "before")
    shutil.copy(TUTORIAL / "06-frontend-netpol.yaml", deploy)
    git("add", ".")
    git("commit", "-q", "-m", "after")
    (deploy / "06-frontend-netpol.yaml").unlink()  # the working tree differs from HEAD

    options = Options()
    old = load_revision("HEAD~1", ["deploy"], options, cwd=str(tmp_path))
    new = load_revision("HEAD", ["deploy"], options, cwd=str(tmp_path))
    assert old.ok and new.ok
    assert len(new.cluster.policies) == len(old.cluster.policies) + 1
    assert new.cluster.policies[0].source.path.startswith("HEAD:deploy/")
    report = diff(
        compile_cluster(old.cluster, options), compile_cluster(new.cluster, options), "workload"
    )
    assert {c.src.id for c in report.changes} | {c.dst.id for c in report.changes} >= {
        "app1-ns/frontend-deploy"
    }
    with pytest.raises(RevisionError, match=r"no \.yaml"):
        load_revision("HEAD", ["nowhere"], options, cwd=str(tmp_path))
    with pytest.raises(RevisionError):
        load_revision("no-such-rev", ["deploy"], options, cwd=str(tmp_path))
