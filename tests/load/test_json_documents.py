"""JSON is read by the JSON decoder (load/jsondoc.py), yet loads as the YAML reader read it:
the same values and the same line for every mapping, key and list item; and whatever is not
plain valid JSON still gets the YAML reader's message on its line."""

from __future__ import annotations

import json
import os
import sys
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.load.support import located_shape, snapshot

from netpol.load import jsondoc
from netpol.load.yamldoc import (
    LocatedMap,
    locate,
    parse_text,
    read_with_pyyaml,
    settle,
)
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import synth


def _as_yaml(text: str, path: str) -> tuple[list[Any], list[str]]:
    """``text`` read by the YAML reader alone (as every JSON text was before jsondoc)."""
    docs, problems = read_with_pyyaml(text, path)
    return docs, [p.one_line() for p in problems]


# Strings with what JSON must escape (quotes, backslashes, control characters), non-ASCII
# text and the characters the walk looks for (":", ",", brackets, quotes before a colon).
_TEXT = st.text(alphabet=st.sampled_from(list('ab:,{}[]"\\/ \t\n\x01é中\r\x85\u2028')), max_size=8)
_SCALARS = (
    _TEXT
    | st.integers(-(2**40), 2**40)
    | st.sampled_from([0.5, -2.25, 1e-3])
    | st.booleans()
    | st.none()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(_TEXT, _VALUES, max_size=5),
    indent=st.sampled_from([None, 0, 1, 2, "\t"]),
    ascii_only=st.booleans(),
    compact=st.booleans(),
    before=st.sampled_from(["", "\n", "  \n\n "]),
)
def test_json_reads_as_the_yaml_reader_reads_it_lines_included(
    data: dict[str, Any], indent: Any, ascii_only: bool, compact: bool, before: str
) -> None:
    separators = (",", ":") if compact else None
    text = before + json.dumps(data, indent=indent, ensure_ascii=ascii_only, separators=separators)
    fast = jsondoc.parse_json(text, "x.json")
    if fast is None:  # a line break YAML knows and JSON does not: the YAML reader's lines
        assert any(c in text for c in "\r\x85\u2028") and not ascii_only
        return
    slow, problems = _as_yaml(text, "x.json")
    assert problems == []
    assert [d.line for d in fast] == [d.line for d in slow]
    assert located_shape(fast[0].data) == located_shape(slow[0].data)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(st.dictionaries(_TEXT, _VALUES, max_size=4) | _VALUES, max_size=5),
    first=st.sampled_from(["apiVersion", "kind", "items", "metadata"]),
    indent=st.sampled_from([None, 1, 2]),
    compact=st.booleans(),
)
def test_a_list_whose_items_are_located_later_has_the_yaml_readers_lines(
    items: list[Any], first: str, indent: Any, compact: bool
) -> None:
    # a large kubectl dump: each item is decoded with its own line, and what it holds is
    # located only when asked (yamldoc.settle); asked everywhere, the lines are the same
    document = {first: None, "apiVersion": "v1", "kind": "List", "items": items, "metadata": {}}
    separators = (",", ":") if compact else None
    text = json.dumps(document, indent=indent, ensure_ascii=True, separators=separators)
    fast = jsondoc.parse_json(text, "x.json")
    assert fast is not None
    located = fast[0].data["items"]
    maps = [item for item in located if isinstance(item, LocatedMap)]
    assert all(item.pending is not None for item in maps)
    for item in maps:
        assert settle(item)
    slow, problems = _as_yaml(text, "x.json")
    assert problems == []
    assert located_shape(fast[0].data) == located_shape(slow[0].data)


@settings(max_examples=150, deadline=None)
@given(
    data=st.dictionaries(_TEXT, _VALUES, max_size=4),
    first=st.sampled_from(["apiVersion", "kind", "metadata"]),
    indent=st.sampled_from([None, 1, 2]),
)
def test_a_single_object_that_opens_as_a_list_does_is_located_whole_once(
    data: dict[str, Any], first: str, indent: Any
) -> None:
    # the List reader reads it (its first key is a List's) and locates every value now
    document = {first: "v1", **{k: v for k, v in data.items() if k != "items"}}
    text = json.dumps(document, indent=indent, ensure_ascii=True)
    fast = jsondoc.parse_json(text, "x.json")
    assert fast is not None
    slow, problems = _as_yaml(text, "x.json")
    assert problems == []
    assert located_shape(fast[0].data) == located_shape(slow[0].data)


