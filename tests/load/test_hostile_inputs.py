"""Malformed and hostile input: each ends fast in one clear line naming file and line, or
loads cleanly; never a traceback, never a hang (through the pipeline and through the CLI)."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netpol.cli.main import cli
from netpol.model.options import Options
from netpol.validate.pipeline import LoadResult, load_cluster

HANG_GUARD = 5.0  # seconds; each case takes milliseconds, this only catches a hang
NP = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"


def _bomb() -> str:
    lines = ["a: &a [x,x,x,x,x,x,x,x,x,x]"]
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{','.join([f'*{prev}'] * 10)}]")
    return "\n".join(lines) + "\n"


# name, file content, the diagnostics a user sees (file name relative), whether it loads
CASES: list[tuple[str, str | bytes, list[str], bool]] = [
    (
        "truncated.yaml",
        NP + "spec:\n  podSelector: {matchLabels: {app: [web\n",
        [
            "truncated.yaml:6: error: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence)"
        ],
        False,
    ),
    (
        "tabs.yaml",
        NP + "spec:\n\tpodSelector: {}\n",
        [
            "tabs.yaml:5: error: invalid YAML: found character that cannot start any token "
            "(while scanning for the next token)"
        ],
        False,
    ),
    (
        "long-line.yaml",
        "a: " + "x" * 10_000_000 + "\n",
        ["long-line.yaml:1: error: * apiVersion and kind not set*"],
        False,
    ),
    (
        "deep-flow.yaml",
        "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
        ["deep-flow.yaml:1: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "deep-block.yaml",
        "".join("  " * i + f"k{i}:\n" for i in range(3000)),
        ["deep-block.yaml:202: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "deep-block-list.yaml",
        "".join("  " * i + "- \n" for i in range(3000)),
        ["deep-block-list.yaml:201: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "deep-compact-list.yaml",
        "- " * 100_000 + "x\n",
        ["deep-compact-list.yaml:1: error: document nested deeper than 200 levels"],
        False,
    ),
    # Scans that guess what is quoted can be fooled into skipping the brackets that follow;
    # libyaml then recursed 100,000 levels deep in C and crashed the interpreter.
    (
        "deep-after-apostrophe.yaml",
        "# don't\na: " + "[" * 100_000 + "]" * 100_000 + "\n",
        ["deep-after-apostrophe.yaml:2: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "deep-after-escaped-quote.yaml",
        'a: "x\\""\nb: ' + "[" * 100_000 + "]" * 100_000 + "\n",
        ["deep-after-escaped-quote.yaml:2: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "deep-after-block-scalar.yaml",
        'a: |\n  "\nb: ' + "{" * 100_000 + "}" * 100_000 + "\n",
        ["deep-after-block-scalar.yaml:3: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "deep-in-second-document.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nb: "
        + "[" * 100_000
        + "]" * 100_000
        + "\n",
        ["deep-in-second-document.yaml:5: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "deep-explicit-keys.yaml",
        "? " * 100_000 + "x\n",
        ["deep-explicit-keys.yaml:1: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "many-shallow-brackets.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  annotations:\n"
        + "".join(f"    k{i}: '[[{{x}}]]'\n" for i in range(500)),
        [],
        True,
    ),
    (
        "nul.yaml",
        NP.encode() + b"spec: {podSelector: {}}\x00\n",
        [
            "nul.yaml:4: error: invalid YAML: unacceptable character #x0000: control characters are not allowed"
        ],
        False,
    ),
    (
        "bell.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: \x07}\n",
        [
            "bell.yaml:3: error: invalid YAML: unacceptable character #x0007: control characters are not allowed"
        ],
        False,
    ),
    (
        "binary.yaml",
        bytes(range(256)) * 40,
        ["binary.yaml:2: error: not UTF-8 text (byte 0x80 at offset 128)"],
        False,
    ),
    (
        "invalid-utf8.yaml",
        NP.encode() + b"  labels: {a: \xff\xfe}\nspec: {}\n",
        ["invalid-utf8.yaml:4: error: not UTF-8 text (byte 0xff at offset 101)"],
        False,
    ),
    (
        "utf16-bom.yaml",
        ("\ufeffapiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n").encode("utf-16-le"),
        [],
        True,
    ),
    (
        "utf8-bom.yaml",
        b"\xef\xbb\xbfapiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
        [],
        True,
    ),
    ("crlf.yaml", "apiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: a\r\n", [], True),
    (
        "spec-list.yaml",
        NP + "spec: [a, b]\n",
        ["spec-list.yaml:4: error: NetworkPolicy/a/p: spec: must be a mapping*not a list*"],
        False,
    ),
    (
        "metadata-string.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: frontend\nspec: {containers: []}\n",
        ["metadata-string.yaml:3: error: Pod/*: metadata: must be a mapping*not a string*"],
        False,
    ),
    (
        "items-not-list.yaml",
        "apiVersion: v1\nkind: List\nitems: {a: b}\n",
        ["items-not-list.yaml:3: error: List: items: must be a list, not a mapping*"],
        False,
    ),
    (
        "list-item-scalar.yaml",
        "apiVersion: v1\nkind: List\nitems: [42]\n",
        ["list-item-scalar.yaml:3: error: List: items[0]: must be a mapping*"],
        False,
    ),
    (
        "containers-not-list.yaml",
        POD + "spec: {containers: nginx}\n",
        [
            "containers-not-list.yaml:4: error: Pod/default/p: spec.containers: must be a list, not a string*",
            "containers-not-list.yaml:4: error: Pod/default/p: spec.containers: Required value",
        ],
        False,
    ),
    (
        "ports-string.yaml",
        POD + "spec:\n  containers:\n    - name: c\n      image: x\n      ports: '80'\n",
        [
            "ports-string.yaml:8: error: Pod/default/p: spec.containers[0].ports: must be a list, not a string*"
        ],
        False,
    ),
    (
        "from-mapping.yaml",
        NP + "spec:\n  podSelector: {}\n  ingress:\n    - from: {podSelector: {}}\n",
        [
            "from-mapping.yaml:7: error: NetworkPolicy/a/p: spec.ingress[0].from: must be a list, not a mapping*"
        ],
        False,
    ),
    (
        "port-float.yaml",
        NP + "spec:\n  podSelector: {}\n  ingress: [{ports: [{port: 80.5}]}]\n",
        [
            "port-float.yaml:6: error: NetworkPolicy/a/p: spec.ingress[0].ports[0].port: *(value: 80.5)"
        ],
        False,
    ),
    (
        "huge-int.yaml",
        POD
        + "spec:\n  containers:\n    - {name: c, image: x, ports: [{containerPort: 99999999999999999999999}]}\n",
        ["huge-int.yaml:6: error: Pod/default/p: spec.containers[0].ports[0].containerPort: *"],
        False,
    ),
    (
        "label-number.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {version: 1}\n",
        ["label-number.yaml:5: error: Namespace/a: metadata.labels*version*quote it*"],
        False,
    ),
    (
        "duplicate-keys.yaml",
        NP + "spec:\n  podSelector: {}\n  podSelector: {}\n",
        [
            'duplicate-keys.yaml:6: error: invalid YAML: duplicate key "podSelector" (first at line 5)'
        ],
        False,
    ),
    (
        "alias-bomb.yaml",
        _bomb(),
        [
            "alias-bomb.yaml:*: error: invalid YAML: document expands to more than 1,000,000 "
            "nodes through aliases (a YAML bomb?)"
        ],
        False,
    ),
    (
        "recursive-alias.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: &m {name: a, labels: {a: b}, x: *m}\n",
        ["recursive-alias.yaml:3: *metadata*"],
        False,
    ),
    (
        "undefined-alias.yaml",
        "a: *nothing\n",
        ["undefined-alias.yaml:1: error: invalid YAML: found undefined alias"],
        False,
    ),
    (
        "python-tag.yaml",
        "a: !!python/object/apply:os.system [echo pwned]\n",
        ["python-tag.yaml:1: error: invalid YAML: could not determine a constructor for the tag*"],
        False,
    ),
    (
        "key-not-string.yaml",
        "? [a, b]\n: c\n",
        [
            "key-not-string.yaml:1: error: invalid YAML: found a mapping key that is not a string, a number or a boolean"
        ],
        False,
    ),
    (
        "scalar.yaml",
        "just a string\n",
        ["scalar.yaml:1: error: document 1 is a string, not a mapping"],
        False,
    ),
    ("list.yaml", "- a\n- b\n", ["list.yaml:1: error: document 1 is a list, not a mapping"], False),
    (
        "second-doc-scalar.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n42\n",
        ["second-doc-scalar.yaml:5: error: document 2 is a number, not a mapping"],
        False,
    ),
    (
        "missing-kind.yaml",
        "apiVersion: v1\nmetadata: {name: x}\n",
        ["missing-kind.yaml:1: error: *kind not set*"],
        False,
    ),
    ("empty.yaml", "", [], True),
    ("only-separators.yaml", "---\n" * 50_000, [], True),
    ("comments-only.yaml", "# nothing here\n# at all\n", [], True),
    (
        "replicas-bomb.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\nspec:\n  replicas: 2000000000\n"
        "  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}]}}\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
        ["replicas-bomb.yaml:5: error: Deployment/a/d: spec.replicas: *"],
        False,
    ),
    (
        "bad.json",
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}',
        ["bad.json:1: error: invalid *"],
        False,
    ),
    (
        "tabs-bad.json",
        '\t{\n"apiVersion": "v1",\n"kind" "Namespace"\n}\n',
        ["tabs-bad.json:3: error: invalid JSON: Expecting ':' delimiter"],
        False,
    ),
    (
        "tabs-list.json",
        '\t[\n{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}\n]\n',
        ["tabs-list.json:1: error: document 1 is a list, not a mapping"],
        False,
    ),
    (
        "tabs-deep.json",
        "\t" + "[" * 100_000 + "]" * 100_000,
        ["tabs-deep.json:1: error: document nested deeper than 200 levels"],
        False,
    ),
    (
        "tabs.json",
        '{\n\t"apiVersion": "v1",\n\t"kind": "Namespace",\n\t"metadata": {"name": "a"}\n}\n',
        [],
        True,
    ),
]


def _match(pattern: str, text: str) -> bool:
    """``*`` matches anything; everything else (brackets included) is literal."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), text) is not None


