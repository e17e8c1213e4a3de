"""The cluster add-on: KIND's CoreDNS and kube-dns Service for an input without them,
the same for every verb, said once, off with --no-implicit-dns, never in live mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from netpol.cli.common import options_from
from netpol.cli.main import cli
from netpol.load.addons import ADDON_PATH
from netpol.model.diagnostics import Severity
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

from .support import build, snapshot

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "examples" / "tutorial"
KIND_DNS = REPO / "examples" / "three-tier" / "kube-system-coredns.yaml"  # KIND's, as a file
ON = Options()

APP = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: nginx}]}
"""
DNS_PODS = """\
---
apiVersion: v1
kind: Pod
metadata: {name: dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec: {containers: [{name: c, image: coredns}]}
"""
DNS_WORKLOAD = """\
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: my-dns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: c, image: coredns}]}
"""
DNS_SERVICE = """\
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec: {clusterIP: 10.96.0.99, selector: {k8s-app: kube-dns}, ports: [{port: 53, protocol: UDP}]}
"""
KUBE_SYSTEM = """\
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system, labels: {team: platform}}
"""
HOLDS_THE_IP = """\
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: shop}
spec: {clusterIP: 10.96.0.10, selector: {app: web}, ports: [{port: 80}]}
"""


def added(text: str, options: Options = ON) -> list[str]:
    """Ids of what the add-on put in the cluster of ``text``."""
    cluster = build(text, options)
    return sorted(
        [f"ns/{n.name}" for n in cluster.namespaces if n.source.path == ADDON_PATH]
        + [f"workload/{w.id}" for w in cluster.workloads if w.source.path == ADDON_PATH]
        + [f"pod/{p.id}" for p in cluster.pods if p.source.path == ADDON_PATH]
        + [f"svc/{s.id}" for s in cluster.services if s.source.path == ADDON_PATH]
    )


KIND_PODS = ["pod/kube-system/coredns-568b66bc96-cktnl", "pod/kube-system/coredns-568b66bc96-dmttr"]
ALL = sorted(
    ["ns/kube-system", "workload/kube-system/coredns", "svc/kube-system/kube-dns", *KIND_PODS]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (APP, ALL),
        (APP + KUBE_SYSTEM, [p for p in ALL if p != "ns/kube-system"]),
        (APP + DNS_PODS, ["ns/kube-system", "svc/kube-system/kube-dns"]),
        (APP + DNS_WORKLOAD, ["ns/kube-system", "svc/kube-system/kube-dns"]),
        (APP + DNS_SERVICE, [p for p in ALL if p != "svc/kube-system/kube-dns"]),
        (APP + DNS_PODS + DNS_SERVICE, []),
        (DNS_SERVICE + DNS_WORKLOAD, []),
        ("", []),  # an empty input stays an empty cluster
    ],
    ids=[
        "none",
        "kube-system declared",
        "pods only",
        "a workload's pods only",
        "service only",
        "both",
        "both, nothing else",
        "empty input",
    ],
)
def test_what_the_input_lacks_is_added(text: str, expected: list[str]) -> None:
    assert added(text) == expected
    assert added(text, Options(implicit_dns=False)) == []


@pytest.mark.parametrize(
    ("text", "note"),
    [
        (
            APP,
            "no kube-dns Service and no CoreDNS pods in the input: modelling KIND's CoreDNS "
            "(Deployment coredns, 2 pods labelled k8s-app=kube-dns) and Service "
            "kube-system/kube-dns 10.96.0.10 in kube-system (--no-implicit-dns to turn off)",
        ),
        (
            APP + DNS_PODS,
            "CoreDNS pods but no Service kube-system/kube-dns in the input: modelling KIND's "
            "(10.96.0.10, selecting k8s-app=kube-dns) (--no-implicit-dns to turn off)",
        ),
        (
            APP + DNS_SERVICE,
            "Service kube-system/kube-dns but no CoreDNS pods (k8s-app=kube-dns) in the input: "
            "modelling KIND's Deployment coredns (2 pods) (--no-implicit-dns to turn off)",
        ),
    ],
    ids=["none", "pods only", "service only"],
)
def test_one_info_line_says_what_was_added(text: str, note: str) -> None:
    notes = [d for d in build(text, ON).diagnostics if d.reason == "ImplicitAddon"]
    assert [(d.severity, d.one_line()) for d in notes] == [
        (Severity.INFO, f"{ADDON_PATH}: info: {note}")
    ]


