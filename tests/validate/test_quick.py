"""The fast path of validation (``validate/quick.py``) only ever says "nothing to report".

Law: an object it calls clean has no diagnostic on the full path, for objects drawn from
valid ones of every kind it covers by replacing, deleting and adding fields (the near
misses the full path reports), read as YAML and as an item of a JSON List (whose lists
are plain until located). And it does call the common valid objects clean, or it would
save nothing. A bad object is declined and gets the full path's message and line: the
table at the end pins some of every kind it covers (and generateName, which it always
declines).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol.load.yamldoc import LocatedMap, RawDocument, locate_plain, parse_text, settle
from netpol.model.diagnostics import Diagnostic
from netpol.validate import quick
from netpol.validate.documents import known_kind
from netpol.validate.metadata import object_id
from netpol.validate.report import Report

from .support import diagnostics


def _meta(name: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "shop", **more}


POD_SPEC = {
    "containers": [
        {
            "name": "web",
            "image": "nginx:1.25",
            "command": ["python3", "-m", "http.server", "8080"],
            "ports": [
                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                {"containerPort": 9090, "hostPort": 0},
            ],
        }
    ],
    "initContainers": [{"name": "init", "image": "busybox", "args": ["echo", "hi"]}],
    "hostNetwork": False,
    "nodeName": "node-1",
}
TEMPLATE = {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": POD_SPEC}
SELECTOR = {
    "matchLabels": {"app": "web"},
    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}],
}

VALID: list[dict[str, Any]] = [
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta("web", labels={"team": "a"}, annotations={"example.com/note": "x"}),
        "spec": {
            "podSelector": SELECTOR,
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"env": "prod"}}},
                        {"podSelector": {}, "namespaceSelector": {}},
                        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                    ],
                    "ports": [
                        {"port": 80, "endPort": 90, "protocol": "TCP"},
                        {"port": "http"},
                        {"protocol": "UDP"},
                    ],
                },
                None,
            ],
            "egress": [
                {
                    "to": [
                        {
                            "podSelector": {
                                "matchExpressions": [{"key": "app", "operator": "Exists"}]
                            }
                        }
                    ]
                },
                {},
            ],
        },
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta("deny-all"),
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("web"),
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.96.5.7",
            "clusterIPs": ["10.96.5.7"],
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080},
                {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
            ],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("headless"),
        "spec": {"clusterIP": "None", "selector": {"app": "db"}},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("outside"),
        "spec": {"type": "ExternalName", "externalName": "example.com"},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("web", labels={"app": "web"}),
        "spec": {"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta("db"),
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "web"}},
            "template": TEMPLATE,
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta("agent"),
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
    },
    {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta("once"),
        "spec": {
            "parallelism": 2,
            "template": {"spec": {**POD_SPEC, "restartPolicy": "Never"}},
        },
    },
    {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta("nightly"),
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {
                "spec": {"template": {"spec": {**POD_SPEC, "restartPolicy": "OnFailure"}}}
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta("web-0", labels={"app": "web"}),
        "spec": POD_SPEC,
        "status": {
            "podIP": "10.244.1.5",
            "hostIP": "172.18.0.2",
            "podIPs": [{"ip": "10.244.1.5"}, {"ip": "fd00::5"}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"team": "a", "empty": None}},
    },
]

# the values a field is replaced with: well-formed ones of every type, and near misses of
# the rules the fast path judges (names, labels, ports, addresses, enumerations)
ODD_VALUES = [
    None, True, False, 0, 1, -1, 80, 65535, 65536, 30000, 32768, 2**31, 1.5, "", "x", "web",
    "http", "Bad_Name", "-a", "a" * 62, "a" * 64, "a" * 70, "ab-", "1a", "x.y", "é", "a--b", "80", "TCP", "tcp", "UDP", "Ingress", "In", "Exists",
    "None", "NodePort", "ClusterIP", "10.0.0.1", "10.0.0.1/8", "010.0.0.0/8", "127.0.0.1",
    "0.0.0.0", "::ffff:1.2.3.4", "fd00::5", "fe80::1", "224.0.0.1", "2001:DB8::/64", "Never",
    "OnFailure", "Always", "NotIn", "DoesNotExist", "ExternalName", "LoadBalancer", "SCTP", "example.com/x", "a/b/c", "python3", "99999",
    [], [None], ["x"], [1], [{}], ["Ingress", "Egress", "Ingress"],
    ["python3", "-m", "http.server", "x"], {}, {"app": "web"}, {"": "v"},
    {"app": "web", "tier": "x"}, {"app": 5}, {"bogus": 1}, {"a/b/c": "v"},
    {"matchLabels": {}}, {"key": "k", "operator": "In"}, {"name": "web"},
]  # fmt: skip
NEW_KEYS = ["bogus", "ports", "from", "to", "matchLabels", "name", "hostPort", "endPort"]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _mutated(data: st.DataObject) -> dict[str, Any]:
    obj = copy.deepcopy(data.draw(st.sampled_from(VALID)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(obj)[1:]))
        parent = obj
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "add", "copy"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(NEW_KEYS))] = copy.deepcopy(
                data.draw(st.sampled_from(ODD_VALUES))
            )
        elif action == "copy" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))  # a duplicate item
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES)))
    return obj


def _full(doc: RawDocument, data: LocatedMap) -> list[Diagnostic] | None:
    """The full path's diagnostics (as ``documents._validate_object`` runs it past the
    fast path); None for an object the fast path is not asked about."""
    kind, api_version = data.get("kind"), data.get("apiVersion")
    spec = known_kind(kind, api_version)
    metadata = data.get("metadata")
    if spec is None or api_version != spec.api_version or spec.is_clean is None:
        return None
    if metadata is not None and not isinstance(metadata, LocatedMap):
        return None
    assert isinstance(kind, str)
    r = Report(doc, data, object_id(kind, metadata, spec.namespaced))
    spec.validate(r, data, metadata)
    return r.diagnostics


def _is_clean(data: LocatedMap) -> bool:
    spec = known_kind(data.get("kind"), data.get("apiVersion"))
    assert spec is not None and spec.is_clean is not None
    return spec.is_clean(data, data.get("metadata"))


def _yaml_doc(obj: dict[str, Any]) -> RawDocument:
    docs, problems = parse_text(yaml.safe_dump(obj, sort_keys=False), "t.yaml")
    assert problems == [] and len(docs) == 1
    return docs[0]


def _list_item(obj: dict[str, Any]) -> tuple[RawDocument, LocatedMap]:
    """``obj`` as the item of a JSON List, not yet located (``jsondoc``)."""
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [obj]}, indent=1)
    docs, problems = parse_text(text, "t.json")
    assert problems == [] and len(docs) == 1
    item = docs[0].data["items"][0]
    assert isinstance(item, LocatedMap)
    return docs[0], item


@pytest.mark.parametrize("obj", VALID, ids=lambda obj: f"{obj['kind']}/{obj['metadata']['name']}")
def test_a_valid_object_is_clean_and_has_no_diagnostic(obj: dict[str, Any]) -> None:
    doc = _yaml_doc(obj)
    assert _full(doc, doc.data) == []
    assert _is_clean(doc.data)
    _, item = _list_item(obj)
    assert item.pending is not None and _is_clean(item)


def _single_mutations(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Every copy of ``obj`` with one field replaced by each odd value, deleted, or given
    a new key: each near miss at each place."""
    out = []
    for path in _paths(obj)[1:]:
        values: list[Any] = [*ODD_VALUES, "delete"]
        for value in values:
            changed = copy.deepcopy(obj)
            parent: Any = changed
            for step in path[:-1]:
                parent = parent[step]
            if value == "delete":
                if isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    parent.append(copy.deepcopy(parent[path[-1]]))  # a duplicate item
            else:
                parent[path[-1]] = copy.deepcopy(value)
            out.append(changed)
        node: Any = obj
        for step in path:
            node = node[step]
        if isinstance(node, dict):
            for key in NEW_KEYS:
                changed = copy.deepcopy(obj)
                target: Any = changed
                for step in path:
                    target = target[step]
                target[key] = "x"
                out.append(changed)
    return out


