"""Bringing a lab up, changing it (apply / delete) and taking it down.

Every change goes the same way: load the objects into a Cluster with the loader every verb
uses, compile its policies with the engine, compile those into one nftables table, then
make the namespaces, the helper's listeners and DNS records, and the table match. The
ruleset is compiled before anything is touched, and ``nft -f`` loads it in one transaction,
so a rejected change leaves the rules in force as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netpol.engine.names import Names, ResolveError, UnknownName, first_pod
from netpol.lab import control, dns, private, system, topology
from netpol.lab.documents import (
    StoredObject,
    load_store,
    merged,
    objects_of_data,
    resolve_kind,
    save_store,
)
from netpol.lab.nftables import Ruleset, compile_ruleset
from netpol.lab.probe import (
    NameCheck,
    ProbeReport,
    connect_name,
    probe,
)
from netpol.lab.state import LabState, checked_names, load, locked, save
from netpol.lab.system import LabError
from netpol.lab.truth import changes, short_labels
from netpol.lab.tutorial import Expectation
from netpol.lab.view import (
    LabView,
    build_view,
    objects_input,
    options_of,
    predicted_report,
    probe_endpoints,
    probed_ports,
    read_input,
)
from netpol.model.cluster import Cluster
from netpol.model.objects import Pod
from netpol.model.options import Options

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Change:
    """What one ``lab apply``/``lab delete`` changed: objects and pods in words, the
    connections the engine now refuses and allows (``truth.changes``), the rule counts."""

    lines: list[str]
    rules_before: int
    rules_after: int
    view: LabView
    closed: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)


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
    new = [slot.netns for slot in state.pods.values() if slot.netns not in state.etc_dirs]
    if new:
        state.etc_dirs += new
        save(state)  # recorded before they exist, as everything the lab makes
    for pod_id, slot in state.pods.items():
        text = dns.resolv_conf(by_id[pod_id].namespace, view.nameserver).encode()
        path = state.names.etc_dir(slot.netns) / "resolv.conf"
        try:
            unchanged = private.read_file(path) == text
        except FileNotFoundError:
            unchanged = False
        if not unchanged:
            # what every process of the pod reads (0644), in directories `ip netns` expects
            private.write_file(path, text, mode=0o644, dir_mode=0o755)


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
                "hostname": pod_hostname(lp.pod),
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
    if digest == state.sync_digest and not extra_ports and not state.probe_ports:
        return {"ok": True, "unchanged": True}
    if extra_ports:
        # recorded before they listen: a prober killed now leaves them where `lab status`
        # shows them and the next sync (apply, probe) or `lab down` removes them
        state.probe_ports = sorted({*state.probe_ports, *extra_ports})
        save(state)
    reply = control.request(state.names, message)
    errors = reply.get("errors") or []
    if errors:
        raise LabError(f"the lab's helper could not start everything: {errors[0]}")
    for warning in reply.get("warnings") or []:
        if warning not in state.notes:
            state.notes.append(warning)
    state.sync_digest = digest if not extra_ports else ""
    if not extra_ports:
        state.probe_ports = []
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
    was = predicted_report(build_view(old, view.options, state.run_commands, state.name))
    realise(state, view, say)
    save_store(state.names.documents_file, view.store)
    closed, opened = changes(was, predicted_report(view))
    return Change(lines, before, state.rules, view, closed, opened)


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
        if ports or state.probe_ports:  # the ones asked for; or away with an earlier run's
            sync_daemon(state, view, ports)
        try:
            netns = {pod_id: slot.netns for pod_id, slot in state.pods.items()}
            outside = state.names.outside_netns if include_outside else None
            sources, destinations = probe_endpoints(view, netns, outside)
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
    """The pod id ``target`` means, as every verb reads it (``engine.names``): NS/POD,
    NS/WORKLOAD (its first pod), the only workload a short name begins (``app1-ns/frontend``),
    or a name alone in any namespace; LabError(``missing`` + "did you mean") when none is."""
    try:
        return first_pod(Names(pods), target).id
    except UnknownName as exc:
        raise LabError(missing + exc.hint) from None
    except ResolveError as exc:
        raise LabError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class ExecTarget:
    """Where ``lab exec`` runs a command: a network namespace, and the pod's host name
    (None for the outside client, which keeps the host's)."""

    netns: str
    hostname: str | None


def exec_target(lab: str, target: str) -> ExecTarget:
    """The pod (or ``outside``) ``lab exec`` enters for ``target``."""
    state = require_up(lab)
    if target == "outside":
        return ExecTarget(state.names.outside_netns, None)
    view = current_view(state)
    pod_id = find_pod(state, view.cluster, target)
    pod = view.cluster.pod_by_id[pod_id]
    return ExecTarget(state.pods[pod_id].netns, pod_hostname(pod))


def pod_hostname(pod: Pod) -> str:
    """What ``hostname`` prints in the pod: spec.hostname, else the pod's name (at most 63
    characters, as the kubelet cuts it)."""
    return (pod.hostname or pod.name)[:63].rstrip("-.")


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
