"""Bringing a lab up, changing it (apply / delete) and taking it down.

Every change goes the same way: load the objects into a Cluster with the loader every verb
uses, compile its policies with the engine, compile those into one nftables table, then
make the namespaces, the helper's listeners and DNS records, and the table match. The
ruleset is compiled before anything is touched, and ``nft -f`` loads it in one transaction,
so a rejected change leaves the rules in force as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from netpol.lab import control, dns, system, topology
from netpol.lab.documents import (
    StoredObject,
    load_store,
    merged,
    objects_of_data,
    resolve_kind,
    save_store,
)
from netpol.lab.names import (
    NETNS_ETC,
    OUTSIDE_IP,
    STATE_ROOT,
    LabNames,
    check_lab_name,
    lab_of_netns,
)
from netpol.lab.nftables import Ruleset, compile_ruleset
from netpol.lab.probe import (
    NameCheck,
    ProbeReport,
    connect_name,
    outside_probe_endpoint,
    pod_probe_endpoint,
    probe,
)
from netpol.lab.state import LabState, checked_names, load, locked, recorded_labs, save
from netpol.lab.system import LabError
from netpol.lab.truth import short_labels
from netpol.lab.tutorial import Expectation
from netpol.lab.view import (
    LabView,
    build_view,
    objects_input,
    options_of,
    probed_ports,
    read_input,
)
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import Options
from netpol.model.tiers import TieredPolicy, order_number

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Change:
    """What one ``lab apply``/``lab delete`` changed, in words, and the rules before and after."""

    lines: list[str]
    rules_before: int
    rules_after: int
    view: LabView


# -- up ------------------------------------------------------------------------------------


def preflight() -> None:
    missing = system.missing_requirements()
    if missing:
        raise LabError(missing[0])


def up(
    paths: Sequence[str],
    lab: str,
    options: Options,
    run_commands: bool = False,
    say: Say = _quiet,
) -> LabView:
    """Create lab ``lab`` from ``paths``; on any failure (Ctrl-C too) remove what was made."""
    return _up(lab, options, run_commands, say, lambda: read_input(paths, options))


def up_objects(
    objects: Sequence[dict[str, Any]],
    lab: str,
    options: Options,
    run_commands: bool = False,
    say: Say = _quiet,
) -> LabView:
    """Like ``up``, from objects given as data (the demo's variants, the tests)."""
    return _up(lab, options, run_commands, say, lambda: objects_input(objects, options))


def _up(
    lab: str,
    options: Options,
    run_commands: bool,
    say: Say,
    read: Callable[[], tuple[list[StoredObject], Cluster]],
) -> LabView:
    names = checked_names(lab)
    preflight()
    with locked(lab):
        previous = load(lab)
        if previous is not None and previous.phase == "up" and control.daemon_alive(names):
            raise LabError(
                f"lab {lab} is already up: change it with `netpol lab apply`, "
                f"or remove it with `netpol lab down --name {lab}`"
            )
        leftovers = topology.lab_netns_present(names)
        if previous is not None or leftovers:
            topology.teardown(names, previous)
            say(f"removed what an earlier run of lab {lab} left behind")
        store, _ = read()
        view = build_view(store, options, run_commands, lab)
        state = LabState(
            name=lab,
            profile=options.profile.name,
            load_options={
                "pod_cidr": options.pod_cidr,
                "nodes": options.nodes,
                "default_namespace": options.default_namespace,
                "implicit_dns": options.implicit_dns,
            },
            run_commands=run_commands,
            notes=list(view.notes),
        )
        save(state)
        try:
            topology.create_node(state)
            realise(state, view, say)
            save_store(names.documents_file, store)
            state.phase = "up"
            save(state)
        except BaseException:
            topology.teardown(names, state)
            raise
    return view


def realise(
    state: LabState, view: LabView, say: Say = _quiet, extra_ports: Sequence[tuple[int, str]] = ()
) -> Ruleset:
    """Make namespaces, listeners, DNS and rules match ``view``; the rules go in last."""
    ruleset = compile_ruleset(view.cc, view.pods, view.routes)
    added, removed = topology.sync_pods(
        state, [topology.WantedPod(lp.pod.id, lp.ip) for lp in view.pods]
    )
    if added or removed:
        say(f"pods: {len(added)} added, {len(removed)} removed ({len(state.pods)} in the lab)")
    write_resolv_confs(state, view)
    ensure_daemon(state)
    sync_daemon(state, view, extra_ports)
    system.nft_load(state.names.node_netns, ruleset.text)
    digest = hashlib.sha256(ruleset.text.encode()).hexdigest()
    if state.ruleset_digest and digest != state.ruleset_digest:
        # New rules apply to every connection from now on, including those already open
        # (the spec leaves this to implementations; the lab stays simple and predictable).
        system.flush_conntrack(state.names.node_netns)
    state.ruleset_digest = digest
    state.rules = ruleset.rules
    state.chains = ruleset.chains
    save(state)
    return ruleset


def write_resolv_confs(state: LabState, view: LabView) -> None:
    by_id = {lp.pod.id: lp.pod for lp in view.pods}
    for pod_id, slot in state.pods.items():
        directory = state.names.etc_dir(slot.netns)
        if slot.netns not in state.etc_dirs:
            state.etc_dirs.append(slot.netns)
        directory.mkdir(parents=True, exist_ok=True)
        text = dns.resolv_conf(by_id[pod_id].namespace, view.nameserver)
        path = directory / "resolv.conf"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    save(state)


def ensure_daemon(state: LabState) -> None:
    names = state.names
    if state.daemon_pid is not None and control.daemon_alive(names):
        return
    pid = control.start_daemon(names)
    state.daemon_pid = pid
    state.sync_digest = ""  # a new helper knows nothing yet
    save(state)
    control.wait_daemon(names, pid)


def sync_daemon(
    state: LabState, view: LabView, extra_ports: Sequence[tuple[int, str]] = ()
) -> dict[str, object]:
    pods = []
    for lp in view.pods:
        slot = state.pods[lp.pod.id]
        work = view.works[lp.pod.id]
        listeners = {(x.port, x.protocol): x.kind for x in work.listeners}
        served = {port for c in work.commands for port in c.ports}
        for port, proto in extra_ports:
            if (port, proto) not in served:
                listeners.setdefault((port, proto), "echo")
        pods.append(
            {
                "id": lp.pod.id,
                "netns": slot.netns,
                "ip": lp.ip,
                "scratch": str(state.names.scratch_dir(slot.index)),
                "listeners": [[p, proto, kind] for (p, proto), kind in sorted(listeners.items())],
                "commands": [
                    {
                        "container": c.container,
                        "argv": list(c.argv),
                        "kind": c.kind,
                        "port": c.port,
                        "tcp_ports": [p for p, proto in c.ports if proto == "TCP"],
                    }
                    for c in work.commands
                ],
            }
        )
    message = {"op": "sync", "pods": pods, "records": view.records}
    digest = hashlib.sha256(json.dumps(message, sort_keys=True).encode()).hexdigest()
    if digest == state.sync_digest and not extra_ports:
        return {"ok": True, "unchanged": True}
    reply = control.request(state.names, message)
    errors = reply.get("errors") or []
    if errors:
        raise LabError(f"the lab's helper could not start everything: {errors[0]}")
    for warning in reply.get("warnings") or []:
        if warning not in state.notes:
            state.notes.append(warning)
    state.sync_digest = digest if not extra_ports else ""
    save(state)
    return reply


# -- apply / delete ------------------------------------------------------------------------


def require_up(lab: str) -> LabState:
    checked_names(lab)
    preflight()
    state = load(lab)
    if state is None or state.phase != "up":
        raise LabError(f"lab {lab} is not up (start it with `netpol lab up PATH --name {lab}`)")
    return state


def current_view(state: LabState) -> LabView:
    store = load_store(state.names.documents_file)
    return build_view(store, options_of(state), state.run_commands, state.name)


def apply(paths: Sequence[str], lab: str, say: Say = _quiet) -> Change:
    """Like ``kubectl apply``: add or replace the objects of ``paths``, then the rules."""
    with locked(lab):
        state = require_up(lab)
        options = options_of(state)
        old = load_store(state.names.documents_file)
        new_objects, _ = read_input(paths, options)
        view = build_view(merged(old, new_objects), options, state.run_commands, lab)
        return _commit(state, old, view, say)


def replace(objects: Sequence[dict[str, Any]], lab: str, say: Say = _quiet) -> Change:
    """The lab's objects become exactly ``objects`` (the loader adds the cluster DNS if they
    have none); rules follow."""
    with locked(lab):
        state = require_up(lab)
        options = options_of(state)
        old = load_store(state.names.documents_file)
        store = objects_of_data(objects, options.default_namespace)
        return _commit(state, old, build_view(store, options, state.run_commands, lab), say)


def delete(
    targets: Sequence[str], lab: str, namespace: str | None = None, say: Say = _quiet
) -> Change:
    """Like ``kubectl delete``: remove the objects of files, or ``KIND/NAME`` objects."""
    with locked(lab):
        state = require_up(lab)
        options = options_of(state)
        old = load_store(state.names.documents_file)
        doomed: set[tuple[str, str, str]] = set()
        for target in targets:
            doomed |= _delete_keys(target, old, options, namespace)
        view = build_view([o for o in old if o.key not in doomed], options, state.run_commands, lab)
        return _commit(state, old, view, say)


def _delete_keys(
    target: str, store: list[StoredObject], options: Options, namespace: str | None
) -> set[tuple[str, str, str]]:
    if os.path.exists(target):
        objects, _ = read_input([target], options)
        keys = {o.key for o in objects}
        known = {o.key for o in store}
        missing = sorted(keys - known)
        if missing:
            m_kind, m_ns, m_name = missing[0]
            raise LabError(f"{m_kind} {m_ns + '/' if m_ns else ''}{m_name} is not in the lab")
        return keys
    kind_text, slash, name = target.partition("/")
    kind: str | None = resolve_kind(kind_text) if slash else None
    if kind is None or not name:
        raise LabError(f"{target!r} is neither a file nor KIND/NAME (e.g. networkpolicy/db-policy)")
    found = [
        o
        for o in store
        if o.resource == kind and o.name == name and (namespace is None or o.namespace == namespace)
    ]
    if not found:
        where = f" in namespace {namespace}" if namespace else ""
        raise LabError(f"{kind} {name}{where} is not in the lab")
    if len(found) > 1:
        spaces = ", ".join(o.namespace for o in found)
        raise LabError(f"{kind} {name} is in several namespaces ({spaces}): say which with -n")
    return {found[0].key}


def _commit(state: LabState, old: list[StoredObject], view: LabView, say: Say) -> Change:
    before = state.rules
    lines = describe_changes(old, set(state.pods), view)
    realise(state, view, say)
    save_store(state.names.documents_file, view.store)
    return Change(lines, before, state.rules, view)


def describe_changes(old: list[StoredObject], old_pods: set[str], new: LabView) -> list[str]:
    lines = []
    old_objs = {o.key: o for o in old}
    new_objs = {o.key: o for o in new.store}
    for key, obj in new_objs.items():
        if key not in old_objs:
            lines.append(f"{obj.label} created")
        elif old_objs[key].data != obj.data:
            lines.append(f"{obj.label} configured")
    for key, obj in old_objs.items():
        if key not in new_objs:
            lines.append(f"{obj.label} deleted")
    new_pods = {lp.pod.id for lp in new.pods}
    for pod_id in sorted(new_pods - old_pods):
        lines.append(f"pod {pod_id} started")
    for pod_id in sorted(old_pods - new_pods):
        lines.append(f"pod {pod_id} stopped")
    return lines or ["nothing changed"]


# -- down / status -------------------------------------------------------------------------


def down(lab: str | None, everything: bool = False) -> list[str]:
    """Remove lab ``lab`` (or every lab, and whatever half-made labs left); returns a report."""
    if lab is not None and not everything:
        checked_names(lab)
    preflight()
    labs: set[str] = set(labs_present()) if everything else set()
    if lab is not None and not everything:
        labs.add(lab)
    report = []
    for name in sorted(labs):
        names = LabNames(name)
        with locked(name):
            state = load(name)
            removed = topology.teardown(names, state)
        what = ", ".join(removed) if removed else "nothing running"
        report.append(f"lab {name}: removed ({what})")
    for directory in (STATE_ROOT, STATE_ROOT.parent):  # only when no lab is left in them
        with contextlib.suppress(OSError):
            directory.rmdir()
    return report


def labs_present() -> list[str]:
    """Every lab with anything left: a state directory, a namespace or a helper process."""
    labs = set(recorded_labs())
    # /etc/netns outlives /run (a reboot, a lost state directory): its pods' resolv.conf
    # directories name their lab too.
    for netns in system.existing_netns() + _etc_netns_dirs():
        owner = lab_of_netns(netns)
        if owner is not None:
            labs.add(owner)
    return sorted(lab for lab in labs | _labs_with_daemons() if check_lab_name(lab) is None)


def _etc_netns_dirs() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_ETC))
    except OSError:
        return []