@pytest.mark.parametrize("obj", VALID, ids=lambda obj: f"{obj['kind']}/{obj['metadata']['name']}")
def test_no_single_near_miss_is_called_clean(obj: dict[str, Any]) -> None:
    """Exhaustive over one change (lines do not matter here: ``locate_plain``)."""
    doc_of = RawDocument("t.yaml", 1, LocatedMap())
    missed = []
    for changed in _single_mutations(obj):
        data = locate_plain(changed, 1)
        doc = RawDocument(doc_of.path, 1, data)
        full = _full(doc, data)
        if full and _is_clean(data):
            missed.append(full[0].one_line())
    assert missed == []


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_what_the_fast_path_calls_clean_the_full_path_finds_nothing_in(
    data: st.DataObject,
) -> None:
    obj = _mutated(data)
    doc = _yaml_doc(obj)
    full = _full(doc, doc.data)
    if full is not None and _is_clean(doc.data):
        assert full == [], [d.one_line() for d in full]
    list_doc, item = _list_item(obj)
    if _full(list_doc, item) is not None and _is_clean(item):
        settle(item)
        located = _full(list_doc, item)
        assert located == [], [d.one_line() for d in located or []]


def _with(obj: dict[str, Any], path: str, value: Any) -> str:
    """``obj`` as YAML with the field at dotted ``path`` set to ``value``."""
    changed = copy.deepcopy(obj)
    *parents, last = [int(step) if step.isdigit() else step for step in path.split(".")]
    node: Any = changed
    for step in parents:
        node = node[step]
    node[last] = value
    return yaml.safe_dump(changed, sort_keys=False)


