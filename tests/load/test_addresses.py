"""Hashed addresses: handing out many at once is handing them out one by one."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.load.addresses import Allocator
from netpol.model.options import Options

from .support import build

# Tiny networks make collisions, probing around the end of the range and exhaustion
# common; the large ones are where a cluster's pods live.
NETWORKS = ["10.0.0.0/30", "10.0.0.0/29", "10.0.0.0/28", "10.244.0.0/16", "fd00::/125", "fd00::/64"]


def address_in(network: str, index: int) -> str:
    return str(ipaddress.ip_network(network)[index % ipaddress.ip_network(network).num_addresses])


@settings(max_examples=300, deadline=None)
@given(
    network=st.sampled_from(NETWORKS),
    reserved=st.lists(st.integers(0, 40), max_size=6),
    keys=st.lists(st.sampled_from([f"shop/web-{i}" for i in range(30)]), max_size=40),
    after=st.sampled_from(["shop/later", "ops/agent-1"]),
)
def test_allocate_many_equals_allocating_one_by_one(
    network: str, reserved: list[int], keys: list[str], after: str
) -> None:
    taken = [address_in(network, index) for index in reserved]
    bulk = Allocator(ipaddress.ip_network(network), taken)
    single = Allocator(ipaddress.ip_network(network), taken)
    assert bulk.allocate_many(keys) == [single.allocate(key) for key in keys]
    # and both leave the same addresses free for what comes next
    assert bulk.free == single.free
    assert bulk.allocate(after) == single.allocate(after)
    assert bulk.next_free() == single.next_free()


def test_allocate_many_probes_past_a_taken_address_and_runs_out() -> None:
    # a /30 has two usable addresses: .1 and .2; one is reserved
    allocator = Allocator(ipaddress.ip_network("10.0.0.0/30"), ["10.0.0.1"])
    first, *rest = allocator.allocate_many(["a/x", "a/y", "a/z"])
    assert first == "10.0.0.2"
    assert rest == [None, None]


@pytest.mark.parametrize("keys", [[], ["a/x"], ["a/x", "a/x"]])
def test_allocate_many_of_few_keys(keys: list[str]) -> None:
    network = ipaddress.ip_network("10.244.0.0/16")
    single = Allocator(network)
    assert Allocator(network).allocate_many(keys) == [single.allocate(key) for key in keys]


def workload_doc(kind: str, name: str, replicas: int, host_network: bool) -> str:
    spec = "{hostNetwork: true, containers: []}" if host_network else "{containers: []}"
    count = "" if kind == "DaemonSet" else f"replicas: {replicas}, "
    return (
        f"{{apiVersion: apps/v1, kind: {kind}, metadata: {{name: {name}, namespace: shop}}, "
        f"spec: {{{count}template: {{metadata: {{labels: {{app: {name}}}}}, spec: {spec}}}}}}}"
    )


def pod_doc(name: str, ip: str | None, phase: str) -> str:
    status = f"{{phase: {phase}" + (f", podIP: {ip}}}" if ip else "}")
    return (
        f"{{apiVersion: v1, kind: Pod, metadata: {{name: {name}, namespace: shop}}, "
        f"spec: {{containers: []}}, status: {status}}}"
    )


@settings(max_examples=60, deadline=None)
@given(
    cidr=st.sampled_from(["10.244.0.0/27", "10.244.0.0/26", "10.244.0.0/16"]),
    workloads=st.lists(
        st.tuples(
            st.sampled_from(["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"]),
            st.integers(0, 9),
            st.booleans(),
        ),
        max_size=5,
    ),
    pods=st.lists(
        st.tuples(st.integers(0, 70), st.sampled_from(["Running", "Pending"]), st.booleans()),
        max_size=5,
        unique_by=lambda pod: pod[0] % 32,  # no two Pods claim one address (validation refuses it)
    ),
)
def test_built_pods_get_the_addresses_one_by_one_allocation_gives(
    cidr: str,
    workloads: list[tuple[str, int, bool]],
    pods: list[tuple[int, str, bool]],
) -> None:
    """Workloads of odd sizes, hostNetwork ones, Pods whose status claims an address (maybe
    one the hash would pick), pending Pods, a pod CIDR too small for them all: every pod
    has the address that allocating one pod at a time, in pod order, hands it."""
    docs = [
        workload_doc(kind, f"w{i}", replicas, host)
        for i, (kind, replicas, host) in enumerate(workloads)
    ]
    docs += [
        pod_doc(f"p{i}", address_in(cidr, index) if has_ip else None, phase)
        for i, (index, phase, has_ip) in enumerate(pods)
    ]
    cluster = build("\n---\n".join(docs), Options(implicit_dns=False, pod_cidr=cidr))
    claimed = [ip for pod in cluster.pods for ip in pod.ips if not pod.host_network]
    claimed_by_status = {
        f"shop/p{i}": (address_in(cidr, index),)
        for i, (index, _, has_ip) in enumerate(pods)
        if has_ip
    }
    node_ips = {node.name: node.ips for node in cluster.nodes}
    reference = Allocator(
        ipaddress.ip_network(cidr),
        [ip for ips in claimed_by_status.values() for ip in ips]
        + [ip for ips in node_ips.values() for ip in ips],
    )
    starved = 0
    for pod in cluster.pods:  # in pod order, as the loader serves them
        if pod.id in claimed_by_status:
            expected = claimed_by_status[pod.id]
        elif pod.host_network:
            expected = node_ips[pod.node]
        elif pod.phase == "Pending":
            expected = ()
        else:
            ip = reference.allocate(pod.id)
            starved += ip is None
            expected = () if ip is None else (ip,)
        assert pod.ips == expected, pod.id
    assert len(set(claimed)) == len(claimed)  # no two pods share an address
    exhausted = [d for d in cluster.diagnostics if d.reason == "PodCIDRExhausted"]
    assert len(exhausted) == (1 if starved else 0)
    if starved:
        assert f"{starved:,} more need an address" in exhausted[0].message
