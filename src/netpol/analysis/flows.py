"""The flows file: the connections a user intends, in the user's words (docs/generate.md).

A flow names its two ends (a workload, a Service, a namespace, a label selector, the
outside world or CIDRs) and the ports, as written by the user; ``generate`` turns the
flows into NetworkPolicies. A matrix (``netpol matrix -o json``) converts into flows too,
so what works today can be frozen into policies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netpol.engine.ports import MAX_PORT, MIN_PORT, PROTOCOLS, ConnectionSet
from netpol.load import jsontext
from netpol.load.fields import unknown_key
from netpol.load.paths import DEFAULT_LIMITS, read_input, read_text
from netpol.load.yamldoc import LocatedList, LocatedMap, parse_text
from netpol.model.cidr import parse_cidr_sloppy
from netpol.model.diagnostics import Diagnostic
from netpol.model.options import InputLimits

API_VERSION = "netpol/v1alpha1"
KIND = "Flows"
END_FORMS = ("workload", "service", "namespace", "labels", "external", "cidr", "cidrs")
SELECTING = ("workload", "service")  # ends whose workloads get a policy of their own


class FlowsError(ValueError):
    """A flows file that cannot be read: one line, ``file:line: where: what``."""


@dataclass(frozen=True, slots=True)
class FlowEnd:
    """One end of a flow. ``kind`` is workload, service, namespace, labels, external or cidr.

    ``namespace`` is None for labels in any namespace; ``cidrs`` holds the blocks of a
    ``cidr`` end.
    """

    kind: str
    namespace: str | None = None
    name: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    cidrs: tuple[str, ...] = ()
    workload_kind: str | None = None

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def text(self) -> str:
        if self.kind == "workload":
            return self.id
        if self.kind == "service":
            return f"service {self.id}"
        if self.kind == "namespace":
            return f"namespace {self.namespace}"
        if self.kind == "labels":
            selector = ",".join(f"{k}={v}" for k, v in self.labels)
            where = f"namespace {self.namespace}" if self.namespace else "any namespace"
            return f"{{{selector}}} in {where}"
        if self.kind == "external":
            return "external"
        return ",".join(self.cidrs)


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A port as the user wrote it: one port, a range, or (``lo`` None) a whole protocol."""

    protocol: str
    lo: int | None = None
    hi: int | None = None

    @property
    def single(self) -> bool:
        return self.lo is not None and self.lo == self.hi

    def connections(self) -> ConnectionSet:
        if self.lo is None:
            return ConnectionSet.whole(self.protocol)
        return ConnectionSet.of(self.protocol, self.lo, self.hi)

    def text(self) -> str:
        if self.lo is None:
            return self.protocol
        if self.lo == self.hi:
            return f"{self.lo}/{self.protocol}"
        return f"{self.lo}-{self.hi}/{self.protocol}"


@dataclass(frozen=True, slots=True)
class Flow:
    """An intended connection; empty ``ports`` means every port of every protocol."""

    index: int  # 1-based position in the file; 0 for flows netpol adds (DNS)
    src: FlowEnd
    dst: FlowEnd
    ports: tuple[PortSpec, ...] = ()
    name: str = ""
    line: int = 0

    def connections(self) -> ConnectionSet:
        if not self.ports:
            return ConnectionSet.all()
        return ConnectionSet.union_of(p.connections() for p in self.ports)

    def ports_text(self) -> str:
        return " ".join(p.text() for p in self.ports) if self.ports else "all ports"

    def label(self) -> str:
        """How comments and messages name the flow: ``flow 2 (web)`` or ``DNS``."""
        if self.index == 0:
            return self.name or "DNS"
        return f"flow {self.index}" + (f" ({self.name})" if self.name else "")

    def text(self) -> str:
        return f"{self.src.text()} -> {self.dst.text()} {self.ports_text()}"


@dataclass(frozen=True, slots=True)
class FlowsFile:
    flows: tuple[Flow, ...]
    path: str = "<flows>"


def read_flows(path: str, limits: InputLimits = DEFAULT_LIMITS) -> FlowsFile:
    """The flows file at ``path`` (YAML or JSON); FlowsError with a one-line reason otherwise."""
    text = read_text(path, limits)
    if isinstance(text, Diagnostic):
        raise FlowsError(f"{text.location}: {text.message}")
    return parse_flows(text, path)


