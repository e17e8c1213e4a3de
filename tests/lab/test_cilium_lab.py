"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy on real packets (docs/cilium.md):
random clusters with random Cilium policies (deny and allow sections, entities, CIDRs,
L4-only and empty items, enableDefaultDeny off) beside NetworkPolicies, observed ==
predicted port by port, the outside client included (it is Cilium's world); then issue
15's story directed: a NetworkPolicy opens frontend -> backend, a CNP ``ingressDeny``
closes it, a CCNP denying the world closes the outside client's way in, and deleting them
opens both again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.cilium_generator import random_cilium_case
from tests.lab.conftest import (
    assert_lab_agrees,
    connects,
    lab_name,
    random_lab,
    requires_lab,
    write,
)
from tests.lab.tier_generator import yaml_text

from netpol.lab import inventory, lifecycle
from netpol.lab.view import read_input
from netpol.model.options import PROFILES, Options

pytestmark = [pytest.mark.lab, requires_lab, pytest.mark.usefixtures("host_untouched")]

CASES = 120


@pytest.fixture(scope="module")
def cilium_lab() -> Iterator[str]:
    yield from random_lab("t15cil", random_cilium_case(0), "cilium")


@pytest.mark.parametrize("seed", range(CASES))
def test_lab_matrix_equals_engine_matrix_under_cilium_policies(
    cilium_lab: str, seed: int, tmp_path: Path
) -> None:
    path = tmp_path / f"case-{seed}.yaml"
    path.write_text(yaml_text(random_cilium_case(seed)))
    view = assert_lab_agrees(cilium_lab, path, "cilium", f"seed {seed}")
    assert view.cluster.cilium_policies


# -- issue 15's story, directed -----------------------------------------------------------------

THREE_TIER = EXAMPLES / "three-tier"
FRONTEND, BACKEND, OUTSIDE = "frontend-deploy", "backend-deploy", "outside"
CILIUM = Options(profile=PROFILES["cilium"])

CNP_CLOSE_BACKEND = """
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: backend-maintenance, namespace: app1-ns}
spec:
  endpointSelector: {matchLabels: {role: backend}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {role: frontend}}]
    toPorts: [{ports: [{port: "5678", protocol: TCP}]}]
"""
CCNP_NO_WORLD = """
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: no-world}
spec:
  endpointSelector: {}
  enableDefaultDeny: {ingress: false, egress: false}
  ingressDeny: [{fromEntities: [world]}]
"""


@pytest.fixture(scope="module")
def three_tier() -> Iterator[str]:
    name = lab_name("t15three")
    lifecycle.up([str(THREE_TIER)], name, CILIUM)
    try:
        yield name
    finally:
        inventory.down(name)


def test_a_cilium_deny_closes_what_a_network_policy_opened(three_tier: str, tmp_path: Path) -> None:
    objects, _ = read_input([str(THREE_TIER)], CILIUM)
    lifecycle.replace([o.data for o in objects], three_tier)
    # backend-policy (a NetworkPolicy) opens 5678 to the frontend; frontend-policy's
    # ipBlock 0.0.0.0/0 lets the outside client in on 80 (under Cilium: the world only)
    assert connects(three_tier, FRONTEND, BACKEND, 5678)
    assert connects(three_tier, OUTSIDE, FRONTEND, 80)
    assert not connects(three_tier, "coredns-", FRONTEND, 80)  # a pod is never world

    change = lifecycle.apply([write(tmp_path, "cnp.yaml", CNP_CLOSE_BACKEND)], three_tier)
    assert change.lines[0] == "CiliumNetworkPolicy/app1-ns/backend-maintenance created"
    assert not connects(three_tier, FRONTEND, BACKEND, 5678)  # the deny tier comes first
    assert connects(three_tier, OUTSIDE, FRONTEND, 80)

    lifecycle.apply([write(tmp_path, "ccnp.yaml", CCNP_NO_WORLD)], three_tier)
    assert not connects(three_tier, OUTSIDE, FRONTEND, 80)  # the outside client is world

    change = lifecycle.delete(["ciliumnetworkpolicy/backend-maintenance"], three_tier)
    assert change.lines[0] == "CiliumNetworkPolicy/app1-ns/backend-maintenance deleted"
    assert connects(three_tier, FRONTEND, BACKEND, 5678)
    lifecycle.delete(["ccnp/no-world"], three_tier)
    assert connects(three_tier, OUTSIDE, FRONTEND, 80)
