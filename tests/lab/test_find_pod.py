"""How `lab exec` names a pod: NS/POD, NS/WORKLOAD, or the short name people say."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netpol.lab.lifecycle import LabError, find_pod, pod_for
from netpol.lab.state import LabState, PodSlot
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def lab() -> tuple[LabState, object]:
    cluster = load_cluster([str(EXAMPLES / "three-tier")], Options()).cluster
    state = LabState("t")
    for index, pod in enumerate(cluster.pods):
        state.pods[pod.id] = PodSlot(pod.id, index, f"netpol-t-p{index}", pod.ips[0], "")
    return state, cluster


@pytest.mark.parametrize(
    ("target", "found"),
    [
        ("app1-ns/db-sts-0", "app1-ns/db-sts-0"),
        ("app1-ns/db-sts", "app1-ns/db-sts-0"),
        ("db-sts", "app1-ns/db-sts-0"),
        ("app1-ns/frontend-deploy", "app1-ns/frontend-deploy-65856887c-q62wc"),
        ("app1-ns/frontend", "app1-ns/frontend-deploy-65856887c-q62wc"),
        ("backend", "app1-ns/backend-deploy-5c694bf5fc-6vgxk"),
        (
            "kube-system/coredns",
            "kube-system/coredns-568b66bc96-cktnl",
        ),  # a workload: its first pod
    ],
)
def test_names_people_use(lab: tuple[LabState, object], target: str, found: str) -> None:
    state, cluster = lab
    assert find_pod(state, cluster, target) == found  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("app1-ns/nothing", "no pod 'app1-ns/nothing' in lab t (see `netpol lab status --name t`)"),
        (
            "kube-system/frontend",
            "no pod 'kube-system/frontend' in lab t (see `netpol lab status --name t`)",
        ),
        (
            "app1-ns/frontend-depoy",
            "no pod 'app1-ns/frontend-depoy' in lab t (see `netpol lab status --name t`)"
            " (did you mean frontend-deploy?)",
        ),
    ],
)
def test_names_that_fail_say_why(lab: tuple[LabState, object], target: str, message: str) -> None:
    state, cluster = lab
    with pytest.raises(LabError) as error:
        find_pod(state, cluster, target)  # type: ignore[arg-type]
    assert str(error.value) == message


def test_only_the_labs_own_pods_are_found(lab: tuple[LabState, object]) -> None:
    state, cluster = lab
    only_db = LabState("t")
    only_db.pods = {k: v for k, v in state.pods.items() if k.startswith("app1-ns/db")}
    assert find_pod(only_db, cluster, "db-sts") == "app1-ns/db-sts-0"  # type: ignore[arg-type]
    with pytest.raises(LabError, match="no pod 'backend' in lab t"):
        find_pod(only_db, cluster, "backend")  # type: ignore[arg-type]


def test_a_name_two_workloads_share_is_ambiguous() -> None:
    cluster = load_cluster([str(EXAMPLES / "three-tier")], Options()).cluster
    pods = [p for p in cluster.pods if p.workload is not None]
    first = pods[0]
    assert first.workload is not None
    twin = replace(
        first,
        namespace="other",
        ips=("10.9.9.9",),
        workload=replace(first.workload, namespace="other"),
    )
    with pytest.raises(LabError) as error:
        pod_for([twin, first], first.workload.name, "none")
    assert str(error.value) == (
        f"'{first.workload.name}' is ambiguous: write "
        f"{first.workload.kind.lower()}/{first.workload.id} or "
        f"{first.workload.kind.lower()}/other/{first.workload.name}"
    )
    with pytest.raises(LabError, match=r"^none$"):
        pod_for([twin, first], "missing", "none")