def _load(paths: list[str], stdin: bytes | None = None) -> tuple[LoadResult, float]:
    start = time.perf_counter()
    result = load_cluster(
        paths, Options(implicit_dns=False), io.BytesIO(stdin) if stdin is not None else None
    )
    return result, time.perf_counter() - start


def _relative(lines: list[str], root: Path) -> list[str]:
    return [line.replace(f"{root}{os.sep}", "") for line in lines]


@pytest.mark.parametrize(("name", "content", "expected", "loads"), CASES, ids=[c[0] for c in CASES])
def test_hostile_file_through_the_pipeline(
    tmp_path: Path, name: str, content: str | bytes, expected: list[str], loads: bool
) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result, seconds = _load([str(path)])
    assert seconds < HANG_GUARD
    seen = _relative(
        [d.one_line() for d in result.diagnostics if d.severity.value != "warning"], tmp_path
    )
    assert len(seen) == len(expected), seen
    for pattern, line in zip(expected, seen, strict=True):
        assert _match(pattern, line), (pattern, line)
    assert result.ok is loads


@pytest.mark.parametrize(("name", "content", "expected", "loads"), CASES, ids=[c[0] for c in CASES])
def test_hostile_file_through_the_cli(
    tmp_path: Path, name: str, content: str | bytes, expected: list[str], loads: bool
) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["get", "pods", str(path)])
    assert time.perf_counter() - start < HANG_GUARD
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if loads:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2
    errors = [
        line for line in _relative(result.stderr.splitlines(), tmp_path) if ": error: " in line
    ]
    assert len(errors) == len(expected)
    assert all(_match(p, line) for p, line in zip(expected, errors, strict=True)), errors
    count = len(expected)
    assert result.stderr.splitlines()[-1].startswith(
        f"error: {count} problem{'s' * (count > 1)} in the input"
    )


