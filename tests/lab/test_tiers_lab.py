"""Tiered policies on real packets: random clusters with AdminNetworkPolicies, a
BaselineAdminNetworkPolicy and Calico tiers and policies, observed == predicted port by
port; then the conformance stories directed (an admin Deny beats a NetworkPolicy allow,
Pass falls through to the NetworkPolicy then to the baseline, a Calico order 100 Deny),
changed with ``lab apply`` and ``lab delete`` by file and by KIND/NAME."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.conftest import (
    assert_lab_agrees,
    connects,
    lab_name,
    random_lab,
    requires_lab,
    write,
)
from tests.lab.test_cleanup_lab import leftovers
from tests.lab.tier_generator import random_tiered_case, yaml_text

from netpol.lab import inventory, lifecycle
from netpol.lab.system import LabError
from netpol.lab.view import read_input
from netpol.model.options import Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]

CASES = 250
CILIUM_CASES = 30


# -- random clusters ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    yield from random_lab("t8tier", random_tiered_case(0), "upstream")


@pytest.fixture(scope="module")
def cilium_lab() -> Iterator[str]:
    yield from random_lab("t8tcil", random_tiered_case(0), "cilium")


def check(lab: str, seed: int, tmp_path: Path, profile: str) -> None:
    path = tmp_path / f"case-{seed}.yaml"
    path.write_text(yaml_text(random_tiered_case(seed)))
    view = assert_lab_agrees(lab, path, profile, f"seed {seed}")
    assert view.cluster.tiered_policies


@pytest.mark.parametrize("seed", range(CASES))
def test_lab_matrix_equals_engine_matrix_under_tiers(lab: str, seed: int, tmp_path: Path) -> None:
    check(lab, seed, tmp_path, "upstream")


@pytest.mark.parametrize("seed", range(1000, 1000 + CILIUM_CASES))
def test_lab_matrix_equals_engine_matrix_under_tiers_and_cilium(
    cilium_lab: str, seed: int, tmp_path: Path
) -> None:
    check(cilium_lab, seed, tmp_path, "cilium")


# -- the conformance stories, directed --------------------------------------------------------

THREE_TIER = EXAMPLES / "three-tier"
BACKEND, DB = "backend-deploy", "db-sts-0"
COREDNS = "coredns-"  # both CoreDNS pods: no policy of the example limits their egress

ANP_DENY_DB = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-mysql}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {role: db}}}}
  ingress:
  - name: no-mysql-from-anyone
    action: Deny
    from: [{namespaces: {}}]
    ports: [{portNumber: {protocol: TCP, port: 3306}}]
"""
ANP_PASS_DB = ANP_DENY_DB.replace("no-mysql", "pass-mysql").replace("Deny", "Pass")
BANP_DENY_DB = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {role: db}}}}
  ingress:
  - action: Deny
    from: [{namespaces: {}}]
"""
GNP_DENY_DB = """
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-mysql}
spec:
  order: ORDER
  selector: role == 'db'
  types: [Ingress]
  ingress:
  - action: Deny
    protocol: TCP
    source: {selector: role == 'backend'}
    destination: {ports: [3306]}