def parse_flows(text: str, path: str = "<flows>", default_namespace: str = "default") -> FlowsFile:
    docs, problems = parse_text(text, path)
    if problems:
        raise FlowsError(problems[0].one_line())
    if len(docs) != 1:
        raise FlowsError(f"{path}: expected one document of kind {KIND}, found {len(docs)}")
    doc = docs[0].data
    _check_keys(doc, {"apiVersion", "kind", "metadata", "namespace", "flows"}, path, "")
    if doc.get("kind") != KIND:
        raise FlowsError(f"{path}:{doc.line}: kind must be {KIND} (got {doc.get('kind')!r})")
    if doc.get("apiVersion") != API_VERSION:
        raise FlowsError(
            f"{path}:{doc.line}: apiVersion must be {API_VERSION} (got {doc.get('apiVersion')!r})"
        )
    namespace = doc.get("namespace", default_namespace)
    if not isinstance(namespace, str) or not namespace:
        raise FlowsError(f"{path}:{_line(doc, 'namespace')}: namespace: must be a namespace name")
    items = doc.get("flows")
    if not isinstance(items, list) or not items:
        raise FlowsError(f"{path}:{_line(doc, 'flows')}: flows: must be a non-empty list")
    flows = []
    for i, item in enumerate(items):
        where = f"flows[{i}]"
        line = items.item_lines[i] if isinstance(items, LocatedList) else 0
        if not isinstance(item, Mapping):
            raise FlowsError(f"{path}:{line}: {where}: must be a mapping with from, to and ports")
        _check_keys(item, {"name", "from", "to", "ports"}, path, where)
        for key in ("from", "to"):
            if key not in item:
                raise FlowsError(f"{path}:{line}: {where}: {key} is required")
        name = item.get("name", "")
        if not isinstance(name, str):
            raise FlowsError(f"{path}:{_line(item, 'name')}: {where}.name: must be a string")
        src = _end(item["from"], namespace, path, _line(item, "from"), f"{where}.from")
        dst = _end(item["to"], namespace, path, _line(item, "to"), f"{where}.to")
        ports = _ports(item.get("ports"), path, _line(item, "ports") or line, f"{where}.ports")
        flows.append(Flow(i + 1, src, dst, ports, name, line))
    return FlowsFile(tuple(flows), path)


def _line(data: Any, key: str) -> int:
    if isinstance(data, LocatedMap):
        return data.key_lines.get(key, data.line)
    return 0


def _check_keys(data: Mapping[str, Any], allowed: set[str], path: str, where: str) -> None:
    found = unknown_key(data, allowed)
    if found is not None:
        key, message = found
        at = f"{where}: " if where else ""
        raise FlowsError(f"{path}:{_line(data, key)}: {at}{message}")


def _end(value: Any, namespace: str, path: str, line: int, where: str) -> FlowEnd:
    if isinstance(value, str):
        value = {"external": True} if value == "external" else {"workload": value}
    if not isinstance(value, Mapping) or not value:
        raise FlowsError(f"{path}:{line}: {where}: expected one of {', '.join(END_FORMS)}")
    keys = set(value)
    found = unknown_key({k: v for k, v in value.items() if k != "kind"}, END_FORMS)
    if found is not None:
        raise FlowsError(f"{path}:{line}: {where}: {found[1]}")
    if "external" in keys:
        if keys != {"external"} or value["external"] is not True:
            raise FlowsError(f"{path}:{line}: {where}: write external: true, alone")
        return FlowEnd("external")
    if keys & {"cidr", "cidrs"}:
        if len(keys) != 1:
            raise FlowsError(f"{path}:{line}: {where}: cidr cannot be combined with other keys")
        raw = value.get("cidr", value.get("cidrs"))
        cidrs = [raw] if isinstance(raw, str) else raw
        if not isinstance(cidrs, list) or not cidrs:
            raise FlowsError(f"{path}:{line}: {where}: cidrs must be a non-empty list")
        for cidr in cidrs:
            if not isinstance(cidr, str) or parse_cidr_sloppy(cidr) is None:
                raise FlowsError(
                    f"{path}:{line}: {where}: {cidr!r} is not a CIDR (e.g. 203.0.113.0/24)"
                )
        return FlowEnd("cidr", cidrs=tuple(cidrs))
    if keys & {"workload", "service"}:
        form = "workload" if "workload" in keys else "service"
        extra = keys - {form, "namespace"} - ({"kind"} if form == "workload" else set())
        if extra or keys >= {"workload", "service"}:
            raise FlowsError(f"{path}:{line}: {where}: {form} takes only namespace besides it")
        text = value[form]
        if not isinstance(text, str) or not text.strip():
            raise FlowsError(f"{path}:{line}: {where}.{form}: must be NAME or NAMESPACE/NAME")
        ns, slash, name = text.strip().partition("/")
        if not slash:
            ns, name = value.get("namespace") or namespace, text.strip()
        if not isinstance(ns, str) or not ns or not name or "/" in name:
            raise FlowsError(f"{path}:{line}: {where}.{form}: must be NAME or NAMESPACE/NAME")
        kind = value.get("kind")
        if kind is not None and not isinstance(kind, str):
            raise FlowsError(f"{path}:{line}: {where}.kind: must be a workload kind")
        return FlowEnd(form, ns, name, workload_kind=kind)
    if "kind" in keys:
        raise FlowsError(f"{path}:{line}: {where}: kind goes with workload")
    ns_value = value.get("namespace")
    if ns_value is not None and (not isinstance(ns_value, str) or not ns_value):
        raise FlowsError(f"{path}:{line}: {where}.namespace: must be a namespace name")
    if "labels" not in keys:
        return FlowEnd("namespace", ns_value)
    labels = value["labels"]
    if not (
        isinstance(labels, Mapping)
        and labels
        and all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
    ):
        raise FlowsError(f"{path}:{line}: {where}.labels: must map label keys to string values")
    return FlowEnd("labels", ns_value, labels=tuple(sorted(labels.items())))


