"""What answers on each pod port: the lab's own listener, its DNS server, or a real command.

A manifest is untrusted and the lab runs as root, so a container's command runs only when it
is a known harmless server (``python3 -m http.server PORT``, which the lab runs in a scratch
directory of its own) or when the user passes ``--run-commands``.
"""

from __future__ import annotations

from dataclasses import dataclass

from netpol.model.http_server import read_http_server
from netpol.model.objects import Container, Pod

LAB_PROTOCOLS = ("TCP", "UDP")
DNS_PORT = 53
ECHO, DNS = "echo", "dns"
HTTP_SERVER = "http.server"


@dataclass(frozen=True, slots=True)
class Listener:
    port: int
    protocol: str
    kind: str  # ECHO (the lab's own listener, HTTP-aware) or DNS


@dataclass(frozen=True, slots=True)
class Command:
    """A process to run in the pod's namespace; ``kind`` is HTTP_SERVER or "container"."""

    container: str
    argv: tuple[str, ...]
    kind: str
    port: int | None  # the port it serves, when known
    ports: tuple[tuple[int, str], ...] = ()  # what it is expected to answer on (probed)


@dataclass(frozen=True, slots=True)
class PodWork:
    pod_id: str
    listeners: tuple[Listener, ...]
    commands: tuple[Command, ...]
    notes: tuple[str, ...]


def recognise_http_server(container: Container) -> int | None:
    """The port of ``python3 -m http.server [PORT] [--bind ADDR] [--directory DIR]``, else None."""
    command = read_http_server((*container.command, *container.args))
    return command.port if command is not None else None


def is_dns_pod(pod: Pod) -> bool:
    return pod.namespace == "kube-system" and pod.labels.get("k8s-app") == "kube-dns"


def plan_pod(pod: Pod, run_commands: bool) -> PodWork:
    """Listeners and commands for ``pod``: every declared TCP/UDP port gets an answer."""
    notes: list[str] = []
    commands: list[Command] = []
    served: set[tuple[int, str]] = set()
    # the lab answers cluster DNS itself (lab/dns.py): CoreDNS's own binary is never run,
    # and its other declared ports (metrics 9153) get the lab's listeners like any pod's
    dns = is_dns_pod(pod)
    for container in pod.containers:
        port = recognise_http_server(container)
        if port is not None:
            commands.append(
                Command(
                    container.name, ("http.server", str(port)), HTTP_SERVER, port, ((port, "TCP"),)
                )
            )
            served.add((port, "TCP"))
            continue
        argv = tuple(container.command) + tuple(container.args)
        if not argv or dns:
            continue
        if run_commands:
            declared = tuple(
                (p.port, p.protocol) for p in container.ports if p.protocol in LAB_PROTOCOLS
            )
            commands.append(Command(container.name, argv, "container", None, declared))
            served |= {(p.port, p.protocol) for p in container.ports}
        elif container.command:
            notes.append(
                f"{pod.id}: container {container.name}'s command not run "
                "(not a known harmless server; --run-commands runs it); the lab listens instead"
            )
    listeners: dict[tuple[int, str], Listener] = {}
    if dns:
        for protocol in LAB_PROTOCOLS:
            listeners[(DNS_PORT, protocol)] = Listener(DNS_PORT, protocol, DNS)
    for cp in pod.container_ports:
        key = (cp.port, cp.protocol)
        if cp.protocol not in LAB_PROTOCOLS:
            notes.append(f"{pod.id}: port {cp.port}/{cp.protocol} skipped: this kernel has no SCTP")
            continue
        if key in served or key in listeners:
            continue
        listeners[key] = Listener(cp.port, cp.protocol, ECHO)
    return PodWork(
        pod.id,
        tuple(sorted(listeners.values(), key=lambda x: (x.port, x.protocol))),
        tuple(commands),
        tuple(notes),
    )
