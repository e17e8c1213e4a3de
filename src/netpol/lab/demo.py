"""``netpol demo``: the tutorial replayed, on real packets in the lab (or on the engine alone).

The story: the three tiers and CoreDNS come up open (Step 3); the three policies go in one by
one, each with what it changed; Step 5's checks fail on frontend -> backend as published; the
explanation and the lint finding say why; the one-line fix goes in; Step 5 holds; removing the
DNS rule breaks name resolution. Explanations and lint findings come in through ``Hooks``
(functions of the cluster), so this module stays below the renderers.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netpol.engine.endpoints import Endpoint, ip_endpoint
from netpol.engine.verdict import allowed
from netpol.lab import inventory, lifecycle, truth
from netpol.lab import view as lab_view
from netpol.lab.dns import search_domains
from netpol.lab.probe import (
    OPEN,
    REFUSED,
    NameCheck,
    ProbeReport,
    query_names,
)
from netpol.lab.tutorial import Expectation, step3, step5
from netpol.lab.view import LabView
from netpol.lab.workloads import is_dns_pod
from netpol.load.paths import read_paths
from netpol.model.cluster import Cluster
from netpol.model.objects import METADATA_NAME_LABEL
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

Say = Callable[[str], None]
BASE_FILES = (
    "00-namespace.yaml",
    "01-frontend.yaml",
    "02-backend.yaml",
    "03-db.yaml",
)  # CoreDNS is the loader's add-on (load/addons.py), as in the cluster the tutorial uses
POLICY_FILES = ("04-db-netpol.yaml", "05-revised-backend-netpol.yaml", "06-frontend-netpol.yaml")
BACKEND_POLICY = "05-revised-backend-netpol.yaml"


@dataclass
class Hooks:
    """What the demo borrows from the verbs above the lab: ``explain`` and ``lint`` text."""

    explain: Callable[[Cluster, str, str], list[str]] | None = None
    lint: Callable[[Cluster], list[str]] | None = None


@dataclass
class Outcome:
    step5_holds: bool = False
    disagreements: int = 0
    probed: int = 0
    notes: list[str] = field(default_factory=list)


def objects(*paths: Path) -> list[dict[str, Any]]:
    docs, problems = read_paths([str(p) for p in paths])
    if problems:
        raise lab_view.LabInputError("the demo's files do not load", problems)
    return [copy.deepcopy(dict(d.data)) for d in docs]


class Backend:
    """Where the story runs: the lab (real packets) or the engine (predictions)."""

    real = False

    def start(self, objs: list[dict[str, Any]]) -> LabView:
        raise NotImplementedError

    def replace(self, objs: list[dict[str, Any]]) -> LabView:
        raise NotImplementedError

    def matrix(self) -> ProbeReport:
        raise NotImplementedError

    def check(self, expectations: Sequence[Expectation]) -> list[tuple[Expectation, NameCheck]]:
        raise NotImplementedError

    def stop(self) -> None:
        pass


class LabBackend(Backend):
    real = True

    def __init__(self, lab: str, options: Options | None = None) -> None:
        self.lab = lab
        self.options = options or Options()

    def start(self, objs: list[dict[str, Any]]) -> LabView:
        return lifecycle.up_objects(objs, self.lab, self.options)

    def replace(self, objs: list[dict[str, Any]]) -> LabView:
        return lifecycle.replace(objs, self.lab).view

    def matrix(self) -> ProbeReport:
        report, _ = lifecycle.probe_lab(self.lab, timeout=2.0, reference=True)
        return report

    def check(self, expectations: Sequence[Expectation]) -> list[tuple[Expectation, NameCheck]]:
        return [(r.expectation, r.result) for r in lifecycle.check_names(self.lab, expectations)]

    def stop(self) -> None:
        inventory.down(self.lab)


class EngineBackend(Backend):
    """The same story without root: every "connection" is the engine's verdict."""

    def __init__(self, options: Options | None = None) -> None:
        self.view: LabView | None = None
        self.options = options or Options()

    def start(self, objs: list[dict[str, Any]]) -> LabView:
        return self.replace(objs)

    def replace(self, objs: list[dict[str, Any]]) -> LabView:
        options = self.options
        store, _ = lab_view.objects_input(objs, options)
        self.view = lab_view.build_view(store, options, False, "engine")
        return self.view

    def matrix(self) -> ProbeReport:
        return lab_view.predicted_report(self._view())

    def check(self, expectations: Sequence[Expectation]) -> list[tuple[Expectation, NameCheck]]:
        view = self._view()
        return [(e, self._check(view, e)) for e in expectations]

    def _check(self, view: LabView, exp: Expectation) -> NameCheck:
        cc = view.cc
        pod_id = lifecycle.pod_for(view.cluster.pods, exp.source, f"no pod for {exp.source}")
        src = cc.endpoint(cc.cluster.pod_by_id[pod_id])
        address = exp.host if _is_ip(exp.host) else self._resolve(view, src, pod_id, exp.host)
        if address is None or address.startswith("no-dns:"):
            detail = address[len("no-dns:") :] if address else "no such name"
            return NameCheck(exp.host, exp.port, None, "no-dns", detail=detail)
        targets = [(address, exp.port)]
        for route in view.routes:
            if route.vip == address and route.port == exp.port and route.protocol == "TCP":
                targets = list(route.backends)
        by_ip = {lp.ip: lp.pod for lp in view.pods}
        for ip, port in targets:
            pod = by_ip.get(ip)
            dst = cc.endpoint(pod) if pod else ip_endpoint(ipaddress.ip_address(ip))
            if allowed(cc, src, dst).contains("TCP", port):
                answered = pod.id if pod else None
                return NameCheck(exp.host, exp.port, address, OPEN, answered_by=answered)
        return NameCheck(exp.host, exp.port, address, REFUSED)

    def _resolve(self, view: LabView, src: Endpoint, pod_id: str, host: str) -> str | None:
        """The address ``host`` resolves to from the pod; "no-dns:why" when DNS is denied."""
        cc = view.cc
        dns_pods = [lp.pod for lp in view.pods if is_dns_pod(lp.pod)]
        if not any(allowed(cc, src, cc.endpoint(p)).contains("UDP", 53) for p in dns_pods):
            return "no-dns:DNS egress denied (engine)"
        for name in query_names(host, search_domains(pod_id.split("/", 1)[0])):
            if view.records.get(name):
                return view.records[name][0]
        return None

    def _view(self) -> LabView:
        assert self.view is not None
        return self.view


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def probe_again(backend: Backend, outcome: Outcome) -> ProbeReport:
    """Every pair probed again, counted into ``outcome``."""
    report = backend.matrix()
    outcome.probed += len(report.cells)
    outcome.disagreements += len(report.disagreements)
    return report


