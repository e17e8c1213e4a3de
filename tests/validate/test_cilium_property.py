"""For random Cilium policies drawn from a grammar of plausible but odd ones: validate never
raises, and what it passes without an error the loader builds without an error (the
loader must never crash on what validation lets through). Derandomized: cannot flake."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol.load.build import build_cluster
from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Severity
from netpol.model.options import Options
from netpol.validate import validate_document

# (the usual values, the odd ones): a value is odd one time in sixteen, so that many
# policies stay valid and reach the loader while every odd value is tried (the odd branch
# is the largest integer: hypothesis leans to small ones)
LABEL_KEYS = (["app", "k8s:app", "any:role", "$host"], ["a:b:c", "", "k8s-x:y"])
LABEL_VALUES = (["web", "", "db"], ["a b", "x" * 64, 2, True, None])
OPERATORS = (["Exists", "DoesNotExist"], ["In", "in", None])  # without values
ENTITIES = (["world", "cluster", "host", "remote-node", "all"], ["world-ipv4", "World", 7])
CIDRS = (
    ["10.0.0.0/8", "10.0.0.1/8", "fd00::/8", "::ffff:10.0.0.0/104"],
    ["010.0.0.0/8", "10.0.0.0/08", "192.0.2.1", "", "x", None],
)
PORTS = (
    ["80", "0", "53", "http", "HTTP", "1_000", "0x10"],
    ["010", "08", "70000", "-http", "", 80, None],
)
PROTOCOLS = ([None, "TCP", "UDP", "SCTP", "ANY"], ["tcp", "ICMP", "VRRP", 6])
END_PORTS = ([None, 0, 90, 70], [70000, -1, "x"])
FQDNS = (["example.com", "*.example.com"], ["a..b", "", None])
ICMP_TYPES = ([8, 0, "8", "EchoRequest"], ["PacketTooBig", "Ping", 256, None])
FAMILIES = ([None, "IPv4"], ["IPv6", "ipv4"])


def _mostly(values: tuple[list[Any], list[Any]]) -> st.SearchStrategy[Any]:
    usual, odd = values
    return st.integers(0, 15).flatmap(lambda i: st.sampled_from(odd if i == 15 else usual))


def _rarely(strategy: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """``strategy``'s fields one time in eight, else none."""
    return st.integers(0, 7).flatmap(lambda i: strategy if i == 7 else st.just({}))


