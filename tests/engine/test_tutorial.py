"""The tutorial's application, read from examples/ through the loader as a user would.

Tiers are found by label (pod names are generated): frontend (role=frontend), backend
(role=backend), db (role=db), dns (k8s-app=kube-dns, two CoreDNS replicas). Each test
compares the engine's connection set between every ordered pair of pods with the exact
set the policies allow, so a flow that appears or disappears anywhere fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.endpoints import Endpoint, ip_endpoint, pod_endpoint
from netpol.engine.ports import ConnectionSet
from netpol.engine.verdict import evaluate
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import load_cluster

ALL = ConnectionSet.all()
NONE = ConnectionSet.none()
DNS = ConnectionSet.of("UDP", 53) | ConnectionSet.of("TCP", 53)
TIERS = ("frontend", "backend", "db", "dns")
PROFILE_NAMES = tuple(PROFILES)


def load(directory: Path, profile: str, with_policies: bool = True) -> CompiledCluster:
    """Load an example directory (optionally leaving out its NetworkPolicy files) and compile."""
    paths = sorted(str(p) for p in directory.glob("*.yaml"))
    if not with_policies:
        paths = [p for p in paths if "netpol" not in Path(p).name]
    options = Options(profile=PROFILES[profile])
    result = load_cluster(paths, options)
    assert result.ok, "\n".join(d.one_line() for d in result.errors)
    expected_policies = 3 if with_policies else 0
    assert len(result.cluster.policies) == expected_policies
    return compile_cluster(result.cluster, options)


def tier(pod: Pod) -> str:
    if pod.labels.get("k8s-app") == "kube-dns":
        return "dns"
    return pod.labels["role"]


def endpoint(cc: CompiledCluster, pod: Pod) -> Endpoint:
    return pod_endpoint(pod, cc.profile, cc.cluster.node_by_name.get(pod.node))


def pods_of(cc: CompiledCluster, name: str) -> list[Pod]:
    found = [p for p in cc.cluster.pods if tier(p) == name]
    assert found, f"no {name} pod in the example"
    return found


def matrix_by_tier(cc: CompiledCluster) -> dict[tuple[str, str], set[str]]:
    """(src tier, dst tier) -> the distinct allowed sets between their pods (self left out)."""
    assert {tier(p) for p in cc.cluster.pods} == set(TIERS)
    found: dict[tuple[str, str], set[str]] = {}
    for src in cc.cluster.pods:
        for dst in cc.cluster.pods:
            if src.id == dst.id:
                continue
            conns = evaluate(cc, endpoint(cc, src), endpoint(cc, dst)).allowed
            found.setdefault((tier(src), tier(dst)), set()).add(conns.text())
    return found


def expected_with_policies(
    profile: str, frontend_to_backend: ConnectionSet
) -> dict[tuple[str, str], set[str]]:
    """What the three policies allow among the pods; every other pair gets nothing.

    The frontend admits ipBlock 0.0.0.0/0 on TCP 80: that covers the DNS pods' IPs (the
    only sources without egress isolation) except under cilium, where ipBlock never
    matches pods.
    """
    to_frontend = NONE if profile == "cilium" else ConnectionSet.of("TCP", 80)
    allowed = {
        ("frontend", "backend"): frontend_to_backend,
        ("backend", "db"): ConnectionSet.of("TCP", 3306),
        ("frontend", "dns"): DNS,
        ("backend", "dns"): DNS,
        ("dns", "frontend"): to_frontend,
        ("dns", "dns"): ALL,  # the two CoreDNS replicas: no policy selects either
    }
    return {
        (s, d): {allowed.get((s, d), NONE).text()}
        for s in TIERS
        for d in TIERS
        if not (s == d and s != "dns")  # one pod per tier besides DNS: no pair with itself
    }


@pytest.mark.parametrize("example", ["three-tier", "tutorial", "three-tier-db-ns"])
def test_without_policies_everything_is_open(examples_dir: Path, example: str) -> None:
    cc = load(examples_dir / example, "upstream", with_policies=False)
    assert matrix_by_tier(cc) == {
        (s, d): {"All Connections"} for s in TIERS for d in TIERS if not (s == d and s != "dns")
    }


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("example", ["three-tier", "three-tier-db-ns"])
def test_fixed_policies_allow_exactly_the_tutorials_flows(
    examples_dir: Path, example: str, profile: str
) -> None:
    cc = load(examples_dir / example, profile)
    assert matrix_by_tier(cc) == expected_with_policies(profile, ConnectionSet.of("TCP", 5678))


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_published_tutorial_blocks_frontend_to_backend(examples_dir: Path, profile: str) -> None:
    cc = load(examples_dir / "tutorial", profile)
    assert matrix_by_tier(cc) == expected_with_policies(profile, NONE)


def test_published_tutorial_explains_the_role_web_mistake(examples_dir: Path) -> None:
    cc = load(examples_dir / "tutorial", "upstream")
    (frontend,) = pods_of(cc, "frontend")
    (backend,) = pods_of(cc, "backend")
    verdict = evaluate(cc, endpoint(cc, frontend), endpoint(cc, backend))
    assert verdict.allowed.is_empty
    # the frontend's own egress would allow it ...
    assert [o.rule.label for o in verdict.egress.allowing("TCP", 5678)] == [
        "app1-ns/frontend-policy egress[0]"
    ]
    # ... the backend's ingress rule 0 does not, because of its role=web pod selector
    assert [p.id for p in verdict.ingress.policies] == ["app1-ns/backend-policy"]
    (outcome,) = verdict.ingress.outcomes
    assert outcome.rule.label == "app1-ns/backend-policy ingress[0]"
    assert not outcome.peer_matched
    (miss,) = outcome.peer_misses
    assert miss.part == "pod"
    assert f"podSelector app=app1,role=web does not match {frontend.id}" in miss.detail
    assert miss.detail.endswith("(app=app1,role=frontend): role=web fails")


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_frontend_admits_external_clients_on_80_only(examples_dir: Path, profile: str) -> None:
    cc = load(examples_dir / "three-tier", profile)
    (frontend,) = pods_of(cc, "frontend")
    client = ip_endpoint("203.0.113.5")
    assert evaluate(cc, client, endpoint(cc, frontend)).allowed == ConnectionSet.of("TCP", 80)
    for other in ("backend", "db"):
        (pod,) = pods_of(cc, other)
        assert evaluate(cc, client, endpoint(cc, pod)).allowed.is_empty
    assert evaluate(cc, endpoint(cc, frontend), ip_endpoint("8.8.8.8")).allowed.is_empty


# --- AND vs OR (the tutorial's DNS example, spec 2.3) ---------------------------------

AND_OR_WORLD = """\
apiVersion: v1
kind: Namespace
metadata: {name: app1-ns}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
{pods}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-or, namespace: app1-ns}
spec:
  podSelector: {matchLabels: {app: or-client}}
  policyTypes: [Egress]
  egress:
  - to:                                   # two items: OR
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
    - podSelector:
        matchLabels: {k8s-app: kube-dns}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-and, namespace: app1-ns}
