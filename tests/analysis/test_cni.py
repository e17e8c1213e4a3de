"""CNI detection on recorded kube-system listings: which CNI, whether it enforces, which profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netpol.analysis.cni import (
    CniFinding,
    CniReport,
    ProfileChoice,
    choose_profile,
    detect_cni,
    detect_cni_in_cluster,
)
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

CNI = Path(__file__).resolve().parents[1] / "fixtures" / "live" / "cni"


def listing(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = json.loads((CNI / f"{name}.json").read_text())["items"]
    return (
        [i for i in items if i["kind"] == "DaemonSet"],
        [i for i in items if i["kind"] == "Pod"],
    )


# fixture, CNI, enforces NetworkPolicy, profile, evidence
TABLE = [
    (
        "kind",
        "kindnet",
        False,
        "upstream",
        "DaemonSet kube-system/kindnet (docker.io/kindest/kindnetd:v20240202-8f1494ea)",
    ),
    (
        "kind-v0.24",
        "kindnet",
        True,
        "upstream",
        "DaemonSet kube-system/kindnet (docker.io/kindest/kindnetd:v20240813-c6f155d6)",
    ),
    (
        "kind-calico",
        "calico",
        True,
        "calico",
        "DaemonSet kube-system/calico-node (docker.io/calico/node:v3.27.2)",
    ),
    (
        "cilium",
        "cilium",
        True,
        "cilium",
        "DaemonSet kube-system/cilium (quay.io/cilium/cilium:v1.15.1@sha256:18e2d6c3a8e1b8d6f3b5c2d1e4a7b9c0d3e6f1a2b5c8d4e7f0a3b6c9d2e5f8a1)",
    ),
    (
        "eks",
        "aws-vpc-cni",
        False,
        "upstream",
        "DaemonSet kube-system/aws-node (602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.16.0-eksbuild.1, 602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.0.7-eksbuild.1)",
    ),
    (
        "eks-netpol",
        "aws-vpc-cni",
        True,
        "upstream",
        "DaemonSet kube-system/aws-node (602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.16.0-eksbuild.1, 602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.0.7-eksbuild.1)",
    ),
    (
        "flannel",
        "flannel",
        False,
        "upstream",
        "DaemonSet kube-flannel/kube-flannel-ds (docker.io/flannel/flannel:v0.24.2)",
    ),
    ("none", "unknown", None, "upstream", ""),
]


@pytest.mark.parametrize(
    ("fixture", "name", "enforces", "profile", "evidence"), TABLE, ids=[r[0] for r in TABLE]
)
def test_detection_table(
    fixture: str, name: str, enforces: bool | None, profile: str, evidence: str
) -> None:
    daemonsets, pods = listing(fixture)
    for found in (detect_cni(daemonsets, pods), detect_cni([], pods), detect_cni(daemonsets, [])):
        cni = found.primary
        assert (cni.name, cni.enforces, cni.profile, cni.evidence) == (
            name,
            enforces,
            profile,
            evidence,
        )


def test_the_reasons_a_user_reads() -> None:
    assert detect_cni(*listing("kind")).primary.reason == (
        "kindnetd v20240202 (before KIND v0.24) has no NetworkPolicy controller: policies are "
        "accepted by the API server and then ignored"
    )
    assert detect_cni(*listing("flannel")).primary.reason == (
        "flannel only connects pods; it has no NetworkPolicy controller"
    )
    assert detect_cni(*listing("eks")).primary.reason == (
        "the VPC CNI enforces NetworkPolicy only when its network policy agent runs with "
        "--enable-network-policy=true (it does not here)"
    )


def test_the_enforcing_cni_wins_when_two_run() -> None:
    eks_ds, eks_pods = listing("eks")
    calico_ds, _ = listing("kind-calico")
    calico_ds = [d for d in calico_ds if d["metadata"]["name"] == "calico-node"]
    report = detect_cni(eks_ds + calico_ds, eks_pods)
    assert report.primary.name == "calico"
    assert report.summary == "Calico (with AWS VPC CNI)"
    flannel_ds, _ = listing("flannel")
    canal = json.loads(json.dumps(calico_ds[0]))
    canal["metadata"]["name"] = "canal"
    report = detect_cni([canal], [])
    assert (report.primary.name, report.primary.profile, len(report.findings)) == (
        "canal",
        "calico",
        1,
    )
    assert detect_cni([*flannel_ds, canal], []).primary.name == "canal"


def test_detection_from_manifests_or_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "cilium.json"
    path.write_text((CNI / "cilium.json").read_text())
    cluster = load_cluster([str(path)], Options()).cluster
    cni = detect_cni_in_cluster(cluster).primary
    assert (cni.name, cni.profile) == ("cilium", "cilium")


def test_odd_daemonsets_and_pods_are_not_agents_and_no_traceback() -> None:
    """DaemonSets are read for detection only and never validated: any shape must do."""
    daemonsets: list[Any] = [
        None,
        {"metadata": {"name": "a"}, "spec": {"template": {"spec": {"containers": 5}}}},
        {
            "metadata": {"name": "b"},
            "spec": {"template": {"spec": {"containers": [{"args": True}]}}},
        },
    ]
    pods: list[Any] = [
        "x",
        {"metadata": {"ownerReferences": 3}},
        {
            "metadata": {
                "ownerReferences": [{"controller": True, "kind": "DaemonSet", "name": "c"}]
            },
            "spec": {"initContainers": {}, "containers": [{"command": 1, "image": "calico/node"}]},
        },
    ]
    assert detect_cni(daemonsets, pods).primary.name == "calico"


CILIUM = CniFinding("cilium", "Cilium", True, "cilium", "enforces", "DaemonSet kube-system/cilium")
FLANNEL = CniFinding("flannel", "Flannel", False, "upstream", "has no policy agent", "ds")


def test_live_mode_takes_the_cni_profile_and_says_so() -> None:
    choice = choose_profile(CniReport((CILIUM,)), user_set=False, current="upstream")
    assert choice == ProfileChoice(
        "cilium", None, "Cilium detected: using --profile cilium (pass --profile to choose another)"
    )
    assert choose_profile(CniReport((CILIUM,)), False, "cilium") == ProfileChoice("cilium")


def test_a_profile_the_user_chose_or_an_unknown_cni_keeps_the_given_profile() -> None:
    assert choose_profile(CniReport((CILIUM,)), user_set=True, current="calico").profile is None
    assert choose_profile(CniReport(()), user_set=False, current="upstream").profile is None


def test_a_cni_that_does_not_enforce_is_a_warning() -> None:
    choice = choose_profile(CniReport((FLANNEL,)), user_set=True, current="upstream")
    assert choice.warning == (
        "Flannel does not enforce NetworkPolicy: has no policy agent; netpol shows what the "
        "policies would allow under a CNI that enforces them"
    )
