"""The block YAML reader answers as PyYAML does, or declines.

``blockyaml.read`` is exact or silent: wherever it returns documents, PyYAML
(``yamldoc.read_with_pyyaml``) reads the same text into the same values, types and lines,
with no error. Generated manifests in every block style it claims are read (so the
differential property below is not vacuous), and mutated ones probe its edges.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.load.support import located_shape

from netpol.load import blockyaml, yamldoc
from netpol.load.yamldoc import parse_text

PATH = "manifest.yaml"


def documents_shape(docs: list[yamldoc.RawDocument]) -> list[Any]:
    return [(doc.path, doc.line, doc.served, located_shape(doc.data)) for doc in docs]


def assert_same_as_pyyaml(text: str) -> bool:
    """Whether the block reader read ``text``; if it did, PyYAML agrees exactly."""
    fast = blockyaml.read(text, PATH)
    if fast is None:
        return False
    slow, problems = yamldoc.read_with_pyyaml(text, PATH)
    assert problems == [], (text, problems)
    assert documents_shape(fast) == documents_shape(slow), text
    return True


# -- what the reader claims: read, and exactly as PyYAML reads it ------------------------

READ = [
    ("mapping", "a: 1\nb: x\n"),
    ("nested", "a:\n  b:\n    c: d\n  e: f\ng: h\n"),
    ("indented list", "a:\n  - x\n  - y\nb: z\n"),
    ("indentless list", "a:\n- x\n- y\nb: z\n"),
    ("indentless list in an item", "l:\n  - a:\n    - x\n    b: y\n"),
    ("compact item mapping", "a:\n  - name: x\n    port: 80\n  - name: y\n"),
    ("item opening below", "a:\n  -\n    name: x\n  -\n  - z\n"),
    ("list in a list", "a:\n  - - x\n    - y\n  - - z\n"),
    ("compact list then mapping", "a:\n  - - k: v\n      j: w\n"),
    ("nulls", "a:\nb: ~\nc: null\nd:\n  e:\nf:\n  -\n  - \n"),
    ("null at the end", "a: 1\nb:"),
    ("kubectl scalars", "a: yes\nb: off\nc: 0777\nd: 0x1f\ne: 1_000\nf: 1e3\ng: .5\nh: -1\n"),
    ("float as int", "a: 80.0\nb: 1.5\nc: +12\n"),
    ("beyond an integer", "a: 99999999999999999999999\n"),
    ("strings that look like others", "a: '80'\nb: \"true\"\nc: 'it''s'\nd: ''\ne: \"\"\n"),
    ("plain text with punctuation", "a: http://x:80/p?q=1#f\nb: a#b\nc: -x\nd: a, b [c] {d}\n"),
    ("images", "image: registry.k8s.io/coredns/coredns:v1.11.3\n"),
    ("comments", "# head\na: 1 # one\n  # deeper\nb: 'x' # two\nc: # three\n  d: e\n#tail\n"),
    ("blank lines", "\n\na: 1\n\n  \nb:\n\n  c: d\n\n"),
    ("trailing spaces", "a: x   \nb:   \n  c: d  \n"),
    ("flow lists", "a: [x, y, 1, true]\nb: []\nc: [ x ]\nd:\n  - [a, b]\n  - []\n"),
    ("empty flow mapping", "a: {}\nb:\n  - {}\n  - c: {}\n"),
    ("flow mappings", "a: {name: dns, port: 53}\nb:\n  - {x: [1, 2], w: {z: {}}}\n"),
    ("nested flow lists", "a: [[x], [], [y, [z]]]\n"),
    ("documents", "a: 1\n---\nb: 2\n---\n\n---\n# only a comment\n---\nc: 3\n"),
    ("leading and trailing markers", "---\na: 1\n---   \n---\n"),
    ("indented root", "  a: 1\n  b:\n    c: 2\n"),
    ("wide indentation", "a:\n        b:\n                - c\n"),
    ("unicode", "a: héllo wörld\nb: '日本'\nc: \U0001f600\n"),
    ("keys kubernetes writes", "app.kubernetes.io/name: x\nk8s-app: y\n_a.b/c-d: z\n"),
    ("cilium's keys", "k8s:io.kubernetes.pod.namespace: a\nany:app: b\n"),
    ("dash values", "a: ---\nb: -x\nc: -1\n"),
    ("literal block", "a: |\n  x\n  y\nb: 1\n"),
    ("literal block, strip", "a: |-\n  x\n\n  y\n\n\nb: 1\n"),
    ("literal block, keep", "a: |+\n  x\n\n\nb: 1\n"),
    ("literal block at the end", "a: |+\n  x\n\n"),
    ("literal block with a comment's look", "l:\n  - |\n    t\n    # text\n  - b\n"),
    ("literal blocks in lists", "l:\n- |\n  t\n- x: |\n    y\n  z: 1\n"),
    ("last-applied annotation", 'a:\n  b: |\n    {"json": 1}\n---\nc: 1\n'),
    ("literal block, blank lines", "a: |\n  x\n \n\n  y\n# comment\nb: 2\n"),
    ("literal block, deeper lines", "a: |\n  x\n    y\n  z\n"),
    ("empty", ""),
    ("only comments", "# nothing\n\n# here\n"),
]


@pytest.mark.parametrize("text", [text for _, text in READ], ids=[name for name, _ in READ])
def test_reads_the_subset_exactly_as_pyyaml(text: str) -> None:
    assert assert_same_as_pyyaml(text)


# -- what it leaves to PyYAML: declined, whatever PyYAML then makes of it ------------------

DECLINED = [
    ("anchor and alias", "a: &x 1\nb: *x\n"),
    ("merge key", "a: &x {b: 1}\nc:\n  <<: *x\n"),
    ("tag", "a: !!str 1\n"),
    ("folded block", "a: >-\n  x\n"),
    ("literal block with an indentation indicator", "a: |2\n  x\n"),
    ("literal block with a comment", "a: | # c\n  x\n"),
    ("literal block with a leading empty line", "a: |\n\n  x\n"),
    ("empty literal block", "a: |\nb: 1\n"),
    ("literal block without a final line break", "a: |\n  x"),
    ("spaces beyond a literal block's indentation", "a: |\n  x\n     \n  y\n"),
    ("multi-line plain", "a: x\n  y\n"),
    ("multi-line quoted", "a: 'x\n  y'\n"),
    ("escape", 'a: "x\\ty"\n'),
    ("flow mapping without a value", "a: {b}\n"),
    ("flow scalar with a colon", "a: {b: c:d}\n"),
    ("flow on two lines", "a: [x,\n  y]\n"),
    ("trailing comma", "a: [x, y,]\n"),
    ("deep flow", "a: " + "[" * 9 + "]" * 9 + "\n"),
    ("quoted flow item", "a: ['x']\n"),
    ("quoted key", "'a': 1\n"),
    ("number key", "80: http\n"),
    ("boolean key", "y: 1\n"),
    ("null key", "~: 1\n"),
    ("spaced key", "a b: 1\n"),
    ("key ending in a colon", "a:: 1\n"),
    ("colon key in a flow", "a: {k8s:app: x}\n"),
    ("colon glued to a bracket", "a: {a:[b]}\n"),
    ("colon glued to a brace", "a:\n- {b:{}}\n"),
    ("complex key", "? a\n: 1\n"),
    ("duplicate key", "a: 1\na: 2\n"),
    ("tab", "a:\t1\n"),
    ("carriage return", "a: 1\r\nb: 2\r\n"),
    ("next line character", "a: x\x85y\n"),
    ("control character", "a: x\x01\n"),
    ("byte order mark", "\ufeffa: 1\n"),
    ("directive", "%YAML 1.1\n---\na: 1\n"),
    ("document end", "a: 1\n...\n"),
    ("text after a marker", "--- a: 1\n"),
    ("list root", "- a\n- b\n"),
    ("scalar root", "hello\n"),
    ("bad indentation", "a:\n    b: 1\n  c: 2\n"),
    ("list under a mapping's key column", "a: 1\n- x\n"),
    ("mapping value on a key line", "a: b: c\n"),
    ("key without space", "a:b\n"),
    ("a dash alone as a value", "b: -\n"),
    ("a list on a key's line", "c: - x\n"),
    ("infinity", "a: .inf\n"),
    ("too deep", "".join(" " * depth + "a:\n" for depth in range(0, 420, 2))),
    # PyYAML's depth guard refuses a line of 401 or more leading " ?:-" whatever it holds
    ("deep comment", "a: 1\n" + " " * 401 + "#\n"),
    ("deep literal line", "a: |\n  " + "-" * 401 + "\n"),
    ("deeply indented literal line", "a: |\n" + " " * 402 + "x\n"),
    ("item of dashes", "a:\n- " + "-" * 401 + "\n"),
]


@pytest.mark.parametrize("text", [text for _, text in DECLINED], ids=[n for n, _ in DECLINED])
def test_leaves_the_rest_to_pyyaml(text: str) -> None:
    assert blockyaml.read(text, PATH) is None


def test_parse_text_reports_what_it_declines_as_before() -> None:
    """A declined text's error is PyYAML's, with its line, through parse_text."""
    docs, problems = parse_text("a: 1\n---\nb:\n    c: 1\n  d: 2\n", PATH)
    assert [doc.data["a"] for doc in docs] == [1]
    assert len(problems) == 1
    assert problems[0].line == 5
    assert problems[0].message.startswith("invalid YAML: ")
    docs, problems = parse_text("a: 1\na: 2\n", PATH)
    assert problems[0].message == 'invalid YAML: duplicate key "a" (first at line 1)'
    assert problems[0].line == 2


# -- generated manifests -----------------------------------------------------------------

SAFE_KEYS = ["a", "name", "app", "k8s-app", "app.kubernetes.io/name", "x_y", "port", "b1"]
SAFE_SCALARS = ["x", "TCP", "80", "0", "-1", "1.5", "true", "no", "~", "http://a:1/b", "é", "a b"]
SAFE_SCALARS += ["two\nlines", '{"json": [1, 2]}\n', "x\n\n  indented\n# not a comment\n\n"]
EDGE_KEYS = [*SAFE_KEYS, "80", "y", "null", "<<", "a b", "'q'", "-x", "a:b", "?", "#k", "a #b"]
EDGE_SCALARS = [
    *SAFE_SCALARS,
    "",
    "yes",
    "0777",
    "0x1F",
    "1_000",
    "1e3",
    ".inf",
    ".5",
    "+1",
    "2001-12-14",
    "a:b",
    "a: b",
    "a#b",
    "a #b",
    "-",
    "- x",
    "--",
    "---",
    "a  b",
    "@x",
    "`x",
    "%x",
    "!x",
    "&x",
    "*x",
    "|",
    ">",
    "'q'",
    '"q"',
    "it's",
    "a,b",
    "[x]",
    "[x, y]",
    "[]",
    "{}",
    "{x}",
    "\xa0x",
    "x ",
    "#",
    "?x",
    "? x",
    ":x",
    "1:2",
    "[a, 'b']",
    "{a: b}",
    "{a: [b, {c: d}]}",
    "[a, {b: c}]",
    "{a}",
    "{a: b:c}",
    "[a,, b]",
    "[a, b,]",
    "\\",
    '"a\\"',
    "'a''b'",
    "x\ty",
    "\nleading",
    " spaced\nthen less",
    "a\n---\nb",
    "tab\tin a block\n",
]

Tree = Any


def trees(keys: list[str], scalars: list[str]) -> st.SearchStrategy[Tree]:
    leaf = st.sampled_from(scalars).map(lambda text: ("scalar", text))
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(
                st.tuples(st.sampled_from(keys), inner),
                min_size=1,
                max_size=4,
                unique_by=lambda pair: pair[0],
            ).map(lambda pairs: ("map", pairs)),
            st.lists(inner, min_size=1, max_size=3).map(lambda items: ("list", items)),
        ),
        max_leaves=12,
    )


@st.composite
def styles(draw: st.DrawFn, edgy: bool) -> dict[str, Any]:
    return {
        "indent": draw(st.integers(1, 4)),
        "indentless": draw(st.booleans()),
        "compact": draw(st.booleans()),
        "quote": draw(st.sampled_from(["plain", "single", "double", "mixed"])),
        "comments": edgy and draw(st.booleans()),
        "draw": draw,
    }


def scalar_text(text: str, style: dict[str, Any]) -> str:
    quote = style["quote"]
    if quote == "mixed":
        quote = style["draw"](st.sampled_from(["plain", "single", "double"]))
    if quote == "single":
        return "'" + text.replace("'", "''") + "'"
    if quote == "double":
        return '"' + text + '"'
    return text


def emit(tree: Tree, column: int, style: dict[str, Any]) -> list[str]:
    """Block lines for a mapping or list ``tree`` whose entries start at ``column``."""
    pad = " " * column
    lines: list[str] = []
    kind, body = tree
    step = style["indent"]
    if kind == "map":
        for key, value in body:
            lines += emit_entry(pad + key + ":", value, column, style, in_map=True)
    else:
        for item in body:
            lines += emit_entry(pad + "-", item, column, style, in_map=False)
    del step
    return lines


def emit_entry(
    head: str, value: Tree, column: int, style: dict[str, Any], in_map: bool
) -> list[str]:
    kind, body = value
    step = style["indent"]
    comment = " # note" if style["comments"] and style["draw"](st.booleans()) else ""
    if kind == "scalar" and "\n" in body:
        # a literal block: "|", "|-" or "|+", its lines one step deeper than its owner
        chomping = style["draw"](st.sampled_from(["", "-", "+"]))
        pad = " " * (column + step)
        lines = [pad + line if line else "" for line in body.rstrip("\n").split("\n")]
        return [head + " |" + chomping, *lines] + [""] * (len(body) - len(body.rstrip("\n")))
    if kind == "scalar":
        return [head + " " + scalar_text(body, style) + comment]
    if kind == "list" and in_map and style["indentless"]:
        return [head + comment, *emit(value, column, style)]
    if not in_map and style["compact"]:
        # "- key: v" / "- - v": the first entry on the dash's line, the rest under it
        inner = emit(value, column + 2, style)
        return [head + " " + inner[0][column + 2 :], *inner[1:]]
    return [head + comment, *emit(value, column + step, style)]


def manifest(trees_of: st.SearchStrategy[Tree], edgy: bool) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        style = draw(styles(edgy))
        docs = draw(
            st.lists(trees_of.filter(lambda tree: tree[0] == "map"), min_size=1, max_size=3)
        )
        parts = ["\n".join(emit(doc, 0, style)) for doc in docs]
        text = "\n---\n".join(parts) + "\n"
        if draw(st.booleans()):
            text = "---\n" + text
        if style["comments"]:
            text = "# head\n" + text + "\n# tail\n"
        return text

    return build()


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A generated manifest with a few lines broken: re-indented, cut, doubled, spliced."""
    lines = draw(manifest(trees(EDGE_KEYS, EDGE_SCALARS), edgy=True)).split("\n")
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        action = draw(st.sampled_from(["indent", "dedent", "cut", "double", "insert", "drop"]))
        if action == "indent":
            lines[index] = " " + line
        elif action == "dedent" and line.startswith(" "):
            lines[index] = line[1:]
        elif action == "cut" and line:
            lines[index] = line[: draw(st.integers(0, len(line) - 1))]
        elif action == "double":
            lines.insert(index, line)
        elif action == "drop":
            del lines[index]
            if not lines:
                lines = [""]
        else:
            where = draw(st.integers(0, len(line)))
            char = draw(st.sampled_from([*list(":-#'\"[]{} \t&*!|>?%,"), "---", "\n  "]))
            lines[index] = line[:where] + char + line[where:]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(manifest(trees(SAFE_KEYS, SAFE_SCALARS), edgy=False))