def _labs_with_daemons() -> set[str]:
    found = set()
    for marker in topology.daemon_processes().values():
        prefix, _, name = marker.partition(":")
        if prefix == "netpol-lab-daemon" and check_lab_name(name) is None:
            found.add(name)
    return found


@dataclass
class Status:
    state: LabState
    view: LabView
    daemon_alive: bool
    netns_present: int


def status(lab: str) -> Status:
    state = require_up(lab)
    view = current_view(state)
    names = state.names
    return Status(state, view, control.daemon_alive(names), len(topology.lab_netns_present(names)))


# -- probe ---------------------------------------------------------------------------------


def probe_lab(
    lab: str,
    ports: Sequence[tuple[int, str]] = (),
    concurrency: int = 256,
    timeout: float = 2.0,
    include_outside: bool = True,
    reference: bool = False,
) -> tuple[ProbeReport, LabView]:
    """Probe every pair of the lab on every declared port (or on ``ports``, on every pod)."""
    with locked(lab):
        state = require_up(lab)
        view = current_view(state)
        if ports:
            sync_daemon(state, view, ports)
        try:
            names = state.names
            destinations = [
                pod_probe_endpoint(view.cc, lp.pod.id, state.pods[lp.pod.id].netns, lp.ip)
                for lp in view.pods
            ]
            sources = list(destinations)
            if include_outside:
                sources.insert(0, outside_probe_endpoint(names.outside_netns, OUTSIDE_IP))
            wanted = {
                lp.pod.id: (sorted(set(ports)) if ports else probed_ports(view, lp.pod.id))
                for lp in view.pods
            }
            ids = [lp.pod.id for lp in view.pods]
            report = probe(
                view.cc,
                sources,
                destinations,
                wanted,
                concurrency,
                timeout,
                labels=short_labels(view.cluster, ids),
                reference=reference,
            )
        finally:
            if ports:
                sync_daemon(state, view)
    return report, view


