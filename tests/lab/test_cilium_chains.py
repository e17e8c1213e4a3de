"""Cilium policies as nftables text, without a kernel (docs/cilium.md, docs/lab.md): the
``cilium-deny`` segment before the ``default`` one, a rule with ``enableDefaultDeny`` off
that allows without isolating, entities as lab addresses exactly as the engine's
``TieredModel.miss`` decides them (world: neither a pod nor a node; cluster: pods and nodes;
host and remote-node: a node's addresses; nothing: none), and ``nft -c`` on random cases."""

from __future__ import annotations

import ipaddress
import textwrap
from pathlib import Path

import pytest
from tests.lab.cilium_generator import random_cilium_case
from tests.lab.test_tier_chains import (
    DB,
    NP_DB_FROM_WEB,
    OTHER,
    WEB,
    assert_nft_accepts,
    chain_lines,
    map_entries,
    needs_nft,
    ruleset_of,
    ruleset_of_paths,
    set_elements,
)
from tests.lab.tier_generator import yaml_text

from netpol.engine.compile import compile_cluster
from netpol.engine.endpoints import Endpoint, ip_endpoint
from netpol.lab.documents import objects_of_data, raw_documents
from netpol.lab.nftables import LabPod, Ruleset, RulesetBuilder
from netpol.lab.ranges import Ranges
from netpol.lab.tier_chains import _match_ranges
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import check_and_build, load_cluster

NODES = {
    "kind-control-plane": "172.18.0.2",
    "kind-worker": "172.18.0.3",
    "kind-worker2": "172.18.0.4",
}
OUTSIDE = "203.0.113.10"


def cnp(name: str, body: str, kind: str = "CiliumNetworkPolicy") -> str:
    namespace = "namespace: ns, " if kind == "CiliumNetworkPolicy" else ""
    return (
        f"apiVersion: cilium.io/v2\nkind: {kind}\nmetadata: {{{namespace}name: {name}}}\n"
        + textwrap.dedent(body)
    )


def segments(ruleset: Ruleset, first: str) -> list[list[str]]:
    """The chain ``first`` and every segment it goes on to, in order."""
    found = []
    name: str | None = first
    while name is not None and name != "deny":
        lines = chain_lines(ruleset, name)
        found.append(lines)
        ending = lines[-2]
        name = ending.removeprefix("goto ") if ending.startswith("goto ") else None
    return found


def test_a_cilium_deny_comes_before_the_network_policy_allow(tmp_path: Path) -> None:
    deny = cnp(
        "no-web",
        """
        spec:
          endpointSelector: {matchLabels: {app: db}}
          ingressDeny:
          - fromEndpoints: [{matchLabels: {app: web}}]
            toPorts: [{ports: [{port: "3306", protocol: TCP}]}]
        """,
    )
    ruleset = ruleset_of(tmp_path, NP_DB_FROM_WEB, deny)
    deny_segment, default_segment = segments(ruleset, map_entries(ruleset, "ingress")[DB])
    assert deny_segment[0] == f"ip saddr {WEB} meta l4proto tcp th dport 3306 goto deny"
    assert deny_segment[1].startswith("goto in_")  # the deny tier's default: Pass
    # the NetworkPolicy's allow, allow-localhost (db's node), then isolation
    assert default_segment[0] == f"ip saddr {WEB} accept"
    assert default_segment[1].startswith("ip saddr 172.18.0.") and default_segment[1].endswith(
        " accept"
    )
    assert default_segment[2] == "goto deny"


def test_enable_default_deny_off_allows_without_isolating(tmp_path: Path) -> None:
    allow = cnp(
        "web-only",
        """
        spec:
          endpointSelector: {matchLabels: {app: db}}
          enableDefaultDeny: {ingress: false}
          ingress: [{fromEndpoints: [{matchLabels: {app: web}}]}]
        """,
    )
    ruleset = ruleset_of(tmp_path, allow)
    assert DB not in map_entries(ruleset, "ingress")  # its allow changes nothing: no entry
    banp = """
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: BaselineAdminNetworkPolicy
    metadata: {name: default}
    spec:
      subject: {namespaces: {}}
      ingress: [{action: Deny, from: [{namespaces: {}}]}]
    """
    # with a baseline Deny below, the allow decides first and the rest goes on to it
    ruleset = ruleset_of(tmp_path, allow, banp)
    default_segment, baseline = segments(ruleset, map_entries(ruleset, "ingress")[DB])
    assert f"ip saddr {WEB} accept" in default_segment  # beside allow-localhost's
    assert default_segment[-2] != "goto deny"  # not isolated: on to the baseline
    assert baseline == [f"ip saddr {WEB}-{OTHER} goto deny", "accept", "goto deny"]