def _ports(value: Any, path: str, line: int, where: str) -> tuple[PortSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise FlowsError(f"{path}:{line}: {where}: a non-empty list such as [80/TCP, 53/UDP]")
    found = []
    for i, item in enumerate(value):
        at = value.item_lines[i] if isinstance(value, LocatedList) else line
        try:
            found.append(parse_port(item))
        except ValueError as exc:
            raise FlowsError(f"{path}:{at}: {where}[{i}]: {exc}") from None
    return tuple(dict.fromkeys(found))


PORT_KEYS = ("endPort", "port", "protocol")


def parse_port(item: Any) -> PortSpec:
    """``80``, ``80/TCP``, ``8000-8080/TCP``, ``UDP`` or ``{port, endPort, protocol}``."""
    if isinstance(item, bool):
        raise ValueError(f"{item!r} is not a port")
    if isinstance(item, Mapping):
        found = unknown_key(item, PORT_KEYS)
        if found is not None:
            raise ValueError(found[1])
        protocol = item.get("protocol", "TCP")
        port, end = item.get("port"), item.get("endPort", item.get("port"))
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        if port is None:
            if "endPort" in item:
                raise ValueError("endPort needs port (the first port of the range)")
            return PortSpec(protocol)
        if not isinstance(port, int) or not isinstance(end, int):
            raise ValueError("port and endPort must be numbers (names come from the containers)")
        return _checked(protocol, port, end)
    if isinstance(item, int):
        return _checked("TCP", item, item)
    if not isinstance(item, str):
        raise ValueError(f"{item!r} is not a port")
    text = item.strip()
    if text.upper() in PROTOCOLS:
        return PortSpec(text.upper())
    number, _, protocol = text.partition("/")
    protocol = (protocol or "TCP").upper()
    if protocol not in PROTOCOLS:
        raise ValueError(f"{text!r}: protocol must be one of {', '.join(PROTOCOLS)}")
    lo, _, hi = number.partition("-")
    if not lo.isdigit() or (hi and not hi.isdigit()):
        raise ValueError(f"{text!r}: expected PORT[-END][/PROTOCOL], e.g. 80/TCP or 53/UDP")
    return _checked(protocol, int(lo), int(hi or lo))


def _checked(protocol: str, lo: int, hi: int) -> PortSpec:
    if not MIN_PORT <= lo <= hi <= MAX_PORT:
        raise ValueError(f"port range {lo}-{hi} is outside 1-65535 or reversed")
    return PortSpec(protocol, lo, hi)


def ports_of(connections: ConnectionSet) -> tuple[PortSpec, ...]:
    """A connection set as port specs; every connection is the empty tuple."""
    if connections.is_all:
        return ()
    specs = []
    for protocol, lo, hi in connections:
        if (lo, hi) == (MIN_PORT, MAX_PORT):
            specs.append(PortSpec(protocol))
        else:
            specs.append(PortSpec(protocol, lo, hi))
    return tuple(specs)


def read_matrix(path: str, limits: InputLimits = DEFAULT_LIMITS) -> FlowsFile:
    """Flows from the matrix file at ``path`` (``-``: stdin); FlowsError with one line."""
    text = read_input(path, limits)
    if isinstance(text, Diagnostic):
        raise FlowsError(f"{text.location}: {text.message}")
    return flows_from_matrix(text, path)


def flows_from_matrix(text: str, path: str = "<matrix>") -> FlowsFile:
    """Flows from a ``ConnectivityMatrix`` document (``netpol matrix -o json``, any ``--by``).

    Pods become their workloads, namespaces stay namespaces, external blocks become CIDRs;
    node endpoints cannot be named by a flow and are refused.
    """
    try:
        doc = jsontext.loads(text)
    except jsontext.JsonDepthError as exc:
        raise FlowsError(
            f"{path}:{exc.line}: nested deeper than {jsontext.MAX_JSON_DEPTH} levels"
        ) from None
    except json.JSONDecodeError as exc:
        raise FlowsError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ConnectivityMatrix":
        raise FlowsError(f"{path}: expected a ConnectivityMatrix (netpol matrix -o json)")
    endpoints, connections = doc.get("endpoints", []), doc.get("connections", [])
    for field, value in (("endpoints", endpoints), ("connections", connections)):
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise FlowsError(f"{path}: {field}: must be a list of objects (netpol matrix -o json)")
    ends: dict[str, FlowEnd] = {}
    for i, endpoint in enumerate(endpoints):
        if not isinstance(endpoint.get("id"), str):
            raise FlowsError(f"{path}: endpoints[{i}].id: must be a string")
        ends[endpoint["id"]] = _matrix_end(endpoint, path, f"endpoints[{i}]")
    merged: dict[tuple[FlowEnd, FlowEnd], ConnectionSet] = {}
    for i, conn in enumerate(connections):
        src, dst = ends.get(str(conn.get("src"))), ends.get(str(conn.get("dst")))
        if src is None or dst is None:
            raise FlowsError(f"{path}: connections[{i}]: endpoint not listed in endpoints")
        try:
            allowed = ConnectionSet.from_intervals(
                {p: [tuple(r) for r in rs] for p, rs in conn.get("allowed", {}).items()}
            )
        except (TypeError, ValueError, AttributeError):
            raise FlowsError(f"{path}: connections[{i}].allowed: malformed") from None
        if allowed.is_empty or src.kind == dst.kind == "cidr":
            continue
        key = (src, dst)
        merged[key] = merged.get(key, ConnectionSet.none()) | allowed
    flows = tuple(
        Flow(n + 1, src, dst, ports_of(conns))
        for n, ((src, dst), conns) in enumerate(merged.items())
    )
    if not flows:
        raise FlowsError(f"{path}: the matrix allows no connection: nothing to generate")
    return FlowsFile(flows, path)


def _matrix_end(endpoint: Mapping[str, Any], path: str, where: str) -> FlowEnd:
    kind = endpoint.get("kind")
    if kind == "External":
        cidrs = endpoint.get("cidrs", ())
        if (
            not isinstance(cidrs, list)
            or not cidrs
            or not all(isinstance(c, str) and parse_cidr_sloppy(c) is not None for c in cidrs)
        ):
            raise FlowsError(f"{path}: {where}.cidrs: must be a non-empty list of CIDRs")
        return FlowEnd("cidr", cidrs=tuple(cidrs))
    if kind == "Namespace":
        name = endpoint.get("name", endpoint.get("id"))
        if not isinstance(name, str) or not name:
            raise FlowsError(f"{path}: {where}.name: must be a namespace name")
        return FlowEnd("namespace", name)
    if kind == "Node":
        raise FlowsError(
            f"{path}: node endpoint {endpoint.get('id')}: flows name pods and IPs, not nodes "
            "(export the matrix without --include-nodes)"
        )
    workload = endpoint.get("workload") or endpoint.get("id", "")
    ns, _, name = str(workload).partition("/")
    workload_kind = endpoint.get("workloadKind")
    if not ns or not name or (workload_kind is not None and not isinstance(workload_kind, str)):
        raise FlowsError(f"{path}: {where}: not a pod or workload endpoint (NAMESPACE/NAME)")
    return FlowEnd("workload", ns, name, workload_kind=workload_kind)