# -- exec / status text --------------------------------------------------------------------


def find_pod(state: LabState, cluster: Cluster, target: str) -> str:
    """The pod id ``target`` means among the lab's pods (``pod_for``)."""
    if target in state.pods:
        return target
    return pod_for(
        [pod for pod in cluster.pods if pod.id in state.pods],
        target,
        f"no pod {target!r} in lab {state.name} (see `netpol lab status --name {state.name}`)",
    )


def pod_for(pods: Iterable[Pod], target: str, missing: str) -> str:
    """The pod id ``target`` means: NS/POD, NS/WORKLOAD (its first pod), or a unique name;
    LabError(``missing``) when none is.

    As a last resort a short name stands for the one workload it begins (``frontend`` for
    ``frontend-deploy``), so the tutorial's ``app1-ns/frontend`` works as people say it.
    """
    namespace, slash, name = target.rpartition("/")
    in_scope = [
        p for p in sorted(pods, key=lambda p: p.id) if not slash or p.namespace == namespace
    ]
    candidates = [p for p in in_scope if name in (p.name, p.workload.name if p.workload else None)]
    if not candidates:
        candidates = [
            p for p in in_scope if p.workload is not None and p.workload.name.startswith(f"{name}-")
        ]
    if not candidates:
        raise LabError(missing)
    workloads = {(p.namespace, p.workload.id if p.workload else p.name) for p in candidates}
    if len(workloads) > 1:
        names = ", ".join(sorted(p.id for p in candidates)[:4])
        raise LabError(f"{target!r} is ambiguous ({names}): give NAMESPACE/POD")
    return candidates[0].id