CANDIDATES = (WEB, DB, OTHER, *NODES.values(), OUTSIDE, "192.168.1.1")


def covered(ruleset: Ruleset, line: str) -> list[str]:
    """The candidate addresses a ``ip saddr X ... goto deny`` line covers ("goto deny": all)."""
    if not line.startswith("ip saddr "):
        return list(CANDIDATES)
    target = line.removeprefix("ip saddr ").split()[0]
    texts = set_elements(ruleset, target[1:]) if target.startswith("@") else [target]
    ranges = [tuple(map(ipaddress.ip_address, (t.split("-") * 2)[:2])) for t in texts]
    return [a for a in CANDIDATES if any(lo <= ipaddress.ip_address(a) <= hi for lo, hi in ranges)]


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ("[world]", [OUTSIDE, "192.168.1.1"]),  # neither a pod nor a node
        ("[cluster]", [WEB, DB, OTHER, *NODES.values()]),
        ("[remote-node]", ["remote"]),  # per node: the two nodes db is not on
        ("[host, world]", ["host", OUTSIDE, "192.168.1.1"]),
        ("[all]", list(CANDIDATES)),
        ("[none]", []),
    ],
)
def test_ingress_deny_of_an_entity_covers_its_lab_addresses(
    tmp_path: Path, entities: str, expected: list[str]
) -> None:
    deny = cnp(
        "entity",
        f"""
        spec:
          endpointSelector: {{matchLabels: {{app: db}}}}
          enableDefaultDeny: {{ingress: false}}
          ingressDeny: [{{fromEntities: {entities}}}]
        """,
    )
    ruleset = ruleset_of(tmp_path, deny)
    cluster = load_cluster([str(tmp_path / "cluster.yaml")], Options(implicit_dns=False)).cluster
    db_node = next(p.node for p in cluster.pods if p.name == "db")
    nodes = {"host": [NODES[db_node]], "remote": [ip for n, ip in NODES.items() if n != db_node]}
    wanted = [a for e in expected for a in nodes.get(e, [e])]
    entry = map_entries(ruleset, "ingress").get(DB)
    if not wanted:
        assert entry is None  # a deny of nothing, and no isolation: no chain at all
        return
    assert entry is not None
    first = chain_lines(ruleset, entry)[0]
    assert first.endswith("goto deny")
    assert sorted(covered(ruleset, first)) == sorted(wanted)


# -- every match's lab addresses, as the engine decides each address -------------------------

PROBED = (OUTSIDE, "203.0.113.1", "192.168.1.1", "10.244.9.9", "0.0.0.0", "8.8.8.8")


def builder_of(seed: int) -> RulesetBuilder:
    options = Options(profile=PROFILES["cilium"])
    store = objects_of_data(random_cilium_case(seed), "default")
    result = check_and_build(raw_documents(store, "<case>"), [], options)
    assert result.ok, [d.message for d in result.errors]
    cc = compile_cluster(result.cluster, options)
    pods = [LabPod(p, p.ips[0]) for p in sorted(cc.cluster.pods, key=lambda p: p.id) if p.ips]
    return RulesetBuilder(cc, pods)


def contains(ranges: Ranges, value: int) -> bool:
    return any(lo <= value <= hi for lo, hi in ranges)


@pytest.mark.parametrize("seed", range(40))
def test_match_ranges_agree_with_the_engine_address_by_address(seed: int) -> None:
    b = builder_of(seed)
    model = b.cc.tiered
    assert model is not None
    endpoints: list[Endpoint] = [b.endpoint(lp.pod) for lp in b.pods]
    endpoints += [e for e, _ in b.node_addresses]
    endpoints += [ip_endpoint(ip) for ip in PROBED]
    checked = 0
    for compiled in model.policies:
        for rule in compiled.ingress + compiled.egress:
            for match in rule.rule.peers:
                ranges = _match_ranges(b, model, match)
                for endpoint in endpoints:
                    assert endpoint.ip is not None
                    expected = model.miss(match, endpoint) is None
                    found = contains(ranges, int(ipaddress.ip_address(endpoint.ip)))
                    assert found == expected, (seed, match.text(), endpoint.id)
                    checked += 1
    assert checked  # every case has at least one Cilium policy with a peer (allow-localhost)


@needs_nft
@pytest.mark.parametrize("seed", range(12))
def test_nft_accepts_the_ruleset_of_random_cilium_clusters(tmp_path: Path, seed: int) -> None:
    source = tmp_path / "case.yaml"
    source.write_text(yaml_text(random_cilium_case(seed)))
    assert_nft_accepts(ruleset_of_paths(source), tmp_path)
