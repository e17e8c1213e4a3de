"""The labs on this host: which there are (``lab list``), one lab's status, and taking them down.

A lab is found by its records (the state directory) and, whatever the records say, by the
names it gives what it makes: ``netpol-<lab>-*`` namespaces, ``/etc/netns`` entries and its
helper process. ``lab down --all`` goes further and removes anything named ``netpol-*`` the
host shows (namespaces, links, nftables tables, ``/etc/netns`` entries), so even what a
crashed or older run made under a name no lab owns is not left behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass

from netpol.lab import control, private, system, topology
from netpol.lab.lifecycle import current_view, preflight, require_up
from netpol.lab.names import (
    NETNS_ETC,
    NETNS_PREFIX,
    STATE_ROOT,
    LabNames,
    check_lab_name,
    lab_of_netns,
)
from netpol.lab.state import LabState, checked_names, load, locked, recorded_labs
from netpol.lab.system import LabError
from netpol.lab.view import LabView, probed_ports
from netpol.model.tiers import TieredPolicy, order_number

# -- which labs ----------------------------------------------------------------------------


def labs_present() -> list[str]:
    """Every lab with anything left: a state directory, a namespace or a helper process."""
    labs = set(recorded_labs())
    # /etc/netns outlives /run (a reboot, a lost state directory): its pods' resolv.conf
    # directories name their lab too.
    for netns in system.existing_netns() + _listing(NETNS_ETC):
        owner = lab_of_netns(netns)
        if owner is not None:
            labs.add(owner)
    return sorted(lab for lab in labs | _labs_with_daemons() if check_lab_name(lab) is None)


def _listing(directory: os.PathLike[str]) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


def _labs_with_daemons() -> set[str]:
    found = set()
    for marker in topology.daemon_processes().values():
        prefix, _, name = marker.partition(":")
        if prefix == "netpol-lab-daemon" and check_lab_name(name) is None:
            found.add(name)
    return found


def _state_or_none(lab: str) -> LabState | None:
    """The lab's records; None when they are missing, unreadable, or a planted link."""
    try:
        return load(lab)
    except LabError:
        return None


@dataclass(frozen=True, slots=True)
class LabSummary:
    """One line of ``lab list``; the counts are None for a lab that is not (fully) up."""

    name: str
    phase: str  # up, degraded (helper process gone), incomplete (a failed or running up)
    created: float | None
    pods: int | None = None
    services: int | None = None
    policies: int | None = None
    tiered_policies: int | None = None
    rules: int | None = None


def summaries() -> list[LabSummary]:
    """Every lab of ``labs_present``, with what it runs when it is up."""
    found = []
    for name in labs_present():
        state = _state_or_none(name)
        if state is None or state.phase != "up":
            found.append(LabSummary(name, "incomplete", state.created if state else None))
            continue
        try:
            view = current_view(state)
        except LabError:
            found.append(LabSummary(name, "incomplete", state.created))
            continue
        found.append(
            LabSummary(
                name,
                "up" if control.daemon_alive(state.names) else "degraded",
                state.created,
                len(view.pods),
                len(view.cluster.services),
                len(view.cluster.policies),
                len(view.cluster.tiered_policies) + len(view.cluster.cilium_policies),
                state.rules,
            )
        )
    return found


def age_text(seconds: float) -> str:
    """An age as kubectl prints one: 45s, 12m, 5h, 3d."""
    seconds = max(0, int(seconds))
    for limit, unit, size in ((120, "s", 1), (7200, "m", 60), (172800, "h", 3600)):
        if seconds < limit:
            return f"{seconds // size}{unit}"
    return f"{seconds // 86400}d"