def _check_line(exp: Expectation, check: NameCheck, labels: dict[str, str], source: str) -> str:
    if check.connected:
        who = labels.get(check.answered_by or "", check.answered_by or "")
        got = f"Connected to {exp.host}" + (f" ({who} answered)" if who else "")
    elif check.outcome == "no-dns":
        got = f"cannot resolve {exp.host}: {check.detail}"
    else:
        got = f"{check.outcome} ({check.address})"
    verdict = "as expected" if check.connected == exp.connects else "NOT AS EXPECTED"
    prompt = f"{source}$ {exp.command}"
    return f"  {prompt:<70} {got}  [{verdict}]"


def where_told(backend: Backend) -> str:
    return "on real packets in the lab" if backend.real else "on the engine alone (no real packets)"


def say_checks(
    say: Say,
    backend: Backend,
    title: str,
    expectations: Sequence[Expectation],
    labels: dict[str, str],
) -> bool:
    """``title``, then each check run as the tutorial types it; whether all went as expected."""
    say("")
    say(title)
    lines, holds = check_lines(backend, expectations, labels)
    for line in lines:
        say(line)
    return holds


def check_lines(
    backend: Backend, expectations: Sequence[Expectation], labels: dict[str, str]
) -> tuple[list[str], bool]:
    """Each check run as the tutorial types it, one line each; whether all went as expected."""
    results = backend.check(expectations)
    lines = []
    for exp, check in results:
        source = exp.source.split("/", 1)[1]
        pods = [pid for pid in labels if pid.startswith(exp.source)]
        if len(pods) == 1:
            source = labels[pods[0]].rpartition("/")[2]  # a prompt: the pod alone
        lines.append(_check_line(exp, check, labels, source))
    return lines, all(check.connected == exp.connects for exp, check in results)


