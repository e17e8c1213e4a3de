"""Selectors, rules, containers and Service specs are read once per distinct text (``load/memo.py``):
what is read from the memo equals what is read afresh, values that differ only in type
never share an entry, and a problem is raised again, naming its own field, every time it
is met."""

from __future__ import annotations

from typing import Any

import pytest

from netpol.load import policies
from netpol.load.fields import FieldError
from netpol.load.memo import BoundedCache, Memo
from netpol.load.policies import parse_policy, rule, selector
from netpol.load.services import _SPECS, parse_service
from netpol.load.workloads import _CONTAINERS, containers
from netpol.load.yamldoc import locate_plain
from netpol.model.source import Source

SOURCE = Source("t.yaml", 1)


def _fresh(read: Any, *args: Any) -> Any:
    """What ``read`` gives with the memos empty, and left out of them: built independently
    of whatever a later read remembers and hits."""
    policies._SELECTORS.clear()
    policies._RULES.clear()
    value = read(*args)
    policies._SELECTORS.clear()
    policies._RULES.clear()
    return value


RULES = [
    {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 80}]},
    {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "80"}]},
    {"from": [{"namespaceSelector": {}}], "ports": [{"port": 80, "protocol": "UDP"}]},
    {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]},
    {"ports": [{"port": 80, "endPort": 90}]},
    {},
]


@pytest.mark.parametrize("written", RULES)
def test_a_remembered_rule_equals_one_read_afresh(written: dict[str, Any]) -> None:
    value = locate_plain(written, 1)
    first = _fresh(rule, value, "spec.ingress[0]", "from")
    remembered = rule(locate_plain(written, 1), "spec.ingress[1]", "from")
    again = rule(locate_plain(written, 1), "spec.ingress[3]", "from")
    assert again is remembered  # a hit
    assert again == first and again is not first
    assert rule(value, "spec.egress[0]", "to") != first or not written.get("from")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"port": 1}, {"port": True}),
        ({"port": 80}, {"port": "80"}),
        ({"port": 80}, {"port": 80.0}),
        ({"port": 80, "protocol": None}, {"port": 80}),
    ],
)
def test_values_that_differ_only_in_type_do_not_share_a_rule(
    one: dict[str, Any], other: dict[str, Any]
) -> None:
    policies._RULES.clear()
    first = rule(locate_plain({"ports": [one]}, 1), "spec.ingress[0]", "from")
    try:
        second = rule(locate_plain({"ports": [other]}, 1), "spec.ingress[1]", "from")
    except FieldError as error:
        assert error.field == "spec.ingress[1].ports[0].port"
        return
    policies._RULES.clear()
    assert second == rule(locate_plain({"ports": [other]}, 1), "spec.ingress[1]", "from")
    assert second != first or one.get("protocol", "TCP") is None


def test_a_problem_is_raised_each_time_naming_its_own_field() -> None:
    bad = {"from": [{"podSelector": {"matchLabels": {"app": 5}}}]}
    policies._RULES.clear()
    fields = []
    for index in range(2):
        with pytest.raises(FieldError) as raised:
            rule(locate_plain(bad, 1), f"spec.ingress[{index}]", "from")
        fields.append(raised.value.field)
    assert fields == [
        "spec.ingress[0].from[0].podSelector.matchLabels.app",
        "spec.ingress[1].from[0].podSelector.matchLabels.app",
    ]


def test_a_remembered_selector_equals_one_read_afresh() -> None:
    written = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [{"key": "k", "operator": "Exists"}],
    }
    first = _fresh(selector, locate_plain(written, 1), "spec.podSelector")
    remembered = selector(locate_plain(written, 1), "y")
    again = selector(locate_plain(written, 1), "x")
    assert again is remembered  # a hit
    assert again == first and again is not first
    assert selector(locate_plain({"matchLabels": {"a": "1"}}, 1), "x") != first


def test_a_cyclic_value_is_read_afresh_not_remembered() -> None:
    cyclic: dict[str, Any] = {"matchLabels": {"a": "1"}}
    cyclic["matchExpressions"] = [cyclic]
    policies._SELECTORS.clear()
    read = selector(cyclic, "spec.podSelector")
    assert read is not None and read.match_labels == (("a", "1"),)
    assert policies._SELECTORS == {}


def test_policies_that_share_rules_are_built_as_if_each_were_alone() -> None:
    spec = {
        "podSelector": {},
        "ingress": RULES[:3],
        "egress": [RULES[4]],
        "policyTypes": ["Egress"],
    }
    data = locate_plain({"metadata": {"name": "p"}, "spec": spec}, 1)
    alone = _fresh(parse_policy, data, "ns", "p", SOURCE)
    for name in ("q", "r"):
        again = parse_policy(
            locate_plain({"metadata": {"name": name}, "spec": spec}, 1), "ns", name, SOURCE
        )
        assert (again.ingress, again.egress, again.pod_selector) == (
            alone.ingress,
            alone.egress,
            alone.pod_selector,
        )


CONTAINERS = [
    {
        "name": "web",
        "image": "nginx",
        "command": ["nginx"],
        "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 53, "protocol": "UDP"}],
        "env": [{"name": "A", "value": "1"}],
    }
]