def exec_netns(lab: str, target: str) -> str:
    """The network namespace ``lab exec`` enters for ``target`` (a pod, or ``outside``)."""
    state = require_up(lab)
    if target == "outside":
        return state.names.outside_netns
    view = current_view(state)
    return state.pods[find_pod(state, view.cluster, target)].netns


def status_lines(st: Status) -> list[str]:
    state, view = st.state, st.view
    lines = [
        f"lab {state.name}: {'up' if st.daemon_alive else 'DEGRADED (helper process gone)'}, "
        f"profile {state.profile}, {st.netns_present} network namespaces, "
        f"{state.rules} nftables rules in {state.chains} pod chains",
        "",
        "PODS",
    ]
    for lp in view.pods:
        ports = ",".join(
            f"{p}" if proto == "TCP" else f"{p}/{proto}"
            for p, proto in probed_ports(view, lp.pod.id)
        )
        slot = state.pods[lp.pod.id]
        served = (
            " (" + ", ".join(c.kind for c in view.works[lp.pod.id].commands) + ")"
            if view.works[lp.pod.id].commands
            else ""
        )
        lines.append(f"  {lp.pod.id:<50} {lp.ip:<15} {slot.netns:<20} {ports or '-'}{served}")
    lines += ["", "SERVICES"]
    for route in view.routes:
        vip = route.vip or "None (headless)"
        node_port = f" nodePort {route.node_port}" if route.node_port else ""
        backends = ", ".join(f"{ip}:{port}" for ip, port in route.backends) or "no backends"
        lines.append(
            f"  {route.service_id:<35} {vip}:{route.port}/{route.protocol}{node_port} -> {backends}"
        )
    lines += ["", "POLICIES IN FORCE"]
    for tiered in _tiered_in_evaluation_order(view):
        order = "" if tiered.order is None else f", order {order_number(tiered.order)}"
        lines.append(f"  {tiered.id} (tier {tiered.tier}{order}; {', '.join(tiered.types)})")
    for policy in view.cluster.policies:
        lines.append(f"  {policy.id} ({', '.join(policy.policy_types)})")
    if not view.cluster.policies and not view.cluster.tiered_policies:
        lines.append("  none: every pod can reach every pod")
    if state.notes:
        lines += ["", "NOTES"] + [f"  {n}" for n in state.notes]
    return lines


def _tiered_in_evaluation_order(view: LabView) -> list[TieredPolicy]:
    """The admin, baseline and Calico policies as the engine's plans walk them."""
    tiered = view.cc.tiered
    plans = tiered.plans if tiered is not None else ()
    return [m.policy for plan in plans for m in plan.members if not isinstance(m, str)]


# -- checks by name (the tutorial's telnet) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    expectation: Expectation
    pod: str
    result: NameCheck

    @property
    def holds(self) -> bool:
        return self.result.connected == self.expectation.connects


def check_names(
    lab: str, expectations: Sequence[Expectation], timeout: float = 2.0
) -> list[CheckResult]:
    """Run each ``telnet HOST PORT`` from its source pod, through the lab's DNS and rules."""
    with locked(lab):
        state = require_up(lab)
        view = current_view(state)
    results = []
    for exp in expectations:
        pod_id = find_pod(state, view.cluster, exp.source)
        search = dns.search_domains(pod_id.split("/", 1)[0])
        check = connect_name(
            state.pods[pod_id].netns, search, view.nameserver, exp.host, exp.port, timeout
        )
        results.append(CheckResult(exp, pod_id, check))
    return results
