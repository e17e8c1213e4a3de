"""Endpoints written the user's way in an expectations file, resolved against one cluster.

A spec is a string (anything ``netpol explain`` accepts: NS/POD, NS/WORKLOAD, KIND/NAME,
a Service or DNS name, an IP) or a CIDR, or a mapping with exactly one form:
``{pod: NS/NAME}``, ``{workload: NS/NAME}``, ``{service: NS/NAME}``, ``{dns: NAME}``,
``{namespace: NS}`` (all its pods), ``{namespace: NS, labels: {...}}`` (a label
selector; without ``namespace`` any namespace), ``{cidr: CIDR}`` or ``{ip: IP}``.

A destination resolves per port: a Service port becomes each backend's target port
(post-DNAT, as the engine evaluates it); every other destination keeps the port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from netpol.engine.classes import cluster_blocks
from netpol.engine.compile import CompiledCluster
from netpol.engine.endpoints import Endpoint, ip_endpoint
from netpol.engine.ipspace import IPAtoms
from netpol.engine.names import did_you_mean
from netpol.engine.resolve import ResolveError, Resolver, Target
from netpol.engine.selectors import matches
from netpol.model.cidr import parse_cidr_sloppy
from netpol.model.objects import Pod
from netpol.model.selectors import LabelSelector

FORMS = ("pod", "workload", "service", "dns", "namespace", "labels", "cidr", "ip")


class EndpointError(ValueError):
    """An endpoint spec that is malformed or matches nothing, with a one-line reason."""


@dataclass(frozen=True)
class EndpointSpec:
    """One ``from``/``to`` value as written: ``kind`` is one of FORMS or ``name``."""

    kind: str
    value: str = ""
    namespace: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    raw: object = field(default=None, compare=False)

    def text(self) -> str:
        """How reports name the endpoint: close to what the user wrote."""
        if self.kind == "name":
            return self.value
        if self.kind in ("namespace", "labels"):
            parts = []
            if self.namespace:
                parts.append(f"namespace={self.namespace}")
            parts += [f"{k}={v}" for k, v in self.labels]
            return "{" + ", ".join(parts) + "}" if self.labels else f"namespace {self.namespace}"
        return f"{self.kind} {self.value}"


def parse_endpoint(value: object, where: str) -> EndpointSpec:
    """An EndpointSpec from YAML, or EndpointError naming ``where`` (e.g. ``expectations[2].from``)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise EndpointError(f"{where}: empty endpoint")
        if "/" in text and parse_cidr_sloppy(text) is not None:
            return EndpointSpec("cidr", text, raw=value)
        return EndpointSpec("name", text, raw=value)
    if not isinstance(value, Mapping):
        raise EndpointError(f"{where}: an endpoint is a string or a mapping, not {value!r}")
    keys = set(value)
    unknown = keys - set(FORMS)
    if unknown:
        raise EndpointError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (use one of {', '.join(FORMS)})"
        )
    if "labels" in keys or "namespace" in keys:
        extra = keys - {"labels", "namespace"}
        if extra:
            raise EndpointError(
                f"{where}: {sorted(extra)[0]!r} cannot be combined with namespace/labels"
            )
        namespace = value.get("namespace")
        labels = value.get("labels")
        if namespace is not None and not isinstance(namespace, str):
            raise EndpointError(f"{where}.namespace: must be a string")
        if labels is not None and not (
            isinstance(labels, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
        ):
            raise EndpointError(f"{where}.labels: must map label keys to string values")
        pairs = tuple(sorted(labels.items())) if labels else ()
        kind = "labels" if labels is not None else "namespace"
        return EndpointSpec(kind, "", namespace, pairs, raw=value)
    if len(keys) != 1:
        raise EndpointError(f"{where}: give exactly one of {', '.join(FORMS)}")
    (kind,) = keys
    text = value[kind]
    if not isinstance(text, str) or not text.strip():
        raise EndpointError(f"{where}.{kind}: must be a non-empty string")
    if kind == "cidr" and parse_cidr_sloppy(text) is None:
        raise EndpointError(f"{where}.cidr: {text!r} is not a CIDR (e.g. 203.0.113.0/24)")
    if kind == "ip":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise EndpointError(f"{where}.ip: {text!r} is not an IP address") from None
    return EndpointSpec(kind, text.strip(), raw=value)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A destination endpoint reached on ``port`` (post-DNAT; None: every port)."""

    endpoint: Endpoint
    port: int | None
    protocol: str
    via: str = ""

    def target(self) -> Target:
        return Target(self.endpoint, self.port, self.protocol, self.via)


class EndpointResolver:
    """Resolves EndpointSpecs against one compiled cluster (caching the engine's Resolver)."""

    def __init__(self, cc: CompiledCluster, default_namespace: str | None = None) -> None:
        self.cc = cc
        self.resolver = Resolver(cc)
        self.default_namespace = default_namespace
        self._atoms: IPAtoms | None = None

    def pod(self, pod: Pod) -> Endpoint:
        return self.cc.endpoint(pod)

    def _selected(self, spec: EndpointSpec) -> list[Endpoint]:
        namespace = spec.namespace
        cluster = self.cc.cluster
        if namespace is not None and namespace not in cluster.namespace_by_name:
            hint = did_you_mean(namespace, cluster.namespace_by_name)
            raise EndpointError(f"{spec.text()}: no namespace {namespace!r} in the input{hint}")
        selector = LabelSelector(match_labels=spec.labels)
        pods = [
            p
            for p in cluster.pods
            if p.ips
            and (namespace is None or p.namespace == namespace)
            and matches(selector, p.labels)
        ]
        if not pods:
            where = f"namespace {namespace}" if namespace else "any namespace"
            raise EndpointError(f"{spec.text()}: no running pod matches in {where}")
        return [self.pod(p) for p in pods]

    def _cidr(self, text: str) -> list[Endpoint]:
        """One address per piece of ``text`` that the policies' ipBlocks cut apart."""
        network = parse_cidr_sloppy(text)
        if network is None:
            raise EndpointError(f"{text!r} is not a CIDR")
        if self._atoms is None:
            self._atoms = IPAtoms(cluster_blocks(self.cc.cluster))
        start = int(network.network_address)
        end = start + network.num_addresses
        taken = {ip for p in self.cc.cluster.pods for ip in p.ips}
        taken |= {ip for n in self.cc.cluster.nodes for ip in n.ips}
        make = ipaddress.IPv4Address if network.version == 4 else ipaddress.IPv6Address
        found = []
        for atom in self._atoms.atoms:
            if atom.version != network.version or atom.end <= start or atom.start >= end:
                continue
            first, last = max(atom.start, start), min(atom.end, end)
            if last - first > 2:
                first += 1  # not the network address: 10.0.0.1 reads as a host, 10.0.0.0 does not
            # An address of the block that is not a pod or node: external, as the user meant.
            for value in range(first, min(last, first + 64)):
                if str(make(value)) not in taken:
                    found.append(ip_endpoint(make(value)))
                    break
        if not found:
            raise EndpointError(f"cidr {text}: every address in it is a pod or node of the input")
        return found

    def _name_text(self, spec: EndpointSpec) -> str:
        if spec.kind in ("pod", "service"):
            return f"{spec.kind}/{spec.value}"
        return spec.value

    def sources(self, spec: EndpointSpec) -> list[Endpoint]:
        """The endpoints a source spec stands for (a Service as source means its pods)."""
        if spec.kind in ("namespace", "labels"):
            return self._selected(spec)
        if spec.kind == "cidr":
            return self._cidr(spec.value)
        if spec.kind == "ip":
            return [ip_endpoint(spec.value)]
        try:
            if spec.kind == "workload":
                return [t.endpoint for t in self._workload(spec.value, None, "TCP")]
            found = self.resolver.sources(self._name_text(spec), self.default_namespace)
        except ResolveError as exc:
            raise _unresolved(spec, exc) from None
        return _unique(found)

    def _workload(self, text: str, port: int | None, protocol: str) -> list[Target]:
        namespace, _, name = text.rpartition("/")
        namespace = namespace or self.default_namespace or self.resolver.cluster_default()
        workload = self.cc.cluster.workload_by_id.get(f"{namespace}/{name}")
        if workload is None:  # a short name, as every verb reads it, or the near names
            meaning = self.resolver.names.lookup(namespace, name, text, services=False)
            found = self.cc.cluster.workload_by_id.get(meaning.pods[0].workload_id)
            if found is None:
                raise ResolveError(f"{text!r}: {meaning.shown} is not a workload")
            workload, namespace, name = found, found.namespace, found.name
        return self.resolver.targets(
            f"{workload.kind.lower()}/{namespace}/{name}", None, port, protocol
        )

    def destinations(
        self, spec: EndpointSpec, port: int | None, protocol: str, from_namespace: str | None
    ) -> list[Resolved]:
        """Where a connection to ``spec`` on ``port`` lands: (endpoint, pod port) after DNAT.

        A bare name resolves from ``from_namespace`` (the source pod's, as its DNS would)
        unless the file names a namespace.
        """
        if spec.kind in ("namespace", "labels"):
            return [Resolved(e, port, protocol) for e in self._selected(spec)]
        if spec.kind == "cidr":
            return [Resolved(e, port, protocol) for e in self._cidr(spec.value)]
        if spec.kind == "ip":
            return [Resolved(ip_endpoint(spec.value), port, protocol)]
        namespace = self.default_namespace or from_namespace
        try:
            if spec.kind == "workload":
                targets = self._workload(spec.value, port, protocol)
            else:
                targets = self.resolver.targets(self._name_text(spec), namespace, port, protocol)
        except ResolveError as exc:
            raise _unresolved(spec, exc) from None
        return [Resolved(t.endpoint, t.port, t.protocol, t.via) for t in targets]


def _unresolved(spec: EndpointSpec, exc: ResolveError) -> EndpointError:
    """The resolver's reason, prefixed with the spec unless the reason already names it."""
    reason = str(exc)
    return EndpointError(reason if repr(spec.value) in reason else f"{spec.text()}: {reason}")


def _unique(endpoints: list[Endpoint]) -> list[Endpoint]:
    seen: dict[str, Endpoint] = {}
    for e in endpoints:
        seen.setdefault(e.id, e)
    return list(seen.values())