def test_reads_every_block_style_it_claims(text: str) -> None:
    """Plain, simply quoted and flow-free scalars in any indentation and list style."""
    if '"' in text and "\\" in text:
        return  # an escape: declined by design
    assert assert_same_as_pyyaml(text), text


@settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(manifest(trees(EDGE_KEYS, EDGE_SCALARS), edgy=True))
def test_edge_scalars_and_keys_are_read_exactly_or_declined(text: str) -> None:
    assert_same_as_pyyaml(text)


@settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(mutated())
def test_broken_manifests_are_read_exactly_or_declined(text: str) -> None:
    assert_same_as_pyyaml(text)


def test_synthetic_cluster_is_read_as_pyyaml_reads_it() -> None:
    """The benchmark's manifests take the fast path, but for the tiers' flows over
    several lines and Cilium's "k8s:" keys inside flows."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import synth

    texts = synth.files(600, 7, tiers=True, cilium=True)
    read = {name: assert_same_as_pyyaml(text) for name, text in texts.items()}
    assert [name for name, ok in read.items() if not ok] == ["40-tiers.yaml", "50-cilium.yaml"]


def test_a_snapshot_is_read_back_by_the_fast_reader() -> None:
    """``netpol snapshot`` writes each string on its line, however long, so reading a
    snapshot back stays on the fast path."""
    from netpol.load.live.snapshot import as_yaml

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-0",
            "namespace": "app1-ns",
            "labels": {"app": "web", "port": "80"},
            "annotations": {"description": "a long annotation " * 12},
        },
        "spec": {
            "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]
        },
    }
    text = as_yaml([pod, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}])
    assert max(len(line) for line in text.splitlines()) > 200
    assert assert_same_as_pyyaml(text)
    docs = blockyaml.read(text, PATH)
    assert docs is not None
    assert docs[0].data["metadata"]["labels"]["port"] == "80"


def test_kubectl_get_o_yaml_is_read_on_the_fast_path() -> None:
    """``kubectl get -o yaml`` output (a List, indentless items, the last-applied
    annotation as a literal block, quoted timestamps, status) is in the subset."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / "kubectl" / "get-o-yaml.yaml"
    text = path.read_text(encoding="utf-8")
    assert assert_same_as_pyyaml(text)
    docs = blockyaml.read(text, PATH)
    assert docs is not None
    (listed,) = docs
    policy, pod = listed.data["items"]
    assert policy["metadata"]["annotations"][
        "kubectl.kubernetes.io/last-applied-configuration"
    ].startswith('{"apiVersion":"networking.k8s.io/v1"')
    assert pod["status"]["conditions"][0]["status"] == "True"
    assert pod["spec"]["containers"][0]["ports"][0]["containerPort"] == 5678
    assert listed.data["items"].item_lines == [6, 32]