def summary_lines(labs: list[LabSummary], now: float | None = None) -> list[str]:
    """``lab list`` as a table."""
    now = time.time() if now is None else now

    def shown(value: int | None) -> str:
        return "-" if value is None else str(value)

    rows = [("NAME", "STATE", "PODS", "SERVICES", "POLICIES", "RULES", "AGE")]
    for lab in labs:
        policies = shown(lab.policies)
        if lab.tiered_policies:
            policies += f"+{lab.tiered_policies}"
        age = "-" if lab.created is None else age_text(now - lab.created)
        rows.append(
            (
                lab.name,
                lab.phase,
                shown(lab.pods),
                shown(lab.services),
                policies,
                shown(lab.rules),
                age,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def the_only_lab() -> str:
    """The lab a verb without ``--name`` means: the only one on the host (LabError if not)."""
    labs = labs_present()
    if not labs:
        raise LabError("no lab on this host (start one with `netpol lab up PATH`)")
    if len(labs) > 1:
        raise LabError(
            f"{len(labs)} labs on this host ({', '.join(labs)}): say which with --name "
            "(`netpol lab list` shows them)"
        )
    return labs[0]


# -- status --------------------------------------------------------------------------------


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
    if not (view.cluster.policies or view.cluster.tiered_policies or view.cluster.cilium_policies):
        lines.append("  none: every pod can reach every pod")
    notes = list(state.notes)
    if state.probe_ports:
        ports = ", ".join(f"{port}/{proto}" for port, proto in state.probe_ports)
        notes.append(
            f"every pod also listens on {ports}: listeners of a `lab probe --port` that did not "
            "finish (the next `lab probe` or `lab apply` removes them, as does `lab down`)"
        )
    if notes:
        lines += ["", "NOTES"] + [f"  {n}" for n in notes]
    return lines


def _tiered_in_evaluation_order(view: LabView) -> list[TieredPolicy]:
    """The admin, baseline and Calico policies as the engine's plans walk them."""
    tiered = view.cc.tiered
    plans = tiered.plans if tiered is not None else ()
    return [m.policy for plan in plans for m in plan.members if not isinstance(m, str)]


# -- down ----------------------------------------------------------------------------------


def down(lab: str | None, everything: bool = False) -> list[str]:
    """Remove lab ``lab`` (or every lab, and anything named ``netpol-*`` on the host);
    returns a report, one line per lab or stray removed."""
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
            removed = topology.teardown(names, _state_or_none(name))
        what = ", ".join(removed) if removed else "nothing running"
        report.append(f"lab {name}: removed ({what})")
    if everything:
        report += [f"removed stray {what}" for what in sweep()]
    # only when nothing is left in them (/etc/netns: `ip netns` makes it when needed)
    for directory in (STATE_ROOT, STATE_ROOT.parent, NETNS_ETC):
        with contextlib.suppress(OSError):
            directory.rmdir()
    return report


def sweep() -> list[str]:
    """Remove whatever is named ``netpol-*`` and belongs to no lab: namespaces (a failed
    ``up`` of an earlier version), ``/etc/netns`` entries (links too, never followed),
    host links and nftables tables, and state entries no lab name can have."""
    removed = []
    strays = [n for n in system.existing_netns() if n.startswith(NETNS_PREFIX)]
    if strays:
        topology.kill_processes_in(strays)
    for netns in strays:
        system.run(["ip", "netns", "del", netns], check=False)
        removed.append(f"network namespace {netns!r}")
    for entry in _listing(NETNS_ETC):
        if entry.startswith(NETNS_PREFIX) and private.remove_entry(NETNS_ETC / entry):
            removed.append(repr(str(NETNS_ETC / entry)))
    links = [link for link in _host_links() if link.startswith(NETNS_PREFIX)]
    for link in links:  # deleting one end of a veth pair deletes the other
        system.run(["ip", "link", "del", "dev", link], check=False)
    left = set(_host_links())
    removed += [f"link {link!r}" for link in links if link not in left]
    for family, table in _host_nft_tables():
        if table.startswith(NETNS_PREFIX):
            system.run(["nft", "delete", "table", family, table], check=False)
            removed.append(f"nftables table {family} {table!r}")
    for entry in _listing(STATE_ROOT):
        if check_lab_name(entry.removesuffix(".lock")) is not None:
            private.remove_entry(STATE_ROOT / entry)
            removed.append(repr(str(STATE_ROOT / entry)))
    return removed


def _host_links() -> list[str]:
    """The host's own link names (``ip -o link``: ``2: name@peer: <...>``)."""
    names = []
    for line in system.run(["ip", "-o", "link", "show"], check=False).splitlines():
        parts = line.split(": ", 2)
        if len(parts) >= 2:
            names.append(parts[1].split("@", 1)[0])
    return names


def _host_nft_tables() -> list[tuple[str, str]]:
    """The host's own nftables tables as (family, name)."""
    tables = []
    for line in system.run(["nft", "list", "tables"], check=False).splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "table":
            tables.append((words[1], words[2]))
    return tables