# -- paths that are not ordinary files ------------------------------------------------------

PathSetup = Callable[[Path], str]


def _empty_dir(root: Path) -> str:
    (root / "empty").mkdir()
    return str(root / "empty")


def _dir_named_yaml(root: Path) -> str:
    (root / "x.yaml").mkdir()
    return str(root / "x.yaml")


def _dangling(root: Path) -> str:
    (root / "gone.yaml").symlink_to(root / "nowhere.yaml")
    return str(root / "gone.yaml")


def _dangling_in_dir(root: Path) -> str:
    (root / "d").mkdir()
    (root / "d" / "ok.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    (root / "d" / "gone.yaml").symlink_to(root / "nowhere.yaml")
    return str(root / "d")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (_empty_dir, "empty: error: directory contains no .yaml, .yml or .json file"),
        (_dir_named_yaml, "x.yaml: error: directory contains no .yaml, .yml or .json file"),
        (_dangling, "gone.yaml: error: broken symbolic link (to nowhere.yaml)"),
        (
            _dangling_in_dir,
            "d/gone.yaml: error: cannot read: broken symbolic link (to nowhere.yaml)",
        ),
        (lambda root: str(root / "missing.yaml"), "missing.yaml: error: no such file or directory"),
    ],
    ids=[
        "empty-dir",
        "dir-named-x.yaml",
        "dangling-symlink",
        "dangling-symlink-in-dir",
        "nonexistent",
    ],
)
def test_unreadable_paths(tmp_path: Path, setup: PathSetup, expected: str) -> None:
    path = setup(tmp_path)
    result, seconds = _load([path])
    assert seconds < HANG_GUARD
    assert not result.ok
    assert _relative([d.one_line() for d in result.errors], tmp_path) == [expected]
    cli_result = CliRunner().invoke(cli, ["get", "ns", path])
    assert cli_result.exit_code == 2
    assert _relative(cli_result.stderr.splitlines(), tmp_path)[0] == expected