def run(say: Say, backend: Backend, examples: Path, hooks: Hooks) -> Outcome:
    """Tell the whole story through ``say``; the caller decides whether to stop the backend."""
    tutorial = examples / "tutorial"
    fixed_backend = examples / "three-tier" / BACKEND_POLICY
    outcome = Outcome()
    where = where_told(backend)

    def matrix(title: str) -> ProbeReport:
        report = probe_again(backend, outcome)
        say("")
        say(title)
        for line in truth.render(report, report.labels):
            say("  " + line if line else "")
        return report

    def checks(title: str, expectations: list[Expectation], labels: dict[str, str]) -> bool:
        return say_checks(say, backend, title, expectations, labels)

    say(f"netpol demo: the tutorial's 3-tier app, {where}.")
    say("")
    say(
        f"Step 2: namespace app1-ns, frontend (nginx :80), backend (http.server :5678), db (StatefulSet :3306), CoreDNS ({shown(tutorial)})"
    )
    started = time.perf_counter()
    base = objects(*(tutorial / f for f in BASE_FILES))
    view = backend.start(base)
    say(
        f"  {len(view.pods)} pods, {len(view.cluster.services)} services, no policy"
        + (f"; up in {time.perf_counter() - started:.1f} s" if backend.real else "")
    )
    report = matrix(
        "Step 3: everyone can talk to everyone (✓ connected, ✗ refused; ! = the engine predicted otherwise)"
    )
    labels = report.labels
    checks("  the tutorial's telnet checks, from inside the pods:", step3(), labels)

    say("")
    say("Step 4: the policies, one at a time")
    applied = list(base)
    for name in POLICY_FILES:
        applied += objects(tutorial / name)
        backend.replace(applied)
        after = probe_again(backend, outcome)
        closed, opened = truth.changes(report, after)
        say(f"  kubectl apply -f {name}: {truth.changes_summary(closed, opened)}")
        for line in truth.changes_lines(closed, opened, 8):
            say(f"      {line}")
        report = after

    matrix("Step 5: verification, as published")
    holds = checks("  the tutorial's Step 5 checks:", step5(), labels)
    if holds:
        say(
            "  Step 5 holds as published (unexpected: the tutorial's backend policy admits role: web)"
        )
    else:
        say(
            "  Step 5 does not hold: frontend cannot reach backend, on real packets."
            if backend.real
            else "  Step 5 does not hold: frontend cannot reach backend."
        )
        # The published files themselves, so findings point at their lines.
        published = load_cluster(
            [str(tutorial / f) for f in BASE_FILES + POLICY_FILES], Options()
        ).cluster
        if hooks.explain is not None:
            say("")
            say(
                "Why (netpol explain examples/tutorial --from app1-ns/frontend-deploy --to backend-svc:5678):"
            )
            for line in hooks.explain(published, "app1-ns/frontend-deploy", "backend-svc:5678"):
                say("  " + line)
        if hooks.lint is not None:
            say("")
            say("netpol lint examples/tutorial (warnings and errors):")
            for line in hooks.lint(published):
                say("  " + line)
        say("")
        say(f"The fix, one line in {BACKEND_POLICY} ({shown(fixed_backend)} has it):")
        for line in _diff(tutorial / BACKEND_POLICY, fixed_backend):
            say("  " + line)
        applied = [o for o in applied if not _is_policy(o, "backend-policy")] + objects(
            fixed_backend
        )
        backend.replace(applied)
        after = probe_again(backend, outcome)
        closed, opened = truth.changes(report, after)
        say(f"  kubectl apply -f {shown(fixed_backend)}: {truth.changes_summary(closed, opened)}")
        for line in truth.changes_lines(closed, opened, len(closed) + len(opened)):
            say(f"      {line}")
        report = after
        matrix("Step 5 again, with the fix")
        holds = checks("  the tutorial's Step 5 checks:", step5(), labels)
        say("  Step 5 holds." if holds else "  Step 5 still does not hold.")
    outcome.step5_holds = holds

    say("")
    say("Why the DNS rules matter: backend-policy without its egress rule to kube-dns")
    without_dns = copy.deepcopy(applied)
    policy = next(o for o in without_dns if _is_policy(o, "backend-policy"))
    policy["spec"]["egress"] = [r for r in policy["spec"]["egress"] if not _is_dns_rule(r)]
    broken = backend.replace(without_dns)
    db_by_name = step5()[2]
    unresolvable = Expectation(db_by_name.source, db_by_name.host, 3306, False, "no DNS")
    checks("  by name, the database is out of reach:", [unresolvable], labels)
    db_ip = next(lp.ip for lp in broken.pods if lp.pod.name == "db-sts-0")
    by_ip = Expectation(db_by_name.source, db_ip, 3306, True, "by IP")
    checks(
        "  by IP it still connects (the database rule is intact; only DNS is gone):",
        [by_ip],
        labels,
    )
    backend.replace(applied)
    say("  (DNS rule restored)")

    _guard_rail(say, backend, applied, labels, checks, hooks, outcome)

    say("")
    say_total(say, backend, outcome)
    return outcome


