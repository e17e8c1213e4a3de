"""Calico and tier cases a review found wrong (each failed before its fix): blank rule
selectors are unset, service-account selectors see ``projectcalico.org/name``, a declared
``default`` Tier keeps its place, and a non-finite order is invalid in validate as in load.

Each test builds a small cluster through the real loader (as the CLI does) and checks
what a real Calico cluster, or spec 6.3, would decide.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from tests.conftest import cluster_from_yaml

from netpol.cli.matrix_cmd import command as matrix
from netpol.cli.validate_cmd import command as validate
from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import pod_endpoint
from netpol.engine.matrix import class_matrix
from netpol.engine.verdict import allowed
from netpol.model.options import Options

WORLD = """
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {kubernetes.io/metadata.name: x, team: red}}
---
apiVersion: v1
kind: Namespace
metadata: {name: 'y', labels: {kubernetes.io/metadata.name: 'y', team: blue}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa1, namespace: x, labels: {tier: gold}}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: web}}
spec:
  serviceAccountName: sa1
  nodeName: n1
  containers: [{name: c, image: i}]
status: {podIP: 10.0.1.1, podIPs: [{ip: 10.0.1.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: db}}
spec:
  nodeName: n1
  containers: [{name: c, image: i}]
status: {podIP: 10.0.1.2, podIPs: [{ip: 10.0.1.2}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: 'y', labels: {app: web}}
spec:
  nodeName: n1
  containers: [{name: c, image: i}]
status: {podIP: 10.0.2.1, podIPs: [{ip: 10.0.2.1}]}
"""


def port_80_allowed(policies: str, src: str, dst: str) -> bool:
    """Verdict for src -> dst on 80/TCP; the class matrix must agree with it."""
    cluster = cluster_from_yaml(WORLD + "---\n" + policies)
    cc = compile_cluster(cluster, Options())
    s, d = (pod_endpoint(cluster.pod_by_id[p], cc.profile) for p in (src, dst))
    verdict = allowed(cc, s, d).contains("TCP", 80)
    assert class_matrix(cc).pod_connections(src, dst).contains("TCP", 80) == verdict
    return verdict


# --- 1. Calico: an empty-string selector field in a rule entity is "not set" -------------


def test_calico_empty_rule_selector_is_unset_not_all() -> None:
    """libcalico-go (RuleAPIV2ToBackend) namespaces a rule's selector only when Selector,
    NotSelector or NamespaceSelector is != "": ``source: {selector: ""}`` is an entity that
    sets nothing, so it matches every source, other namespaces included."""
    policy = """
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-any, namespace: x}
spec:
  selector: all()
  types: [Ingress]
  ingress:
  - action: Allow
    source:
      selector: ""
"""
    assert port_80_allowed(policy, "y/a", "x/a")


def test_calico_empty_not_selector_excludes_nothing() -> None:
    """``notSelector: ""`` is unset in Calico (a Go string field, checked with != ""); netpol
    reads it as ``!all()`` and the Allow rule matches no pod at all."""
    policy = """
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: notsel-empty}
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress:
  - action: Allow
    source:
      notSelector: ""
"""
    assert port_80_allowed(policy, "x/b", "x/a")


# --- 2. Calico: a service account's profile labels include projectcalico.org/name --------


def test_calico_service_account_selector_sees_projectcalico_name() -> None:
    """Calico's ServiceAccountToProfile adds ``projectcalico.org/name: <sa>`` to the
    account's labels ("allows exact matching based on name within the
    serviceAccountSelector"), as NamespaceToProfile does for namespaces (which netpol
    does). x/a runs as sa1, so the Deny takes its connection to x/b."""
    policy = """
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-from-sa1}
spec:
  selector: app == 'db'
  types: [Ingress]
  ingress:
  - action: Deny
    source:
      serviceAccounts: {selector: "projectcalico.org/name == 'sa1'"}
  - action: Allow
"""
    assert not port_80_allowed(policy, "x/a", "x/b")


# --- 3. A Tier named like a built-in one moves the NetworkPolicies (spec 6.3) ------------


def test_tier_named_default_cannot_put_baseline_before_network_policies(tmp_path: Path) -> None:
    """A ``Tier default`` with no order is accepted by ``validate`` and then sorts after
    kube-baseline, so the BANP decides for a pod a NetworkPolicy isolates - spec 6.3 step 2
    says the NetworkPolicy is final and BANP is not consulted (and Calico fixes the default
    tier's order at 1,000,000). Either validate refuses the Tier, or the verdict stays
    the NetworkPolicy's allow."""
    policies = """
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: default}
spec: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-y, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
"""
    path = tmp_path / "tiers.yaml"
    path.write_text(WORLD + "---\n" + policies)
    checked = CliRunner().invoke(validate, [str(path)], catch_exceptions=False)
    if checked.exit_code != 0:
        assert "Tier/default" in checked.output and "spec.order" in checked.output
        return
    assert port_80_allowed(policies, "y/a", "x/a")


# --- 4. validate and the loader disagree on an infinite order ----------------------------


def test_validate_rejects_an_order_the_loader_refuses(tmp_path: Path) -> None:
    """``order: .inf`` passed ``netpol validate`` (exit 0, "all valid") but ``netpol
    matrix`` refused it with exit 2 ("must be a number (value: inf)"). It cannot be sent to
    an API server either (JSON has no Infinity): kubectl refuses the file while turning
    the YAML into JSON, and so do both verbs now, on the line of the value."""
    path = tmp_path / "inf.yaml"
    path.write_text(
        """apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: inf}
spec:
  order: .inf
  selector: all()
  ingress: [{action: Deny}]
"""
    )
    refusal = 'inf.yaml:5: error: invalid YAML: ".inf" is a YAML float (infinite or NaN)'
    loaded = CliRunner().invoke(matrix, [str(path)], catch_exceptions=False)
    assert loaded.exit_code == 2 and refusal in loaded.output
    checked = CliRunner().invoke(validate, [str(path)], catch_exceptions=False)
    assert checked.exit_code == 2 and refusal in checked.output, checked.output