POLICY, SERVICE, DEPLOYMENT, POD = VALID[0], VALID[2], VALID[5], VALID[10]
STATEFULSET, JOB, CRONJOB, NAMESPACE = VALID[6], VALID[8], VALID[9], VALID[11]
LONG_CRONJOB, LONG_STATEFULSET = "n" * 53, "d" * 62

# (object, field set, value) -> the full path's message, unchanged by the fast path
DECLINED = [
    (
        POLICY,
        "metadata.labels",
        {"team": "a b"},
        "t.yaml:7: error: NetworkPolicy/shop/web: metadata.labels: a valid label must be an "
        "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
        "and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', "
        "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?') "
        '(value: "a b")',
    ),
    (
        POLICY,
        "spec.ingress.0.ports.0.endPort",
        70,
        "t.yaml:36: error: NetworkPolicy/shop/web: spec.ingress[0].ports[0].endPort: must be "
        "greater than or equal to `port` (value: 70)",
    ),
    (
        POLICY,
        "spec.ingress.0.from.2.ipBlock.cidr",
        "10.0.0.1/8",
        "t.yaml:31: warning: NetworkPolicy/shop/web: spec.ingress[0].from[2].ipBlock.cidr: "
        "must not have bits set beyond the prefix length (rejected when the "
        "StrictIPCIDRValidation feature gate is on; read as 10.0.0.0/8) "
        '(value: "10.0.0.1/8")',
    ),
    (
        POLICY,
        "spec.policyTypes.1",
        "egress",
        "t.yaml:22: error: NetworkPolicy/shop/web: spec.policyTypes[1]: supported values: "
        '"Ingress", "Egress" (value: "egress")',
    ),
    (
        SERVICE,
        "spec.ports.1.nodePort",
        30080,
        "t.yaml:22: error: Service/shop/web: spec.ports[1].nodePort: Duplicate value "
        "(value: 30080)",
    ),
    (
        SERVICE,
        "spec.ports.0.targetPort",
        "-http",
        "t.yaml:16: error: Service/shop/web: spec.ports[0].targetPort: must not begin or end "
        'with a hyphen (value: "-http")',
    ),
    (
        DEPLOYMENT,
        "spec.template.metadata.labels",
        {"app": "api", "tier": "front"},
        "t.yaml:21: error: Deployment/shop/web: spec.template.metadata.labels: `selector` does "
        "not match template `labels` (value: {'app': 'api', 'tier': 'front'})",
    ),
    (
        DEPLOYMENT,
        "spec.template.spec.containers.0.command.3",
        "80a",
        "t.yaml:32: warning: Deployment/shop/web: spec.template.spec.containers[0].command[3]: "
        "python3 -m http.server would not start (argument port: invalid int value: '80a'); "
        'the lab does not run it and listens on the declared ports instead (value: "80a")',
    ),
    (
        POD,
        "spec.containers.0.ports.1.hostPort",
        True,
        "t.yaml:22: error: Pod/shop/web-0: spec.containers[0].ports[1].hostPort: must be an "
        "integer, not a boolean (value: true)",
    ),
    (
        POD,
        "status.podIP",
        "127.0.0.1",
        "t.yaml:32: error: Pod/shop/web-0: status.podIP: may not be in the loopback range "
        '(127.0.0.0/8, ::1/128) (value: "127.0.0.1")',
    ),
    (
        POD,
        "metadata.generateName",
        "Web-",
        "t.yaml:8: error: Pod/shop/web-0: metadata.generateName: a lowercase RFC 1123 subdomain "
        "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
        "with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*') (value: \"Web-\")",
    ),
    (
        STATEFULSET,
        "spec.serviceName",
        5,
        "t.yaml:8: error: StatefulSet/shop/db: spec.serviceName: must be a string, not an "
        "integer (value: 5)",
    ),
    (
        STATEFULSET,
        "metadata.name",
        LONG_STATEFULSET,
        f"t.yaml:4: warning: StatefulSet/shop/{LONG_STATEFULSET}: metadata.name: 62 characters: "
        f'the controller cannot create its pods (pod name "{"d" * 20}...-0" is longer than 63 '
        "characters, and a pod's hostname must be a DNS label); netpol models them anyway "
        f'(value: "{"d" * 59}...(64 bytes))',
    ),
    (
        JOB,
        "spec.parallelism",
        -1,
        "t.yaml:7: error: Job/shop/once: spec.parallelism: must be greater than or equal to 0 "
        "(value: -1)",
    ),
    (
        JOB,
        "spec.template.spec.restartPolicy",
        "Always",
        "t.yaml:32: error: Job/shop/once: spec.template.spec.restartPolicy: supported values: "
        '"OnFailure", "Never" (value: "Always")',
    ),
    (
        CRONJOB,
        "metadata.name",
        LONG_CRONJOB,
        f"t.yaml:4: error: CronJob/shop/{LONG_CRONJOB}: metadata.name: must be no more than 52 "
        f'characters (value: "{LONG_CRONJOB}")',
    ),
    (
        CRONJOB,
        "spec.schedule",
        "",
        "t.yaml:7: error: CronJob/shop/nightly: spec.schedule: Required value",
    ),
    (
        NAMESPACE,
        "metadata.name",
        "Shop",
        "t.yaml:4: error: Namespace/Shop: metadata.name: a lowercase RFC 1123 label must consist "
        "of lower case alphanumeric characters or '-', and must start and end with an "
        "alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?') (value: \"Shop\")",
    ),
]


@pytest.mark.parametrize(("obj", "path", "value", "message"), DECLINED)
def test_a_bad_object_gets_the_full_paths_message(
    obj: dict[str, Any], path: str, value: Any, message: str
) -> None:
    text = _with(obj, path, value)
    doc = _yaml_doc(yaml.safe_load(text))
    assert not _is_clean(doc.data)
    assert [d.one_line() for d in diagnostics(text)] == [message]


def test_a_text_longer_than_any_name_is_judged_but_not_kept() -> None:
    long_value = "a" * 300
    assert not quick._LABEL_VALUE[long_value]  # too long for a label value
    assert long_value not in quick._LABEL_VALUE
    assert quick._LABEL_VALUE["web"] and "web" in quick._LABEL_VALUE