def test_a_line_asked_inside_a_list_item_locates_that_item_only() -> None:
    text = (
        '{"apiVersion": "v1", "kind": "List", "items": [\n'
        '{"kind": "Pod", "spec": {"containers": [\n{"name": "a"}]}},\n'
        '{"kind": "Pod", "spec": {"containers": [\n{"name": "b"},\n{"name": "c"}]}}\n]}'
    )
    fast = jsondoc.parse_json(text, "x.json")
    assert fast is not None
    first, second = fast[0].data["items"]
    assert (first.line, second.line) == (2, 4)
    assert locate(fast[0].data, "items[1].spec.containers[1].name") == 6
    assert second.pending is None and first.pending is not None
    assert locate(first, "spec.containers[0]") == 3


def test_a_list_with_one_character_cut_or_doubled_is_read_as_json_reads_it_or_handed_back() -> None:
    # every damage to the hand-written List path: it decodes what JSON decodes, the same
    # values, and hands anything else back to the YAML reader (None), never a traceback
    text = (
        '{"apiVersion": "v1", "kind": "List", "metadata": {"x": [1]},\n"items": [\n'
        '{"kind": "Pod", "metadata": {"name": "a", "labels": {"k": "v"}}},\n'
        '[1, {"b": null}], 7, {"kind": "Service", "spec": {"ports": [{"port": 80}]}}\n]}\n'
    )
    for i in range(len(text)):
        for damaged in (text[:i] + text[i + 1 :], text[: i + 1] + text[i:]):
            try:
                expected = json.loads(damaged)
            except ValueError:
                expected = None
            fast = jsondoc.parse_json(damaged, "x.json")
            if fast is None:
                continue
            assert expected is not None, damaged
            assert fast[0].data == expected


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_crlf_lines_are_counted_as_the_yaml_reader_counts_them(newline: str) -> None:
    text = '{\n "a": [\n  1,\n  {"b": "x"}\n ],\n "c": {}\n}\n'.replace("\n", newline)
    fast = jsondoc.parse_json(text, "x.json")
    assert fast is not None
    assert located_shape(fast[0].data) == located_shape(_as_yaml(text, "x.json")[0][0].data)
    assert fast[0].data.key_lines == {"a": 2, "c": 6}
    assert fast[0].data["a"].item_lines == [3, 4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # syntax errors, extra documents, numbers beyond a float, deep nesting: the YAML
        # reader's message and line
        ('{\n "a": 1,\n "b": [1,\n 2,,]\n}', "x.json:4: error: invalid JSON: Expecting value"),
        ('{\n "a": 1\n}\n{"b": 2}', "x.json:4: error: invalid JSON: Extra data"),
        ('[{"a": 1}]', "x.json:1: error: document 1 is a list, not a mapping"),
        (
            "{" * 201 + "}" * 201,
            "x.json:1: error: document nested deeper than 200 levels",
        ),
        (
            '{\n "a":\n' + "[" * 250 + "]" * 250 + "\n}",
            "x.json:3: error: document nested deeper than 200 levels",
        ),
    ],
)
def test_json_that_is_not_plain_keeps_the_yaml_readers_message(text: str, message: str) -> None:
    assert jsondoc.parse_json(text, "x.json") is None
    docs, problems = parse_text(text, "x.json")
    assert [p.one_line() for p in problems] == [message]
    assert (docs, [p.one_line() for p in problems]) == (
        _as_yaml(text, "x.json")[0],
        _as_yaml(text, "x.json")[1],
    )


def test_duplicate_keys_in_a_json_file_are_read_as_before_the_last_one_wins() -> None:
    # Go's JSON decoder keeps the last; kubectl reads text that opens with "{" as JSON
    # whatever the file is called, so a .yaml file of JSON does the same
    text = '{\n "a": 1,\n "b": {\n  "c": 1,\n  "c": 2\n }\n}'
    assert jsondoc.parse_json(text, "x.json") is None
    for name in ("x.json", "x.yaml"):
        docs, problems = parse_text(text, name)
        assert problems == []
        assert docs[0].data == {"a": 1, "b": {"c": 2}}