spec:
  podSelector: {matchLabels: {app: and-client}}
  policyTypes: [Egress]
  egress:
  - to:                                   # one item with both selectors: AND
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
      podSelector:
        matchLabels: {k8s-app: kube-dns}
"""
AND_OR_PODS = {
    "app1-ns/or-client": ("10.244.0.1", "app: or-client"),
    "app1-ns/and-client": ("10.244.0.2", "app: and-client"),
    "kube-system/coredns": ("10.244.0.10", "k8s-app: kube-dns"),
    "kube-system/metrics-server": ("10.244.0.11", "k8s-app: metrics-server"),
    "app1-ns/impostor": ("10.244.0.20", "k8s-app: kube-dns"),
    "other/impostor": ("10.244.0.21", "k8s-app: kube-dns"),
}


def _and_or_cluster(load_yaml: Callable[..., Cluster]) -> CompiledCluster:
    pods = "\n---\n".join(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {pod_id.split('/')[1]}, "
        f"namespace: {pod_id.split('/')[0]}, labels: {{{labels}}}}}\n"
        f"spec: {{containers: [{{name: main, image: busybox}}]}}\n"
        f"status: {{podIP: {ip}}}"
        for pod_id, (ip, labels) in AND_OR_PODS.items()
    )
    options = Options()
    return compile_cluster(load_yaml(AND_OR_WORLD.replace("{pods}", pods), options), options)


@pytest.mark.parametrize(
    ("client", "destination", "allowed"),
    [
        pytest.param("or-client", "kube-system/coredns", True, id="or-coredns"),
        pytest.param("or-client", "kube-system/metrics-server", True, id="or-any-kube-system-pod"),
        pytest.param("or-client", "app1-ns/impostor", True, id="or-kube-dns-label-in-own-ns"),
        # a lone podSelector means the policy's namespace (spec 2.3), not "any namespace"
        pytest.param("or-client", "other/impostor", False, id="or-kube-dns-label-elsewhere"),
        pytest.param("and-client", "kube-system/coredns", True, id="and-coredns"),
        pytest.param(
            "and-client", "kube-system/metrics-server", False, id="and-other-kube-system-pod"
        ),
        pytest.param("and-client", "app1-ns/impostor", False, id="and-kube-dns-label-in-own-ns"),
        pytest.param("and-client", "other/impostor", False, id="and-kube-dns-label-elsewhere"),
    ],
)
def test_and_versus_or_peers(
    yaml_cluster: Callable[..., Cluster], client: str, destination: str, allowed: bool
) -> None:
    cc = _and_or_cluster(yaml_cluster)
    pods = cc.cluster.pod_by_id
    src = endpoint(cc, pods[f"app1-ns/{client}"])
    verdict = evaluate(cc, src, endpoint(cc, pods[destination]))
    assert verdict.allows("UDP", 53) is allowed
    assert verdict.allowed == (ALL if allowed else NONE)  # the rules have no ports
    if not allowed:
        parts = [m.part for o in verdict.egress.outcomes for m in o.peer_misses]
        assert parts and set(parts) <= {"namespace", "pod"}