def test_the_added_objects_are_kinds_own() -> None:
    cluster = build(APP + KUBE_SYSTEM, ON)
    (service,) = [s for s in cluster.services if s.id == "kube-system/kube-dns"]
    assert service.cluster_ip == "10.96.0.10"
    assert dict(service.selector or {}) == {"k8s-app": "kube-dns"}
    assert [(p.name, p.port, p.protocol, p.target_port) for p in service.ports] == [
        ("dns", 53, "UDP", 53),
        ("dns-tcp", 53, "TCP", 53),
        ("metrics", 9153, "TCP", 9153),
    ]
    pods = [p for p in cluster.pods if p.namespace == "kube-system"]
    assert [dict(p.labels) for p in pods] == [{"k8s-app": "kube-dns"}] * 2
    assert [(c.name, c.port, c.protocol) for c in pods[0].containers[0].ports] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
    ]
    (kube_system,) = [n for n in cluster.namespaces if n.name == "kube-system"]
    assert dict(kube_system.labels) == {  # the input's declaration is kept
        "team": "platform",
        "kubernetes.io/metadata.name": "kube-system",
    }


def test_the_service_leaves_kinds_address_to_a_service_of_the_input_holding_it() -> None:
    cluster = build(APP + HOLDS_THE_IP, ON)
    ips = {s.id: s.cluster_ip for s in cluster.services}
    assert ips["shop/other"] == "10.96.0.10"
    assert ips["kube-system/kube-dns"] not in (None, "10.96.0.10")


def test_the_tutorial_is_the_cluster_it_was_with_kinds_manifests_as_a_file() -> None:
    implicit = load_cluster([str(TUTORIAL)], ON)
    explicit = load_cluster([str(TUTORIAL), str(KIND_DNS)], ON)
    assert implicit.ok and explicit.ok
    assert snapshot(implicit.cluster) == snapshot(explicit.cluster)
    assert not [d for d in explicit.diagnostics if d.reason == "ImplicitAddon"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


NOTE = "<implicit>: info: no kube-dns Service and no CoreDNS pods in the input"


def test_lint_and_verify_agree_with_the_lab_on_the_tutorial_without_a_kube_system_file() -> None:
    assert not list(TUTORIAL.glob("kube-system*"))  # the tutorial's files, verbatim
    code, out, err = run("lint", str(TUTORIAL))
    dns_rules = [line for line in out.splitlines() if "k8s-app=kube-dns matches no pod" in line]
    assert (code, dns_rules) == (0, [])
    assert [line for line in err.splitlines() if line.startswith(NOTE)] == err.splitlines()
    assert len(err.splitlines()) == 1

    code, out, err = run("verify", str(TUTORIAL), "--expect", str(TUTORIAL / "expectations.yaml"))
    assert "kube-dns.kube-system" in out and "is not a Service" not in out + err
    assert out.splitlines()[-1] == "FAIL: 10 passed, 1 failed, 0 errors"  # the published bug


def test_no_implicit_dns_models_exactly_the_input() -> None:
    code, out, err = run("lint", str(TUTORIAL), "--no-implicit-dns")
    assert code == 0 and err == ""
    assert out.count("k8s-app=kube-dns matches no pod") == 2  # backend's and frontend's
    _, pods, _ = run("get", "pods", str(TUTORIAL), "--no-implicit-dns")
    assert "coredns" not in pods


def test_a_verb_that_loads_twice_says_it_once() -> None:
    files = [str(p) for p in sorted(TUTORIAL.glob("0[0-5]*.yaml"))]
    code, _, err = run("diff", *files, "--new", str(TUTORIAL / "06-frontend-netpol.yaml"))
    assert (code, [line[: len(NOTE)] for line in err.splitlines()]) == (0, [NOTE])


def test_refused_input_prints_no_info_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(APP.replace("name: web,", "name: Web,"))
    code, _, err = run("matrix", str(tmp_path))
    assert code == 2
    assert NOTE not in err


@pytest.mark.parametrize(
    "live", [{"live": True}, {"kubeconfig": "kc.yaml"}, {"context": "kind-kind"}], ids=str
)
def test_live_mode_adds_nothing(live: dict[str, object]) -> None:
    assert options_from({"paths": (), **live}).implicit_dns is False
    assert options_from({"paths": ("x.yaml",)}).implicit_dns is True
    assert options_from({"paths": ("x.yaml",), "no_implicit_dns": True}).implicit_dns is False