_POD_LIST = """{
 "apiVersion": "v1",
 "kind": "List",
 "items": [
  {
   "apiVersion": "v1",
   "kind": "Pod",
   "metadata": {"name": "ok", "namespace": "default"},
   "spec": {"containers": [{"name": "c", "image": "i"}]}
  },
  {
   "apiVersion": "v1",
   "kind": "Pod",
   "metadata": {
    "name": "bad",
    "namespace": "default",
    "labels": {"app": 7}
   },
   "spec": {"containers": [{"name": "c", "image": "i"}]}
  },
  {
   "apiVersion": "networking.k8s.io/v1",
   "kind": "NetworkPolicy",
   "metadata": {"name": "typo", "namespace": "default"},
   "spec": {"podSelector": {},
    "policyTypes": ["Ingress",
     "Egres"], "ingres": []}
  }
 ]
}
"""


def test_errors_inside_a_json_list_name_the_line_of_the_field(tmp_path: Any) -> None:
    path = tmp_path / "pods.json"
    path.write_text(_POD_LIST)
    result = load_cluster([str(path)], Options())
    errors = [d.one_line().replace(str(tmp_path), "DIR") for d in result.errors]
    assert errors == [
        'DIR/pods.json:17: error: Pod/default/bad: metadata.labels: label "app" must be a '
        'string, not an integer: quote it (app: "7") (value: 7)',
        "DIR/pods.json:27: error: NetworkPolicy/default/typo: spec.ingres: unknown field "
        '"ingres" (did you mean "ingress"?)',
        "DIR/pods.json:27: error: NetworkPolicy/default/typo: spec.policyTypes[1]: supported "
        'values: "Ingress", "Egress" (value: "Egres")',
    ]


def test_a_cluster_as_a_json_list_is_the_cluster_of_its_yaml_files(tmp_path: Any) -> None:
    cluster_dir = tmp_path / "yaml"
    synth.write(str(cluster_dir), 300, 7)
    options = Options(pod_cidr=synth.pod_cidr(300))
    from_yaml = load_cluster([str(cluster_dir)], options)
    assert from_yaml.ok
    docs: list[Any] = []
    for name in sorted(os.listdir(cluster_dir)):
        found, problems = parse_text((cluster_dir / name).read_text(), name)
        assert not problems
        docs += [d.data for d in found]
    # the List written item by item, so that each item's first line is known
    lines = ['{\n "apiVersion": "v1",\n "kind": "List",\n "items": [']
    starts: dict[tuple[str, str, str], int] = {}
    line = 5
    for i, doc in enumerate(docs):
        meta = doc["metadata"]
        starts[(doc["kind"], meta.get("namespace", ""), meta["name"])] = line
        item = json.dumps(doc, indent=1) + ("," if i < len(docs) - 1 else "")
        lines.append(item)
        line += item.count("\n") + 1
    lines.append(" ]\n}\n")
    as_list = tmp_path / "list.json"
    as_list.write_text("\n".join(lines))
    from_json = load_cluster([str(as_list)], options)
    assert from_json.ok
    assert snapshot(from_json.cluster) == snapshot(from_yaml.cluster)
    for policy in from_json.cluster.policies:
        namespace, name = policy.id.split("/")
        assert policy.source.path == str(as_list)
        assert policy.source.line == starts[("NetworkPolicy", namespace, name)]
    for service in from_json.cluster.services:
        namespace, name = service.id.split("/")
        assert service.source.line == starts[("Service", namespace, name)]


_DUMP = """{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "settings", "namespace": "default"},
  "data": {"a": "{\\"x\\": [1, 2]}", "b": "]"}, "binaryData": {}},
 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}},
 {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "e"}, "involved": [[], {}]},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"name": "typo", "namespace": "default"},
  "spec": {"podSelector": {},
   "ingres": []}}
]}
"""


