"""The nftables compiler, without a kernel: the table's shape for the tutorial, and the
interval arithmetic under ipBlock sets."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import EXAMPLES

from netpol.engine.compile import compile_cluster
from netpol.engine.ports import merge_intervals as merge
from netpol.lab.nftables import LabPod, compile_ruleset
from netpol.lab.ranges import subtract
from netpol.lab.services import service_routes
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import load_cluster


def tutorial(profile: str = "upstream"):
    options = Options(profile=PROFILES[profile])
    result = load_cluster([str(EXAMPLES / "tutorial")], options)
    assert result.ok
    cluster = result.cluster
    pods = [LabPod(p, p.ips[0]) for p in sorted(cluster.pods, key=lambda p: p.id)]
    routes, _ = service_routes(cluster, {lp.pod.id: lp.ip for lp in pods})
    return cluster, pods, compile_ruleset(compile_cluster(cluster, options), pods, routes)


def ip_of(pods, prefix: str) -> str:
    return next(lp.ip for lp in pods if lp.pod.name.startswith(prefix))


def test_isolated_pods_are_in_the_verdict_maps_and_the_others_are_not():
    _, pods, ruleset = tutorial()
    text = ruleset.text
    egress_map = text.split("map egress_pods {")[1].split("\n  }")[0]
    ingress_map = text.split("map ingress_pods {")[1].split("\n  }")[0]
    for name in ("frontend", "backend", "db-sts"):
        assert ip_of(pods, name) in egress_map
        assert ip_of(pods, name) in ingress_map
    for name in ("coredns",):
        assert ip_of(pods, name) not in egress_map
        assert ip_of(pods, name) not in ingress_map


def test_the_database_initiates_nothing_its_egress_goes_straight_to_deny():
    _, pods, ruleset = tutorial()
    assert f"{ip_of(pods, 'db-sts')} : goto deny" in ruleset.text


def test_the_published_backend_policy_admits_nobody_on_5678():
    # role: web matches no pod, so the backend's ingress chain has no rule for 5678.
    _, pods, ruleset = tutorial()
    backend = ip_of(pods, "backend")
    ingress_map = ruleset.text.split("map ingress_pods {")[1].split("\n  }")[0]
    chain = ingress_map.split(f"{backend} : goto ")[1].split(",")[0].split()[0]
    assert chain == "deny"


def test_stateful_first_then_maps_then_reject():
    _, _, ruleset = tutorial()
    egress = ruleset.text.split("chain egress {")[1].split("}")[0].strip().splitlines()
    assert egress[0].strip().startswith("type filter hook forward priority filter")
    assert egress[1].strip() == "ct state established,related accept"
    assert "reject with tcp reset" in ruleset.text
    assert "reject with icmpx type port-unreachable" in ruleset.text


def test_service_vips_and_node_ports_are_dnat_to_backends_on_target_ports():
    cluster, pods, ruleset = tutorial()
    backend = ip_of(pods, "backend")
    svc = next(s for s in cluster.services if s.name == "backend-svc")
    assert f"{svc.cluster_ip} . tcp . 5678 : goto" in ruleset.text
    assert f"dnat ip to {backend}:5678" in ruleset.text
    assert "tcp . 31000 : goto" in ruleset.text
    # two CoreDNS pods behind one VIP: random choice between them
    assert "numgen random mod 2 map" in ruleset.text


def test_the_ruleset_replaces_the_table_in_one_transaction():
    _, _, ruleset = tutorial()
    lines = ruleset.text.splitlines()
    assert lines[:3] == ["table inet netpol {}", "delete table inet netpol", "table inet netpol {"]


def test_cilium_ipblocks_never_cover_pod_or_node_ips():
    # The frontend admits ipBlock 0.0.0.0/0 on port 80: any source under upstream (no
    # address match at all), every address but the pods' and the nodes' under cilium.
    _, pods, upstream = tutorial("upstream")
    cluster, _, cilium = tutorial("cilium")
    assert "    meta l4proto tcp th dport 80 accept" in upstream.text
    line = next(x for x in cilium.text.splitlines() if x.endswith("th dport 80 accept"))
    set_name = line.split("@")[1].split()[0]
    block = cilium.text.split(f"set {set_name} {{")[1]
    elements = block.split("elements = {")[1].split("}")[0]
    ranges = [
        tuple(int(ipaddress.ip_address(x)) for x in (e.strip().split("-") * 2)[:2])
        for e in elements.split(",")
        if e.strip()
    ]
    taken = [(lp.pod.id, lp.ip) for lp in pods] + [(n.name, n.ips[0]) for n in cluster.nodes]
    assert len(taken) == len(pods) + 3
    for name, ip in taken:
        value = int(ipaddress.ip_address(ip))
        assert not any(lo <= value <= hi for lo, hi in ranges), name
    assert any(lo == 0 for lo, _ in ranges)
    assert any(lo <= int(ipaddress.ip_address("203.0.113.10")) <= hi for lo, hi in ranges)


V4 = st.integers(0, 2**32 - 1)
RANGES = st.lists(st.tuples(V4, V4).map(lambda t: (min(t), max(t))), max_size=6)


def members(ranges, probes):
    return {p for p in probes if any(lo <= p <= hi for lo, hi in ranges)}


@given(RANGES, RANGES, st.lists(V4, max_size=30))
def test_subtract_is_set_difference(a, b, probes):
    a_m, b_m = merge(a), merge(b)
    probes += [x for lo, hi in a_m + b_m for x in (lo, hi, max(lo - 1, 0), min(hi + 1, 2**32 - 1))]
    result = subtract(a_m, b_m)
    assert members(result, probes) == members(a_m, probes) - members(b_m, probes)
    assert list(result) == sorted(result)
    assert all(result[i][1] + 1 < result[i + 1][0] for i in range(len(result) - 1))


def test_ipblock_except_becomes_the_difference():
    net = ipaddress.ip_network("10.0.0.0/8")
    hole = ipaddress.ip_network("10.1.0.0/16")
    result = subtract(
        ((int(net.network_address), int(net.broadcast_address)),),
        ((int(hole.network_address), int(hole.broadcast_address)),),
    )
    assert [
        (str(ipaddress.ip_address(lo)), str(ipaddress.ip_address(hi))) for lo, hi in result
    ] == [
        ("10.0.0.0", "10.0.255.255"),
        ("10.2.0.0", "10.255.255.255"),
    ]
