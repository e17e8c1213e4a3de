"""CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy on real packets (docs/cilium.md):
random clusters with random Cilium policies (deny and allow sections, entities, CIDRs,
L4-only and empty items, enableDefaultDeny off) beside NetworkPolicies, observed ==
predicted port by port, the outside client included (it is Cilium's world) as a source
and, on three TCP ports, as a destination of every pod's egress; then issue
15's story directed: a NetworkPolicy opens frontend -> backend, a CNP ``ingressDeny``
closes it, a CCNP denying the world closes the outside client's way in, and deleting them
opens both again."""

from __future__ import annotations

import socket
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

from netpol.engine.endpoints import ip_endpoint
from netpol.engine.verdict import allowed
from netpol.lab import inventory, lifecycle, system
from netpol.lab.names import OUTSIDE_IP
from netpol.lab.view import LabView, read_input
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
    # the probe's destinations are pods: egress to the world is checked here, towards
    # listeners of the outside client
    problems = world_disagreements(cilium_lab, view)
    assert not problems, f"seed {seed}: egress to the world:\n  " + "\n  ".join(problems)


WORLD_PORTS = (80, 443, 9000)  # TCP ports the generated rules name


def world_disagreements(lab: str, view: LabView) -> list[str]:
    """Every pod -> the outside client on ``WORLD_PORTS``, connected or refused on
    packets, where the engine predicts otherwise."""
    state = lifecycle.require_up(lab)
    listeners = []
    with system.in_netns(state.names.outside_netns):
        for port in WORLD_PORTS:
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind((OUTSIDE_IP, port))
            server.listen(len(view.pods) + 1)  # the kernel completes the handshakes
            listeners.append(server)
    found = []
    world = ip_endpoint(OUTSIDE_IP)
    try:
        for lp in view.pods:
            predicted = allowed(view.cc, view.cc.endpoint(lp.pod), world)
            for port in WORLD_PORTS:
                with system.in_netns(state.pods[lp.pod.id].netns):
                    client = socket.socket()
                client.settimeout(2.0)
                try:
                    client.connect((OUTSIDE_IP, port))
                    observed = "connected"
                except ConnectionRefusedError:
                    observed = "refused"
                except OSError as exc:
                    observed = f"failed ({exc})"
                finally:
                    client.close()
                if (observed == "connected") != predicted.contains("TCP", port):
                    found.append(f"{lp.pod.id} -> {OUTSIDE_IP}:{port}: observed {observed}")
    finally:
        for server in listeners:
            server.close()
    return found


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
