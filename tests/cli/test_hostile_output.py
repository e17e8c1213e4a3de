"""An object named ``x ESC]0;PWNED BEL NEWLINE error: all good`` (issue 14's reproduction),
through every verb and format: the escape never reaches the output, no line starts with a
forged ``error:``, and each data format still parses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
TUTORIAL = SRC / "netpol" / "examples" / "tutorial"
HOSTILE = "x\x1b]0;PWNED\x07\nerror: all good"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The tutorial plus objects whose names, labels and messages are hostile, and
    expectations named the same way."""
    root = tmp_path_factory.mktemp("hostile")
    cluster = root / "cluster"
    shutil.copytree(TUTORIAL, cluster, ignore=shutil.ignore_patterns("expectations.yaml"))
    documents = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": HOSTILE}},
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": HOSTILE, "namespace": "app1-ns", "labels": {"role": HOSTILE}},
            "spec": {"containers": [{"name": "c", "image": f"i:{TOKEN}"}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": HOSTILE, "namespace": "app1-ns"},
            "spec": {"podSelector": {"matchLabels": {"app": HOSTILE}}},
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "\ud800"}},
    ]
    (cluster / "hostile.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": documents})
    )
    expectations = {
        "namespace": "app1-ns",
        "expectations": [
            {
                "name": HOSTILE,
                "from": "app1-ns/frontend-deploy",
                "to": "backend-svc",
                "port": 5678,
                "expect": "allow",
            },
            {
                "name": "b" + HOSTILE,
                "from": "app1-ns/" + HOSTILE,
                "to": "backend-svc",
                "port": 5678,
                "expect": "allow",
            },
        ],
    }
    expect = root / "expect.json"
    expect.write_text(json.dumps(expectations))
    return {"cluster": str(cluster), "expect": str(expect), "tutorial": str(TUTORIAL)}


def _json(text: str) -> None:
    json.loads(text)


def _xml(text: str) -> None:
    ET.fromstring(text.encode())


def _html(text: str) -> None:
    assert text.lstrip().startswith("<!DOCTYPE html>") and HOSTILE not in text


CASES: list[tuple[str, list[str], Callable[[str], None] | None]] = [
    ("validate", ["validate", "{cluster}"], None),
    ("validate json", ["validate", "{cluster}", "-o", "json"], _json),
    ("get pods", ["get", "pods", "{cluster}", "--skip-invalid"], None),
    ("get json", ["get", "pods", "{cluster}", "--skip-invalid", "-o", "json"], _json),
    (
        "explain",
        [
            "explain",
            "{cluster}",
            "--skip-invalid",
            "--from",
            "app1-ns/frontend-deploy",
            "--to",
            "backend-svc:5678",
        ],
        None,
    ),
    (
        "explain named",
        ["explain", "{tutorial}", "--from", HOSTILE, "--to", "backend-svc:5678"],
        None,
    ),
    ("matrix", ["matrix", "{cluster}", "--skip-invalid"], None),
    ("matrix refused", ["matrix", "{cluster}"], None),
    ("lint", ["lint", "{cluster}", "--skip-invalid"], None),
    ("lint sarif", ["lint", "{cluster}", "--skip-invalid", "-o", "sarif"], _json),
    ("lint json", ["lint", "{cluster}", "--skip-invalid", "-o", "json"], _json),
    ("verify", ["verify", "{tutorial}", "--expect", "{expect}"], None),
    ("verify json", ["verify", "{tutorial}", "--expect", "{expect}", "-o", "json"], _json),
    ("verify junit", ["verify", "{tutorial}", "--expect", "{expect}", "-o", "junit"], _xml),
    ("describe", ["describe", "networkpolicy", HOSTILE, "{tutorial}"], None),
    (
        "describe pod",
        ["describe", "pod", "app1-ns/" + HOSTILE, "{cluster}", "--skip-invalid"],
        None,
    ),
    ("graph html", ["graph", "{cluster}", "--skip-invalid", "-o", "html"], _html),
    ("diff", ["diff", "{cluster}", "{tutorial}", "--skip-invalid"], None),
]


@pytest.mark.parametrize(
    ("args", "parse"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_hostile_names_never_reach_the_terminal_raw(
    inputs: dict[str, str], args: list[str], parse: Callable[[str], None] | None
) -> None:
    argv = [arg.format(**inputs) if arg.startswith("{") else arg for arg in args]
    result = subprocess.run(
        [sys.executable, "-m", "netpol", *argv],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode in (0, 1, 2), err
    assert "Traceback" not in err
    for stream in (out, err):
        assert "\x1b" not in stream and "\x07" not in stream
        assert not any(line.startswith("error: all good") for line in stream.splitlines())
        assert TOKEN not in stream
    assert "PWNED" in out + err or parse is _html  # the name is shown, escaped, not dropped
    if parse is not None and result.returncode != 2:
        parse(out)


@pytest.mark.parametrize(
    "args",
    [
        ["lint"],
        ["describe", "networkpolicy", "app1-ns/backend-policy"],
        ["verify", "--expect", str(TUTORIAL / "expectations.yaml")],
    ],
    ids=["lint", "describe", "verify"],
)
def test_a_file_name_cannot_forge_a_line(tmp_path: Path, args: list[str]) -> None:
    """A git repository can carry a file named ``05<NEWLINE>error: all good.yaml``."""
    shutil.copytree(TUTORIAL, tmp_path / "in")
    policy = tmp_path / "in" / "05-revised-backend-netpol.yaml"
    policy.rename(tmp_path / "in" / "05\nerror: all good.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "netpol", *args[:1], *args[1:], str(tmp_path / "in")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert result.returncode in (0, 1), result.stderr
    output = result.stdout + result.stderr
    assert not any(line.startswith("error: all good") for line in output.splitlines())
    if args[0] != "verify":  # verify names no file of the cluster when all goes as expected
        assert "05\\nerror: all good.yaml" in output