def say_total(say: Say, backend: Backend, outcome: Outcome) -> None:
    """How many real connections the story probed, and whether all agreed with the engine."""
    if backend.real:
        verdict = (
            "every one agreed with the engine"
            if not outcome.disagreements
            else f"{outcome.disagreements} DISAGREED with the engine"
        )
        say(f"{outcome.probed} real connections probed in all; {verdict}.")


GUARD_RAIL = "freeze-db"


def guard_rail(action: str) -> dict[str, Any]:
    """A cluster admin's AdminNetworkPolicy on the database's ingress, above every
    NetworkPolicy (spec 6): ``Deny`` freezes it, ``Pass`` hands it back to them."""
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": GUARD_RAIL},
        "spec": {
            "priority": 10,
            "subject": {
                "pods": {
                    "namespaceSelector": {"matchLabels": {METADATA_NAME_LABEL: "app1-ns"}},
                    "podSelector": {"matchLabels": {"role": "db"}},
                }
            },
            "ingress": [{"name": "maintenance", "action": action, "from": [{"namespaces": {}}]}],
        },
    }


def _guard_rail(
    say: Say,
    backend: Backend,
    applied: list[dict[str, Any]],
    labels: dict[str, str],
    checks: Callable[[str, list[Expectation], dict[str, str]], bool],
    hooks: Hooks,
    outcome: Outcome,
) -> None:
    """Beyond the tutorial: an admin Deny beats db-policy's allow; Pass gives it back."""
    to_db = next(e for e in step5() if e.connects and e.port == 3306)

    def chain(cluster: Cluster) -> None:
        if hooks.explain is None:
            return
        for line in hooks.explain(cluster, to_db.source, f"{to_db.host}:3306"):
            if "decision:" in line and "AdminNetworkPolicy" in line:
                say("  ingress of db-sts-0: " + line.strip().removeprefix("decision: "))

    say("")
    say(
        f"Beyond the tutorial: a cluster admin freezes the database (AdminNetworkPolicy "
        f"{GUARD_RAIL}, priority 10: Deny ingress from every namespace)"
    )
    frozen = backend.replace([*applied, guard_rail("Deny")])
    probe_again(backend, outcome)  # every pair again: the tier segments on real packets
    denied = Expectation(to_db.source, to_db.host, 3306, False, "the admin Deny comes first")
    checks(
        "  db-policy still allows the backend, but the admin tier decides first:", [denied], labels
    )
    chain(frozen.cluster)
    passed = backend.replace([*applied, guard_rail("Pass")])
    probe_again(backend, outcome)
    checks(
        f"  {GUARD_RAIL} with action Pass hands the connection back to db-policy:", [to_db], labels
    )
    chain(passed.cluster)
    backend.replace(applied)
    say(f"  ({GUARD_RAIL} removed; the tiers in docs/tiers.md)")


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _is_policy(obj: dict[str, Any], name: str) -> bool:
    return obj.get("kind") == "NetworkPolicy" and (obj.get("metadata") or {}).get("name") == name


def _is_dns_rule(rule: dict[str, Any]) -> bool:
    return any(p.get("port") == 53 for p in rule.get("ports") or [])


def _diff(before: Path, after: Path) -> list[str]:
    old = before.read_text().splitlines()
    new = after.read_text().splitlines()
    return [
        line
        for line in difflib.unified_diff(old, new, n=0, lineterm="")
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