def _field(key: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return strategy.map(lambda value: {key: value})


def _merge(*parts: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(*parts).map(lambda dicts: {k: v for d in dicts for k, v in d.items()})


REQUIREMENT = st.one_of(
    _merge(
        _field("key", _mostly(LABEL_KEYS)),
        _field("operator", st.sampled_from(["In", "NotIn"])),
        _field("values", st.lists(_mostly(LABEL_VALUES), min_size=1, max_size=2)),
    ),
    _merge(_field("key", _mostly(LABEL_KEYS)), _field("operator", _mostly(OPERATORS))),
)
SELECTOR = st.one_of(
    st.just({}),
    _field("matchLabels", st.dictionaries(_mostly(LABEL_KEYS), _mostly(LABEL_VALUES), max_size=2)),
    _field("matchExpressions", st.lists(REQUIREMENT, max_size=2)),
)
FQDN = st.one_of(_field("matchName", _mostly(FQDNS)), _field("matchPattern", _mostly(FQDNS)))
CIDR_RULE = _merge(
    st.one_of(
        _field("cidr", _mostly(CIDRS)),
        _field("cidrGroupRef", _mostly((["group"], ["My_Group", None]))),
        _field("cidrGroupSelector", SELECTOR),
    ),
    _rarely(_field("except", st.lists(_mostly(CIDRS), max_size=2))),
)
PORT = _merge(
    _field("port", _mostly(PORTS)),
    _field("protocol", _mostly(PROTOCOLS)),
    _field("endPort", _mostly(END_PORTS)),
)
L7 = st.one_of(
    st.just({"http": [{"method": "GET"}]}),
    _field("dns", st.lists(FQDN, max_size=1)),
    st.just({"kafka": [{"topic": "t"}]}),
)
PORT_RULE = _merge(
    _field("ports", st.lists(PORT, max_size=2)),
    _rarely(_field("rules", L7)),
    _rarely(_field("serverNames", st.lists(_mostly((["a.com"], [""])), max_size=1))),
)
ICMP_FIELD = _merge(_field("family", _mostly(FAMILIES)), _field("type", _mostly(ICMP_TYPES)))
ICMPS = st.lists(st.fixed_dictionaries({"fields": st.lists(ICMP_FIELD, max_size=2)}), max_size=1)


def _peers(side: str) -> list[st.SearchStrategy[dict[str, Any]]]:
    peers = [
        _field(f"{side}Endpoints", st.lists(SELECTOR, max_size=2)),
        _field(f"{side}Entities", st.lists(_mostly(ENTITIES), max_size=2)),
        _field(f"{side}CIDR", st.lists(_mostly(CIDRS), max_size=2)),
        _field(f"{side}CIDRSet", st.lists(CIDR_RULE, max_size=2)),
    ]
    if side == "to":
        peers.append(_field("toFQDNs", st.lists(FQDN, max_size=2)))
        peers.append(_field("toServices", st.just([{"k8sService": {"serviceName": "s"}}])))
    return peers


def _item(side: str) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly one kind of peer and either ports or ICMP types; rarely what the agent refuses
    (two kinds of peer, both kinds of port, nodes, requirements)."""
    peers = _peers(side)
    return _merge(
        st.one_of(st.just({}), *peers),
        _rarely(st.one_of(*peers)),
        st.one_of(
            st.just({}), _field("toPorts", st.lists(PORT_RULE, max_size=2)), _field("icmps", ICMPS)
        ),
        _rarely(_field("icmps", ICMPS)),
        _rarely(_field(f"{side}Nodes", st.lists(SELECTOR, max_size=1))),
        _rarely(_field(f"{side}Requires", st.lists(SELECTOR, max_size=1))),
        _rarely(_field("authentication", _mostly(([{"mode": "required"}], [{"mode": "x"}])))),
    )


RULE = _merge(
    st.integers(0, 15).flatmap(
        lambda i: (
            _field("nodeSelector", SELECTOR) if i == 15 else _field("endpointSelector", SELECTOR)
        )
    ),
    _field("ingress", st.lists(_item("from"), min_size=1, max_size=2)),
    _rarely(_field("ingressDeny", st.lists(_item("from"), max_size=1))),
    _field("egress", st.lists(_item("to"), max_size=2)),
    _rarely(_field("egressDeny", st.lists(_item("to"), max_size=1))),
    _rarely(
        _field(
            "enableDefaultDeny",
            _mostly(([{"ingress": False}, {"egress": True}], [{"ingress": "no"}])),
        )
    ),
)
POLICY = st.tuples(
    st.sampled_from(["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"]),
    st.one_of(_field("spec", RULE), _field("specs", st.lists(RULE, max_size=2))),
)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(POLICY)
def test_what_validate_passes_the_loader_builds(policy: tuple[str, dict[str, Any]]) -> None:
    kind, body = policy
    metadata = {"name": "p", "namespace": "ns"} if kind == "CiliumNetworkPolicy" else {"name": "p"}
    document = {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": metadata, **body}
    docs, problems = parse_text(yaml.safe_dump(document), "t.yaml")
    assert problems == []
    errors = [d for d in validate_document(docs[0]) if d.severity is Severity.ERROR]
    if errors:
        return
    cluster = build_cluster(docs, Options(implicit_dns=False))
    assert [d.one_line() for d in cluster.diagnostics if d.severity is Severity.ERROR] == []
    (built,) = cluster.cilium_policies
    assert len(built.rules) == (1 if "spec" in body else len(body["specs"]))
