"""Helpers for loader tests: YAML text straight into build_cluster (no validator)."""

from __future__ import annotations

import textwrap

from netpol.load.build import build_cluster
from netpol.load.yamldoc import LocatedList, LocatedMap, parse_text
from netpol.model.cluster import Cluster
from netpol.model.diagnostics import Severity
from netpol.model.options import Options


def located_shape(value: object) -> object:
    """Everything a reader decides about a read value, to compare two readers' whole:
    types, values, key order and every line (of each mapping, key, list and item)."""
    if isinstance(value, LocatedMap):
        return (
            "map",
            value.line,
            [(key, value.key_lines[key], located_shape(item)) for key, item in value.items()],
            sorted(value.key_lines.items()),
        )
    if isinstance(value, LocatedList):
        return ("list", value.line, list(value.item_lines), [located_shape(v) for v in value])
    return (type(value).__name__, value)


def build(text: str, options: Options | None = None, path: str = "test.yaml") -> Cluster:
    """The cluster ``text`` describes, built without validation (build must cope alone)
    and without the cluster add-ons (load/addons.py) unless ``options`` asks for them."""
    docs, problems = parse_text(textwrap.dedent(text), path)
    assert not problems, [p.one_line() for p in problems]
    return build_cluster(docs, options or Options(implicit_dns=False))


def lines(cluster: Cluster, severity: Severity | None = None) -> list[str]:
    return [d.one_line() for d in cluster.diagnostics if severity is None or d.severity is severity]


def snapshot(cluster: Cluster) -> tuple[object, ...]:
    """What a user sees of a cluster, without where it was written (paths, lines)."""
    return (
        [(n.name, dict(n.labels), n.implicit) for n in cluster.namespaces],
        [(n.name, n.ips) for n in cluster.nodes],
        [(w.kind, w.id, w.replicas, dict(w.pod_labels)) for w in cluster.workloads],
        [(p.id, dict(p.labels), p.ips, p.node, p.workload, p.hostname) for p in cluster.pods],
        [(s.id, s.cluster_ip, s.ports) for s in cluster.services],
        [(p.id, p.policy_types, p.ingress, p.egress) for p in cluster.policies],
        cluster.skipped_kinds,
    )