def test_containers_that_differ_only_in_what_is_not_read_share_their_model() -> None:
    _CONTAINERS.clear()
    first = containers(locate_plain(CONTAINERS, 1), "spec.containers")
    other = [{**CONTAINERS[0], "env": [{"name": "B", "value": "2"}], "resources": {}}]
    assert containers(locate_plain(other, 1), "spec.template.spec.containers") is first
    _CONTAINERS.clear()
    assert containers(locate_plain(other, 1), "spec.containers") == first


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "api"), ("image", "redis"), ("command", None), ("args", ["-v"]), ("ports", [])],
)
def test_containers_that_differ_in_what_is_read_do_not_share(field: str, value: Any) -> None:
    _CONTAINERS.clear()
    first = containers(locate_plain(CONTAINERS, 1), "spec.containers")
    changed = [{**CONTAINERS[0], field: value}]
    assert containers(locate_plain(changed, 1), "spec.containers") != first


def test_a_container_problem_is_raised_each_time_naming_its_own_field() -> None:
    bad = [{"name": "web", "ports": [{"containerPort": "80"}]}]
    _CONTAINERS.clear()
    containers(locate_plain([{"name": "web", "ports": [{"containerPort": 80}]}], 1), "a")
    fields = []
    for field in ("spec.containers", "spec.template.spec.containers"):
        with pytest.raises(FieldError) as raised:
            containers(locate_plain(bad, 1), field)
        fields.append(raised.value.field)
    assert fields == [
        "spec.containers[0].ports[0].containerPort",
        "spec.template.spec.containers[0].ports[0].containerPort",
    ]


def test_a_value_repr_cannot_print_is_read_afresh() -> None:
    huge = 10**5000  # beyond the digits str() converts
    policies._RULES.clear()
    with pytest.raises(FieldError) as raised:
        rule(locate_plain({"ports": [{"port": [huge]}]}, 1), "spec.ingress[0]", "from")
    assert raised.value.field == "spec.ingress[0].ports[0].port"
    assert policies._RULES == {}


def test_a_long_part_is_read_but_not_kept() -> None:
    long_rule = {"from": [{"podSelector": {"matchLabels": {f"k{i}": "v" for i in range(400)}}}]}
    policies._RULES.clear()
    first = rule(locate_plain(long_rule, 1), "spec.ingress[0]", "from")
    assert policies._RULES == {}
    assert rule(locate_plain(long_rule, 1), "spec.ingress[1]", "from") == first


def test_a_bounded_cache_never_holds_more_than_its_limit() -> None:
    cache: BoundedCache[int, str] = BoundedCache(3)
    sizes = []
    for key in range(10):
        assert cache.keep(key, str(key)) == str(key)
        sizes.append(len(cache))
    assert sizes == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1]  # full, one more starts it over
    assert cache == {9: "9"}


def test_a_memo_is_bounded_and_keeps_no_none_key() -> None:
    memo: Memo[str] = Memo(limit=2)
    reads: list[str] = []

    def read(text: str) -> str:
        reads.append(text)
        return text.upper()

    for key in ("a", "b", "a", "c", "a"):
        assert memo.read(key, read, key) == key.upper()
    assert reads == ["a", "b", "c", "a"]  # "a" remembered until "c" found the memo full
    assert len(memo) <= 2
    assert memo.read(None, read, "d") == "D" and None not in memo


SERVICE_SPECS = [
    {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http", "name": "h"}]},
    {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "8080"}]},
    {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": ""}]},
    {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
    {"clusterIPs": ["10.96.3.4"], "type": "NodePort", "ports": [{"port": 53, "nodePort": 30053}]},
    {"type": "ExternalName", "externalName": "example.com"},
    {"selector": None, "ports": [{"port": 80, "protocol": "UDP"}]},
    {},
]


@pytest.mark.parametrize("spec", SERVICE_SPECS)
def test_a_remembered_service_spec_equals_one_read_afresh_under_its_own_name(
    spec: dict[str, Any],
) -> None:
    _SPECS.clear()
    first = parse_service(locate_plain({"spec": spec}, 1), "shop", "web", SOURCE)
    other_source = Source("u.yaml", 9)
    again = parse_service(locate_plain({"spec": spec}, 1), "ops", "api", other_source)
    assert len(_SPECS) == 1
    _SPECS.clear()
    assert again == parse_service(locate_plain({"spec": spec}, 1), "ops", "api", other_source)
    assert (again.namespace, again.name, again.source) == ("ops", "api", other_source)
    assert (again.type, again.selector, again.cluster_ip, again.ports) == (
        first.type,
        first.selector,
        first.cluster_ip,
        first.ports,
    )


def test_service_specs_that_differ_only_in_type_do_not_share() -> None:
    _SPECS.clear()
    number, text = (
        parse_service(locate_plain({"spec": spec}, 1), "shop", "web", SOURCE)
        for spec in SERVICE_SPECS[1:3]
    )
    assert number.ports[0].target_port == 8080
    assert text.ports[0].target_port == "8080"


def test_a_service_spec_problem_is_raised_each_time() -> None:
    bad = {"ports": [{"port": "80"}]}
    _SPECS.clear()
    for _ in range(2):
        with pytest.raises(FieldError) as raised:
            parse_service(locate_plain({"spec": bad}, 1), "shop", "web", SOURCE)
        assert (raised.value.field, raised.value.message) == (
            "spec.ports[0].port",
            "must be an integer, not a string",
        )
    assert len(_SPECS) == 0
