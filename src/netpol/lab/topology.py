"""Namespaces, the node bridge, pod veths, addresses, routes and static neighbours.

The node namespace routes between pods (like Calico): each pod has its IP as a /32 and a
link-local gateway (169.254.1.1) on the node's bridge, so a pod needs one neighbour entry
and the node one per pod, all static. Pod-to-pod packets are therefore routed through the
node namespace, where nftables sees every one of them once on the forward hook, after
Service DNAT. (An on-link /16 would need a neighbour entry per pod pair, and a few hundred
pods overflow the kernel's ARP table, which all namespaces share.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netpol.lab import netlink, private, system
from netpol.lab.names import (
    BRIDGE,
    GATEWAY_IP,
    GATEWAY_MAC,
    NETNS_DIR,
    NETNS_ETC,
    NODE_EXTERNAL_IP,
    OUTSIDE_IP,
    OUTSIDE_LINK,
    OUTSIDE_PREFIX,
    POD_LINK,
    LabNames,
    pod_link,
    pod_mac,
)
from netpol.lab.state import LabState, PodSlot, save

NODE_SYSCTLS = (
    ("net/ipv4/ip_forward", "1"),
    # Pod-to-pod packets leave by the bridge they came in on; a redirect would teach pods
    # to talk to each other directly on the bridge, around the rules.
    ("net/ipv4/conf/all/send_redirects", "0"),
    ("net/ipv4/conf/default/send_redirects", "0"),
    (f"net/ipv4/conf/{BRIDGE}/send_redirects", "0"),
    # Denied connections are answered with ICMP at probe rates: no rate limit.
    ("net/ipv4/icmp_ratelimit", "0"),
    ("net/ipv4/icmp_msgs_per_sec", "1000000"),
    ("net/ipv4/icmp_msgs_burst", "1000000"),
    ("net/ipv4/conf/all/rp_filter", "0"),
    ("net/ipv4/conf/default/rp_filter", "0"),
    # Pod traffic is routed, never bridged between ports; keep br_netfilter out of the way
    # so every packet crosses the IPv4 hooks exactly once.
    ("net/bridge/bridge-nf-call-iptables", "0"),
    ("net/bridge/bridge-nf-call-ip6tables", "0"),
    ("net/bridge/bridge-nf-call-arptables", "0"),
)


POD_SYSCTLS = (
    # Only the node routes between pods; never take a redirect around it.
    ("net/ipv4/conf/all/accept_redirects", "0"),
    (f"net/ipv4/conf/{POD_LINK}/accept_redirects", "0"),
    # The lab is IPv4 only; no router solicitations or DAD chatter on the bridge.
    ("net/ipv6/conf/all/disable_ipv6", "1"),
    ("net/ipv6/conf/default/disable_ipv6", "1"),
)


@dataclass(frozen=True, slots=True)
class WantedPod:
    id: str
    ip: str


def create_node(state: LabState) -> None:
    """The node namespace with its bridge, and the outside namespace wired to it."""
    names = state.names
    _record_netns(state, [names.node_netns, names.outside_netns])
    system.ip_batch([f"netns add {names.node_netns}", f"netns add {names.outside_netns}"])
    system.ip_batch(
        [
            "link set lo up",
            f"link add {BRIDGE} address {GATEWAY_MAC} type bridge",
            f"addr add {GATEWAY_IP}/32 dev {BRIDGE}",
            f"link set {BRIDGE} up",
            f"link add {OUTSIDE_LINK} type veth peer name {POD_LINK} netns {names.outside_netns}",
            f"addr add {NODE_EXTERNAL_IP}/{OUTSIDE_PREFIX} dev {OUTSIDE_LINK}",
            f"link set {OUTSIDE_LINK} up",
        ],
        names.node_netns,
    )
    system.ip_batch(
        [
            "link set lo up",
            f"addr add {OUTSIDE_IP}/{OUTSIDE_PREFIX} dev {POD_LINK}",
            f"link set {POD_LINK} up",
            f"route add default via {NODE_EXTERNAL_IP}",
        ],
        names.outside_netns,
    )
    with system.in_netns(names.node_netns):
        for path, value in NODE_SYSCTLS:
            if os.path.exists(f"/proc/sys/{path}"):
                system.write_sysctl(path, value)


def sync_pods(state: LabState, wanted: Sequence[WantedPod]) -> tuple[list[PodSlot], list[PodSlot]]:
    """Make the pod namespaces match ``wanted`` (by id and IP); returns (added, removed)."""
    by_id = {w.id: w for w in wanted}
    removed = [
        slot for pid, slot in state.pods.items() if pid not in by_id or by_id[pid].ip != slot.ip
    ]
    if removed:
        remove_pods(state, removed)
    added: list[PodSlot] = []
    for want in wanted:
        if want.id in state.pods:
            continue
        index = state.next_index
        state.next_index += 1
        added.append(PodSlot(want.id, index, state.names.pod_netns(index), want.ip, pod_mac(index)))
    if added:
        add_pods(state, added)
    return added, removed


def add_pods(state: LabState, slots: Sequence[PodSlot]) -> None:
    names = state.names
    for slot in slots:
        state.pods[slot.id] = slot
    _record_netns(state, [s.netns for s in slots])
    system.ip_batch([f"netns add {s.netns}" for s in slots])
    node: list[str] = []
    fdb: list[str] = []
    for s in slots:
        link = pod_link(s.index)
        node += [
            f"link add {link} type veth peer name {POD_LINK} address {s.mac} netns {s.netns}",
            f"link set {link} master {BRIDGE} up",
            # Pods talk to the node only, never port to port on the bridge (around the rules).
            f"link set {link} type bridge_slave isolated on",
            f"route replace {s.ip}/32 dev {BRIDGE} scope link",
            f"neigh replace {s.ip} lladdr {s.mac} dev {BRIDGE} nud permanent",
        ]
        fdb.append(f"fdb replace {s.mac} dev {link} master static")
    system.ip_batch(node, names.node_netns)
    system.run(["bridge", "-n", names.node_netns, "-batch", "-"], "\n".join(fdb) + "\n")
    for s in slots:
        with system.in_netns(s.netns):
            netlink.configure_pod(POD_LINK, s.ip, GATEWAY_IP, GATEWAY_MAC)
            for path, value in POD_SYSCTLS:
                if os.path.exists(f"/proc/sys/{path}"):
                    system.write_sysctl(path, value)


def remove_pods(state: LabState, slots: Sequence[PodSlot]) -> None:
    names = state.names
    node: list[str] = []
    for s in slots:
        node += [f"route del {s.ip}/32 dev {BRIDGE}", f"neigh del {s.ip} dev {BRIDGE}"]
    with contextlib.suppress(system.LabError):  # gone with a namespace that died already
        system.ip_batch(node, names.node_netns)
    kill_processes_in(s.netns for s in slots)
    delete_netns([s.netns for s in slots])
    for s in slots:
        _remove_etc(names, s.netns)
        state.pods.pop(s.id, None)
        if s.netns in state.netns:
            state.netns.remove(s.netns)
    save(state)


def _record_netns(state: LabState, netns: Iterable[str]) -> None:
    for name in netns:
        if name not in state.netns:
            state.netns.append(name)
    save(state)


def delete_netns(netns: Sequence[str]) -> None:
    present = [n for n in netns if (NETNS_DIR / n).exists()]
    if present:
        # -force: carry on past a namespace that is already half gone
        system.run(
            ["ip", "-force", "-batch", "-"],
            "\n".join(f"netns del {n}" for n in present) + "\n",
            check=False,
        )


def _remove_etc(names: LabNames, netns: str) -> None:
    """The pod's ``/etc/netns`` directory; a link there is not the lab's and stays (and
    nothing is removed through it; ``lab down --all`` removes the link itself)."""
    private.remove_entry(names.etc_dir(netns), links=False)


def lab_netns_present(names: LabNames) -> list[str]:
    """Every namespace of this lab that exists, whether or not the state file knows it."""
    return [n for n in system.existing_netns() if names.owns_netns(n)]


def _netns_inodes(netns: Iterable[str]) -> set[tuple[int, int]]:
    found = set()
    for name in netns:
        try:
            st = os.stat(NETNS_DIR / name)
        except OSError:
            continue
        found.add((st.st_dev, st.st_ino))
    return found


def processes_in(netns: Iterable[str]) -> list[int]:
    """Pids whose network namespace is one of ``netns`` (what ``ip netns pids`` does)."""
    inodes = {ino for _dev, ino in _netns_inodes(netns)}
    if not inodes:
        return []
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if st.st_ino in inodes:
            found.append(int(entry))
    return found


DAEMON_MODULE = "netpol.lab.daemon"


def daemon_processes() -> dict[int, str]:
    """Every lab helper process: pid -> its marker (``python -m netpol.lab.daemon MARKER ...``).

    Recognised by the whole command line, never by a substring of it, so another lab whose
    name begins with this one's (``demo2`` and ``demo``), or a ``grep`` for the marker, is
    never taken for this lab's helper.
    """
    found = {}
    me = os.getpid()
    module = DAEMON_MODULE.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                args = handle.read().split(b"\0")
        except OSError:
            continue
        if len(args) >= 4 and args[1:3] == [b"-m", module]:
            found[int(entry)] = args[3].decode(errors="replace")
    return found


def processes_with_marker(marker: str) -> list[int]:
    """Pids of the helper processes started with exactly ``marker`` (one lab's)."""
    return sorted(pid for pid, found in daemon_processes().items() if found == marker)


def kill_pids(pids: Iterable[int], grace: float = 1.0) -> None:
    """SIGTERM, then SIGKILL whatever is still there after ``grace`` seconds."""
    pending = set(pids)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        pending = {pid for pid in pending if _alive(pid)}
        if pending:
            time.sleep(0.02)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours is gone for our purposes
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_processes_in(netns: Iterable[str]) -> None:
    pids = processes_in(list(netns))
    if pids:
        kill_pids(pids)


def teardown(names: LabNames, state: LabState | None) -> list[str]:
    """Remove everything of one lab (recorded or found by name); returns what was removed."""
    removed: list[str] = []
    pids = set(processes_with_marker(names.daemon_marker))
    netns = set(lab_netns_present(names))
    if state is not None:
        netns |= {n for n in state.netns if (NETNS_DIR / n).exists()}
    pids |= set(processes_in(netns))
    if pids:
        kill_pids(pids)
        removed.append(f"{len(pids)} process(es)")
    if netns:
        delete_netns(sorted(netns))
        removed.append(f"{len(netns)} network namespace(s)")
    for _ in range(20):  # a dying `ip` may have added one more in the meantime
        late = lab_netns_present(names)
        if not late:
            break
        kill_processes_in(late)
        delete_netns(late)
        time.sleep(0.05)
    etc = set()
    if state is not None:
        etc |= set(state.netns)
    if NETNS_ETC.exists():
        etc |= {d for d in os.listdir(NETNS_ETC) if names.owns_netns(d)}
    for n in etc:
        _remove_etc(names, n)
    private.remove_entry(names.state_dir)
    private.remove_file(names.lock_file)
    return removed
