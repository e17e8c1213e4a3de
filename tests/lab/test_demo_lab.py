"""``netpol demo``: the tutorial's story, on real packets and on the engine alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.lab.conftest import lab_name, requires_lab


def run_demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netpol", "demo", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
        env=env,
    )


def assert_the_story(out: str) -> None:
    assert "Step 3: everyone can talk to everyone" in out
    assert "kubectl apply -f 04-db-netpol.yaml" in out
    assert "kubectl apply -f 06-frontend-netpol.yaml" in out
    step5, after_fix = out.split("Step 5: verification, as published")[1].split("Step 5 again")
    assert "telnet backend-svc 5678" in step5
    assert "[NOT AS EXPECTED]" in step5
    assert step5.count("[NOT AS EXPECTED]") == 1
    assert "role=web fails" in step5  # the explanation
    assert "[peer-selects-nothing]" in step5  # the lint finding
    assert "+              role: frontend" in step5  # the one-line fix
    assert "Step 5 holds." in after_fix
    assert "[NOT AS EXPECTED]" not in after_fix
    assert "cannot resolve db-sts-0.db-svc.app1-ns.svc.cluster.local" in after_fix
    frozen, passed = after_fix.split("Beyond the tutorial: a cluster admin freezes the database")[
        1
    ].split("freeze-db with action Pass")
    assert "[NOT AS EXPECTED]" not in frozen + passed
    assert "telnet db-sts-0.db-svc.app1-ns.svc.cluster.local 3306" in frozen
    assert (
        'ingress of db-sts-0: [AdminNetworkPolicy freeze-db ingress[0] "maintenance"] Deny'
        in frozen
    )
    assert (
        '[AdminNetworkPolicy freeze-db ingress[0] "maintenance"] Pass -> '
        "[NetworkPolicy app1-ns/db-policy ingress[0]] Allow" in passed
    )


@pytest.mark.lab
@requires_lab
@pytest.mark.usefixtures("host_untouched")
def test_demo_on_real_packets() -> None:
    done = run_demo("--name", lab_name("demo"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "on real packets in the lab" in done.stdout
    assert_the_story(done.stdout)
    assert "every one agreed with the engine" in done.stdout
    assert "removed" in done.stdout


def test_demo_on_the_engine_alone() -> None:
    done = run_demo("--engine-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "on the engine alone (no real packets)" in done.stdout
    assert "predicted by the engine (no packets)" in done.stdout
    assert_the_story(done.stdout)


def assert_the_cilium_story(out: str) -> None:
    opened, no_world, closed, deleted = _split(
        out, "A CiliumClusterwideNetworkPolicy no-world", "A CiliumNetworkPolicy", "deleted:"
    )
    assert "the tutorial's Step 5 checks, under Cilium" in opened
    assert "[NOT AS EXPECTED]" not in out
    assert (
        "ingress of frontend-deploy, from outside: allowed by app1-ns/frontend-policy "
        "ingress[0]: from[0] ipBlock 0.0.0.0/0; ports 80/TCP" in opened
    )
    # the world entity is the lab's outside client, and only it
    assert (
        "1 connection now refused\n      ✗ outside -> app1-ns/frontend-deploy 80/TCP\n" in no_world
    )
    assert (
        "ingress of frontend-deploy, now: [CiliumClusterwideNetworkPolicy no-world "
        "ingressDeny[0]] Deny" in no_world
    )
    assert (
        "ingress of backend-deploy, before: [NetworkPolicy app1-ns/backend-policy ingress[0]] "
        "Allow" in closed
    )
    assert (
        "1 connection now refused\n      ✗ app1-ns/frontend-deploy -> app1-ns/backend-deploy "
        "5678/TCP\n" in closed
    )
    assert "telnet backend-svc 5678" in closed and "refused" in closed
    assert (
        "ingress of backend-deploy, now: [CiliumNetworkPolicy app1-ns/backend-maintenance "
        "ingressDeny[0]] Deny" in closed
    )
    assert "2 connections now open" in deleted
    assert "Connected to backend-svc" in deleted


def _split(text: str, *markers: str) -> list[str]:
    """``text`` cut before each marker, in order (each must be there)."""
    parts = []
    for marker in markers:
        before, found, text = text.partition(marker)
        assert found, marker
        parts.append(before)
        text = marker + text
    return [*parts, text]


@pytest.mark.lab
@requires_lab
@pytest.mark.usefixtures("host_untouched")
def test_the_cilium_demo_on_real_packets() -> None:
    done = run_demo("--cilium", "--name", lab_name("cdemo"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "under Cilium, on real packets in the lab" in done.stdout
    assert_the_cilium_story(done.stdout)
    assert "real connections probed in all; every one agreed with the engine" in done.stdout
    assert "removed" in done.stdout


def test_the_cilium_demo_on_the_engine_alone() -> None:
    done = run_demo("--cilium", "--engine-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "under Cilium, on the engine alone (no real packets)" in done.stdout
    assert "predicted by the engine (no packets)" in done.stdout
    assert_the_cilium_story(done.stdout)


def test_the_cilium_demo_falls_back_to_the_engine_where_the_lab_cannot_run() -> None:
    # no ip, no nft on the PATH (and, in CI, no root): the story is told on the engine
    done = run_demo("--cilium", env={**os.environ, "PATH": "/nonexistent"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("The lab cannot run here: ")
    assert "Telling the same story on the engine alone" in done.stdout
    assert_the_cilium_story(done.stdout)