"""


@pytest.fixture(scope="module")
def three_tier() -> Iterator[str]:
    name = lab_name("t8three")
    lifecycle.up([str(THREE_TIER)], name, Options())
    try:
        yield name
    finally:
        inventory.down(name)


def reset(lab: str) -> None:
    """Back to the three-tier example as shipped (its NetworkPolicies, no tiered ones)."""
    objects, _ = read_input([str(THREE_TIER)], Options())
    lifecycle.replace([o.data for o in objects], lab)


def test_an_admin_deny_beats_a_network_policy_allow(three_tier: str, tmp_path: Path) -> None:
    reset(three_tier)
    assert connects(three_tier, BACKEND, DB, 3306)  # db-policy allows the backend
    anp = write(tmp_path, "anp.yaml", ANP_DENY_DB)
    change = lifecycle.apply([anp], three_tier)
    assert change.lines == ["AdminNetworkPolicy/no-mysql created"]
    assert not connects(three_tier, BACKEND, DB, 3306)
    change = lifecycle.delete(["anp/no-mysql"], three_tier)
    assert change.lines == ["AdminNetworkPolicy/no-mysql deleted"]
    assert connects(three_tier, BACKEND, DB, 3306)


def test_pass_falls_through_to_the_network_policy_then_to_the_baseline(
    three_tier: str, tmp_path: Path
) -> None:
    reset(three_tier)
    lifecycle.apply(
        [write(tmp_path, "pass.yaml", ANP_PASS_DB), write(tmp_path, "banp.yaml", BANP_DENY_DB)],
        three_tier,
    )
    # passed to the NetworkPolicy tier: db-policy admits the backend and nobody else
    assert connects(three_tier, BACKEND, DB, 3306)
    assert not connects(three_tier, COREDNS, DB, 3306)
    # no NetworkPolicy selects db any more: the pass reaches the baseline's Deny
    change = lifecycle.delete(["networkpolicy/db-policy"], three_tier, namespace="app1-ns")
    assert change.lines == ["NetworkPolicy/app1-ns/db-policy deleted"]
    assert not connects(three_tier, BACKEND, DB, 3306)
    # and without the baseline, nothing decides: allowed
    change = lifecycle.delete(["banp/default"], three_tier)
    assert change.lines == ["BaselineAdminNetworkPolicy/default deleted"]
    assert connects(three_tier, BACKEND, DB, 3306)
    assert connects(three_tier, COREDNS, DB, 3306)
    lifecycle.delete(["AdminNetworkPolicy/pass-mysql"], three_tier)


@pytest.mark.parametrize(("order", "backend_reaches_db"), [(100, False), (2000, True)])
def test_a_calico_deny_of_order_100_comes_before_the_network_policy_allow(
    three_tier: str, tmp_path: Path, order: int, backend_reaches_db: bool
) -> None:
    # Kubernetes NetworkPolicies sit at order 1000 of Calico's default tier: an earlier
    # Deny wins, a later one never sees the allowed connection
    reset(three_tier)
    gnp = write(tmp_path, "gnp.yaml", GNP_DENY_DB.replace("ORDER", str(order)))
    lifecycle.apply([gnp], three_tier)
    assert connects(three_tier, BACKEND, DB, 3306) is backend_reaches_db
    # the Deny's rule does not match CoreDNS: on to db-policy (the same tier), which refuses it
    assert not connects(three_tier, COREDNS, DB, 3306)
    change = lifecycle.delete([gnp], three_tier)
    assert change.lines == ["GlobalNetworkPolicy/no-mysql deleted"]
    assert connects(three_tier, BACKEND, DB, 3306)


def test_a_calico_pass_leaves_the_default_tier_before_its_network_policies(
    three_tier: str, tmp_path: Path
) -> None:
    reset(three_tier)
    gnp = write(
        tmp_path,
        "pass.yaml",
        """
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: pass-db}
        spec:
          order: 100
          selector: role == 'db'
          ingress: [{action: Pass}]
        """,
    )
    lifecycle.apply([gnp], three_tier)
    # db-policy (order 1000 of the same tier) never sees it; no tier below selects db
    assert connects(three_tier, COREDNS, DB, 3306)
    lifecycle.apply([write(tmp_path, "banp.yaml", BANP_DENY_DB)], three_tier)
    assert not connects(three_tier, COREDNS, DB, 3306)  # the baseline does
    lifecycle.delete([gnp, "baselineadminnetworkpolicy/default"], three_tier)
    assert not connects(three_tier, COREDNS, DB, 3306)  # db-policy again


@pytest.mark.parametrize(
    "target", ["gnp/no-mysql", "globalnetworkpolicy/no-mysql", "GlobalNetworkPolicy/no-mysql"]
)
def test_lab_delete_takes_calico_kinds_by_their_kubectl_names(
    three_tier: str, tmp_path: Path, target: str
) -> None:
    reset(three_tier)
    lifecycle.apply([write(tmp_path, "gnp.yaml", GNP_DENY_DB.replace("ORDER", "100"))], three_tier)
    assert not connects(three_tier, BACKEND, DB, 3306)
    assert lifecycle.delete([target], three_tier).lines == ["GlobalNetworkPolicy/no-mysql deleted"]
    assert connects(three_tier, BACKEND, DB, 3306)


def test_a_calico_and_a_kubernetes_network_policy_of_one_name_live_side_by_side(
    three_tier: str, tmp_path: Path
) -> None:
    reset(three_tier)
    calico = write(
        tmp_path,
        "calico.yaml",
        """
        apiVersion: projectcalico.org/v3
        kind: NetworkPolicy
        metadata: {name: db-policy, namespace: app1-ns}
        spec:
          order: 10
          selector: role == 'db'
          ingress:
          - action: Deny
            protocol: TCP
            source: {selector: role == 'backend'}
        """,
    )
    change = lifecycle.apply([calico], three_tier)
    # created beside Kubernetes' db-policy, not configured over it
    assert change.lines == ["NetworkPolicy.projectcalico.org/app1-ns/db-policy created"]
    assert not connects(three_tier, BACKEND, DB, 3306)  # the Calico one denies first
    # deleting the Kubernetes one by name leaves Calico's in force
    change = lifecycle.delete(["netpol/db-policy"], three_tier, namespace="app1-ns")
    assert change.lines == ["NetworkPolicy/app1-ns/db-policy deleted"]
    assert not connects(three_tier, BACKEND, DB, 3306)
    change = lifecycle.delete(["caliconetworkpolicy/db-policy"], three_tier)
    assert change.lines == ["NetworkPolicy.projectcalico.org/app1-ns/db-policy deleted"]
    assert connects(three_tier, BACKEND, DB, 3306)


def test_deleting_what_is_not_there_names_the_kind(three_tier: str) -> None:
    reset(three_tier)
    with pytest.raises(LabError) as caught:
        lifecycle.delete(["anp/nope"], three_tier)
    assert str(caught.value) == "AdminNetworkPolicy nope is not in the lab"
    # "cnp" is claimed by ClusterNetworkPolicy and by Calico's NetworkPolicy: neither wins
    with pytest.raises(LabError) as caught:
        lifecycle.delete(["cnp/nope"], three_tier)
    assert str(caught.value) == (
        "'cnp/nope' is neither a file nor KIND/NAME (e.g. networkpolicy/db-policy)"
    )


# -- the commands, and nothing left behind ----------------------------------------------------


def netpol(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "netpol", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def test_tiered_kinds_through_the_commands_and_down_leaves_nothing(tmp_path: Path) -> None:
    lab = lab_name("t8cmd")
    anp = write(tmp_path, "anp.yaml", ANP_DENY_DB)
    try:
        done = netpol("lab", "up", "--name", lab, str(THREE_TIER), anp)
        assert done.returncode == 0, done.stderr
        assert not connects(lab, BACKEND, DB, 3306)
        # a change the validator refuses leaves the rules in force as they were
        broken = write(tmp_path, "broken.yaml", ANP_DENY_DB.replace("priority: 10", "priority: x"))
        done = netpol("lab", "apply", "--name", lab, broken)
        assert done.returncode != 0 and "spec.priority" in done.stdout + done.stderr
        assert not connects(lab, BACKEND, DB, 3306)
        done = netpol("lab", "delete", "anp/no-mysql", "--name", lab)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0] == "AdminNetworkPolicy/no-mysql deleted"
        assert connects(lab, BACKEND, DB, 3306)
    finally:
        done = netpol("lab", "down", "--name", lab)
    assert done.returncode == 0, done.stderr
    assert leftovers(lab) == []