def test_binary_garbage_on_stdin() -> None:
    result, seconds = _load(["-"], stdin=bytes(range(256)))
    assert seconds < HANG_GUARD
    assert [d.one_line() for d in result.errors] == [
        "-:2: error: not UTF-8 text (byte 0x80 at offset 128)"
    ]


def test_every_problem_of_several_files_is_reported_at_once(tmp_path: Path) -> None:
    for name, content, _, _ in CASES[:4]:
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    result = CliRunner().invoke(cli, ["get", "pods", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("error: 4 problems in the input")


# -- random input ---------------------------------------------------------------------------

YAMLISH = st.lists(
    st.sampled_from(
        [
            "[",
            "]",
            "{",
            "}",
            "- ",
            ": ",
            "\n",
            "  ",
            "&a ",
            "*a ",
            "'",
            '"',
            "\\",
            "#",
            "---\n",
            "kind: Pod\n",
            "apiVersion: v1\n",
            "metadata:\n  name: x\n",
            "<<: ",
            "? ",
            "!!str ",
            "|\n",
            ">\n",
            "\t",
            "\x00",
            "\ufeff",
            "items:",
            "kind: List\n",
            "1",
            "null",
            "~",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        YAMLISH, st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
    )
)
def test_random_text_never_crashes_the_pipeline(text: str) -> None:
    result, seconds = _load(["-"], stdin=text.encode("utf-8", "surrogatepass"))
    assert seconds < HANG_GUARD
    for d in result.diagnostics:
        message = d.one_line().split(" (value: ")[0]
        assert "\n" not in message, message
