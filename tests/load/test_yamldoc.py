"""The alias-free fast construction gives exactly what the general path gives."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from netpol.load.yamldoc import LocatedList, LocatedMap, parse_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLES = sorted(str(p) for p in EXAMPLES.rglob("*.yaml"))


def _shape(value: Any) -> Any:
    """Data with every line it remembers, comparable with ==."""
    if isinstance(value, LocatedMap):
        return ("map", value.line, [(k, value.key_lines[k], _shape(v)) for k, v in value.items()])
    if isinstance(value, LocatedList):
        return (
            "seq",
            value.line,
            list(zip(value.item_lines, [_shape(v) for v in value], strict=True)),
        )
    return (type(value).__name__, value)


def _both(text: str) -> tuple[Any, Any]:
    fast, fast_problems = parse_text(text, "x.yaml")
    general, general_problems = parse_text(text + "\n# * forces the general path\n", "x.yaml")
    assert [p.one_line() for p in fast_problems] == [p.one_line() for p in general_problems]
    return [(d.line, _shape(d.data)) for d in fast], [(d.line, _shape(d.data)) for d in general]


@pytest.mark.parametrize("path", SAMPLES, ids=[Path(p).name for p in SAMPLES])
def test_examples_parse_the_same_both_ways(path: str) -> None:
    fast, general = _both(Path(path).read_text())
    assert fast == general


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: true\nc: null\nd: 1.5\ne: '1'\nf: 0x1F\ng: !!str 7\nh: [1, {i: j}]\n",
        "a: {<<: {b: 1}, c: 2}\n",
        "a: {<<: {b: 1, c: 1}, c: 2}\n",
        "a: {<<: [{b: 1}, {b: 2, c: 3}], b: 4}\n",
        "a: {<<: {b: 1}, c: 2, c: 3}\n",
        "? [a]\n: b\n",
        "a: 1\na: 2\n",
        "a: 2001-01-01\n",
        "- a\n- - b\n  - c: [d]\n",
    ],
)
def test_scalars_merges_and_errors_agree(text: str) -> None:
    fast, general = _both(text)
    assert fast == general


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("<<: {b: 1, c: 1}\nc: 2\n", {"b": 1, "c": 2}),  # the key written wins
        ("c: 2\n<<: {b: 1, c: 1}\n", {"b": 1, "c": 2}),  # wherever it is written
        ("<<: [{b: 1}, {b: 2, c: 3}]\n", {"b": 1, "c": 3}),  # the first merged map wins
        ("<<: [{b: 1}, {b: 2}]\nb: 4\n", {"b": 4}),
    ],
)
def test_a_key_written_overrides_a_merged_one_as_kubectl_reads_it(
    text: str, read: dict[str, int]
) -> None:
    docs, problems = parse_text(text + "x: &a 1\ny: *a\n", "x.yaml")  # the merge path
    assert problems == []
    assert {k: v for k, v in docs[0].data.items() if k in "bc"} == read


def test_a_key_written_twice_beside_a_merge_is_still_a_duplicate() -> None:
    _, problems = parse_text("<<: {b: 1}\nc: 2\nc: 3\n", "x.yaml")
    assert [p.one_line() for p in problems] == [
        'x.yaml:3: error: invalid YAML: duplicate key "c" (first at line 2)'
    ]


def test_the_synthetic_cluster_parses_the_same_both_ways() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import synth

    fast, general = _both(synth.generate(400, 5))
    assert fast == general


@pytest.mark.parametrize("path", ["x.yaml", "x.yml", "-", "x.json"])
def test_json_that_the_yaml_reader_refuses_is_read_as_json_whatever_the_file_is_called(
    path: str,
) -> None:
    # a tab before a key: YAML refuses it, JSON does not; kubectl sniffs "{" and reads JSON
    docs, problems = parse_text('{\n\t"kind": "Namespace",\n\t"metadata": {"name": "a"}\n}\n', path)
    assert problems == []
    assert docs[0].data == {"kind": "Namespace", "metadata": {"name": "a"}}


def test_text_that_is_neither_yaml_nor_json_keeps_the_yaml_error() -> None:
    _, problems = parse_text("a: 1\n\tb: 2\n", "x.yaml")
    assert [p.reason for p in problems] == ["ParseError"]
    assert "invalid YAML" in problems[0].message