def test_objects_of_kinds_netpol_never_reads_keep_their_line_and_the_rest_theirs(
    tmp_path: Any,
) -> None:
    path = tmp_path / "dump.json"
    path.write_text(_DUMP)
    docs = jsondoc.parse_json(_DUMP, "dump.json")
    assert docs is not None
    items = docs[0].data["items"]
    assert items.item_lines == [2, 5, 6, 7]
    assert [item.line for item in items] == [2, 5, 6, 7]
    assert items[0]["data"] == {"a": '{"x": [1, 2]}', "b": "]"}
    result = load_cluster([str(path)], Options())
    assert [d.one_line().replace(str(tmp_path), "DIR") for d in result.errors] == [
        "DIR/dump.json:10: error: NetworkPolicy/default/typo: spec.ingres: unknown field "
        '"ingres" (did you mean "ingress"?)'
    ]
    path.write_text(_DUMP.replace('"ingres"', '"ingress"'))
    result = load_cluster([str(path)], Options())
    assert result.ok
    assert dict(result.cluster.skipped_kinds) == {"ConfigMap": 1, "Event": 1, "Secret": 1}


def test_an_unread_kind_nested_too_deep_is_still_refused_on_its_line() -> None:
    text = (
        '{"apiVersion": "v1", "kind": "List", "items": [\n'
        '{"apiVersion": "v1", "kind": "ConfigMap", "data":\n' + "[" * 250 + "]" * 250 + "}]}"
    )
    _, problems = parse_text(text, "x.json")
    assert [p.one_line() for p in problems] == [
        "x.json:3: error: document nested deeper than 200 levels"
    ]


_POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}
_POD = {"apiVersion": "v1", "kind": "Pod"}


def _named(base: dict[str, Any], name: str, **fields: Any) -> dict[str, Any]:
    return {**base, "metadata": {"name": name, "namespace": "default"}, **fields}


# Objects wrong in a nested mapping or list: what the message says of the value's type
# ("a mapping", "a list") comes from the decoder's own mappings (yamldoc.DecodedMap)
_BROKEN_ITEMS = [
    _named(_POLICY, "ingress-map", spec={"podSelector": {}, "ingress": {"from": []}}),
    _named(_POLICY, "labels-list", spec={"podSelector": {"matchLabels": ["app", "web"]}}),
    _named(
        _POLICY,
        "peer-map-in-map",
        spec={
            "podSelector": {},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"a": {}}}}]}],
        },
    ),
    _named(_POD, "label-map", spec={"containers": [{"name": "c", "image": "i"}]}),
    _named(
        {"apiVersion": "v1", "kind": "Service"},
        "port-text",
        spec={"selector": {"app": "x"}, "ports": ["80"]},
    ),
    _named(
        {"apiVersion": "apps/v1", "kind": "Deployment"},
        "ports-map",
        spec={
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                "metadata": {"labels": {"app": "d"}},
                "spec": {"containers": [{"name": "c", "image": "i", "ports": {"a": 1}}]},
            },
        },
    ),
]
_BROKEN_ITEMS[3]["metadata"]["labels"] = {"app": {"nested": "map"}}


@pytest.mark.parametrize("item", _BROKEN_ITEMS, ids=lambda item: item["metadata"]["name"])
def test_a_wrong_type_deep_in_a_json_list_is_reported_as_the_yaml_reader_reports_it(
    tmp_path: Any, item: dict[str, Any]
) -> None:
    # many clean objects around it, so the broken one is an item located only when asked
    filler = [
        _named(_POLICY, f"fine-{i}", spec={"podSelector": {"matchLabels": {"app": "a"}}})
        for i in range(30)
    ]
    path = tmp_path / "list.json"
    listed = {"apiVersion": "v1", "kind": "List", "items": [*filler[:15], item, *filler[15:]]}
    path.write_text(json.dumps(listed, indent=2))
    found = [d.one_line() for d in load_cluster([str(path)], Options()).diagnostics]
    with mock.patch.object(jsondoc, "starts_as_json", return_value=False):
        as_yaml = [d.one_line() for d in load_cluster([str(path)], Options()).diagnostics]
    assert found == as_yaml
    assert any(" error: " in line and f"/{item['metadata']['name']}:" in line for line in found)
    assert not any("Map" in line for line in found)  # never a class name: "a mapping"
