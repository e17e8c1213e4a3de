"""``netpol demo --cilium``: the tutorial's app under Cilium, where Cilium's own deny
policies close what Kubernetes NetworkPolicies opened (docs/cilium.md).

The story: the three tiers come up with the tutorial's policies and the one-line fix, read
as Cilium enforces them (an ipBlock never matches a pod, so frontend-policy's 0.0.0.0/0
admits the outside client and no pod); every pair is probed and Step 5's checks hold. A
CiliumClusterwideNetworkPolicy denies app1-ns the ``world`` entity: the lab's outside client is
world, and its way in on port 80 closes. Then a CiliumNetworkPolicy ``ingressDeny`` on the
backend closes frontend -> backend although backend-policy still allows it: Cilium's deny
tier comes before every allow; the decision chain before and after is printed. Deleting
both opens everything again. Every change is probed on every pair and compared with the
engine, as in the tutorial's story (``demo.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netpol.lab import truth
from netpol.lab.demo import (
    BACKEND_POLICY,
    BASE_FILES,
    POLICY_FILES,
    Backend,
    Hooks,
    Outcome,
    Say,
    objects,
    probe_again,
    say_checks,
    say_total,
    shown,
    where_told,
)
from netpol.lab.names import OUTSIDE_IP
from netpol.lab.probe import ProbeReport
from netpol.lab.tutorial import Expectation, step5
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

CILIUM = Options(profile=PROFILES["cilium"])
NO_WORLD = "no-world"
MAINTENANCE = "backend-maintenance"
FRONTEND = "app1-ns/frontend-deploy"


def no_world() -> dict[str, Any]:
    """The app's namespace closed to the world (a clusterwide policy names the namespace
    itself), and nothing else changed (default deny off: a pure deny)."""
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": NO_WORLD},
        "spec": {
            "endpointSelector": {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "app1-ns"}},
            "enableDefaultDeny": {"ingress": False, "egress": False},
            "ingressDeny": [{"fromEntities": ["world"]}],
        },
    }


def backend_maintenance() -> dict[str, Any]:
    """The backend's port 5678 closed to the frontend, whatever NetworkPolicy allows it."""
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": MAINTENANCE, "namespace": "app1-ns"},
        "spec": {
            "endpointSelector": {"matchLabels": {"role": "backend"}},
            "enableDefaultDeny": {"ingress": False},
            "ingressDeny": [
                {
                    "fromEndpoints": [{"matchLabels": {"role": "frontend"}}],
                    "toPorts": [{"ports": [{"port": "5678", "protocol": "TCP"}]}],
                }
            ],
        },
    }


def deciding(lines: list[str], direction: str) -> str:
    """What decided the ``direction`` side in ``explain``'s text: the decision chain (tiers
    in force), else the rule that allowed it, else the verdict of that side."""
    found: list[str] = []
    inside = False
    for line in lines:
        text = line.strip()
        if line.startswith("  ") and not line.startswith("    "):
            inside = text.startswith(direction)
            if inside:
                found.append(text.rpartition(": ")[2])
            continue
        if inside and text.startswith(("decision: ", "allowed by ")):
            return text.removeprefix("decision: ")
    return found[0] if found else "?"


def run_cilium(say: Say, backend: Backend, examples: Path, hooks: Hooks) -> Outcome:
    """Tell the Cilium story through ``say``; the caller decides whether to stop the backend."""
    tutorial = examples / "tutorial"
    fixed_backend = examples / "three-tier" / BACKEND_POLICY
    outcome = Outcome()
    where = where_told(backend)
    labels: dict[str, str] = {}
    to_backend = next(e for e in step5() if e.source == FRONTEND and e.connects)
    backend_target = f"{to_backend.host}:{to_backend.port}"
    frontend_target = f"{FRONTEND}:80"

    def checks(title: str, expectations: list[Expectation]) -> bool:
        return say_checks(say, backend, title, expectations, labels)

    def change(title: str, applied: list[dict[str, Any]], before: ProbeReport) -> Step:
        view = backend.replace(applied)
        after = probe_again(backend, outcome)
        closed, opened = truth.changes(before, after)
        say(f"  {title}: {truth.changes_summary(closed, opened)}")
        for line in truth.changes_lines(closed, opened, 8):
            say(f"      {line}")
        return Step(view.cluster, after)

    def chain(cluster: Cluster, source: str, target: str, who: str, when: str) -> None:
        if hooks.explain is not None:
            lines = hooks.explain(cluster, source, target)
            say(f"  ingress of {who}, {when}: {deciding(lines, 'Ingress')}")

    say(f"netpol demo --cilium: the tutorial's 3-tier app under Cilium, {where}.")
    say("")
    say(
        f"The app and its policies ({shown(tutorial)}, with the one-line fix of "
        f"{shown(fixed_backend)}), as Cilium enforces them: an ipBlock never matches a pod"
    )
    started = time.perf_counter()
    applied = objects(
        *(tutorial / f for f in BASE_FILES + POLICY_FILES if f != BACKEND_POLICY), fixed_backend
    )
    view = backend.start(applied)
    say(
        f"  {len(view.pods)} pods, {len(view.cluster.services)} services, "
        f"{len(view.cluster.policies)} NetworkPolicies"
        + (f"; up in {time.perf_counter() - started:.1f} s" if backend.real else "")
    )
    report = probe_again(backend, outcome)
    say("")
    say("Every pair (✓ connected, ✗ refused; ! = the engine predicted otherwise)")
    for line in truth.render(report, report.labels):
        say("  " + line if line else "")
    labels.update(report.labels)
    holds = checks("  the tutorial's Step 5 checks, under Cilium:", step5())
    chain(view.cluster, OUTSIDE_IP, frontend_target, "frontend-deploy", "from outside")

    say("")
    say(
        f"A CiliumClusterwideNetworkPolicy {NO_WORLD}: app1-ns's pods deny ingress from the "
        f"entity world (the lab's outside client {OUTSIDE_IP} is world; default deny off, so "
        "it only denies)"
    )
    no_outside = [*applied, no_world()]
    step = change(f"kubectl apply -f {NO_WORLD}.yaml", no_outside, report)
    chain(step.cluster, OUTSIDE_IP, frontend_target, "frontend-deploy", "now")

    say("")
    say(
        f"A CiliumNetworkPolicy {MAINTENANCE}: ingressDeny to the backend from role=frontend "
        "on 5678/TCP (default deny off, so it only denies)"
    )
    chain(step.cluster, FRONTEND, backend_target, "backend-deploy", "before")
    step = change(
        f"kubectl apply -f {MAINTENANCE}.yaml", [*no_outside, backend_maintenance()], step.report
    )
    refused = Expectation(
        to_backend.source, to_backend.host, to_backend.port, False, "the Cilium deny comes first"
    )
    holds &= checks(
        "  backend-policy still allows the frontend, but Cilium's deny tier decides first:",
        [refused],
    )
    chain(step.cluster, FRONTEND, backend_target, "backend-deploy", "now")

    say("")
    say("Both Cilium policies deleted:")
    change(f"kubectl delete ccnp/{NO_WORLD} ciliumnp/{MAINTENANCE}", applied, step.report)
    holds &= checks("  the frontend reaches the backend again:", [to_backend])
    outcome.step5_holds = holds

    say("")
    say_total(say, backend, outcome)
    return outcome


@dataclass(frozen=True, slots=True)
class Step:
    """The cluster after a change, and every pair probed on it."""

    cluster: Cluster
    report: ProbeReport
