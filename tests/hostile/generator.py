"""Malformed and hostile inputs for every verb (issue 14, item 7), each one input directory.

Four families, all deterministic (a fixed seed), a few hundred inputs in all:

* ``file``: the hand-written hostile files of ``tests/load/test_hostile_inputs.py`` (deep
  nesting, YAML bombs, NUL bytes, binary, BOMs, wrong shapes), each as its own input;
* ``mutation``: the three-tier example with one field replaced by a hostile value (null, the
  wrong type, a huge or negative number, 100 KB of text, escapes and a forged newline, RTL and
  zero-width characters, IP forms the engine refuses);
* ``issue14``: the reproductions of issue 14 that reach the verbs through their input (deep and
  long Calico selectors, a lone surrogate in JSON, nested ``--from-matrix`` JSON, ``http.server
  ²``, the validate/matrix disagreements, names that carry terminal escapes, expectation and
  flow names that do, symbolic links to devices, FIFOs);
* ``random``: YAML-ish fragments spliced into the example.

An input is files (relative path -> bytes) plus, optionally, its own expectations, flows or
matrix for ``verify`` and ``generate``; the defaults are the example's.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tests.conftest import EXAMPLES
from tests.load.test_hostile_inputs import CASES as FILE_CASES

BASE = EXAMPLES / "three-tier"
FORGED = "error: all good"  # a line an input must never be able to print on its own
ESCAPES = f"x\x1b]0;PWNED\x07\n{FORGED}"  # issue 14's name: a title escape and a forged line

Docs = list[dict[str, Any]]
Special = Callable[[Path], None]  # makes what files cannot hold (a FIFO, a device link)


@dataclass(frozen=True)
class HostileInput:
    id: str
    category: str
    files: dict[str, bytes]
    expectations: bytes | None = None  # verify --expect (default: the example's)
    flows: bytes | None = None  # generate --flows (default: the example's)
    matrix: bytes | None = None  # generate --from-matrix (default: none)
    special: Special | None = field(default=None, compare=False)
    forged: bool = False  # carries FORGED after a newline: no output line may begin with it

    def materialise(self, root: Path) -> Path:
        """The input directory under ``root`` (a fresh directory per input)."""
        directory = root / "in"
        directory.mkdir()
        for name, content in self.files.items():
            (directory / name).write_bytes(content)
        if self.special is not None:
            self.special(directory)
        return directory


def base_docs() -> Docs:
    """The three-tier example's objects (not its expectations and flows), a fresh copy."""
    return copy.deepcopy(_base_docs())


@functools.cache
def _base_docs() -> Docs:
    docs: Docs = []
    for path in sorted(BASE.glob("*.yaml")):
        if path.name in ("expectations.yaml", "flows.yaml"):
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def dump(docs: Docs | dict[str, Any]) -> bytes:
    """YAML text (libyaml's emitter: the pure-Python one takes seconds on 5 MB)."""
    many = isinstance(docs, list)
    text = yaml.dump_all(
        docs if many else [docs], Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True
    )
    return text.encode()


# -- mutations of the example ---------------------------------------------------------------

# (object kind/name, path) of the fields replaced, the peers, ports and selectors included
TARGETS: list[tuple[str, tuple[Any, ...]]] = [
    ("Namespace/app1-ns", ("metadata", "name")),
    ("Namespace/app1-ns", ("metadata", "labels")),
    ("Deployment/backend-deploy", ("metadata", "name")),
    ("Deployment/backend-deploy", ("spec", "replicas")),
    ("Deployment/backend-deploy", ("spec", "selector", "matchLabels", "role")),
    ("Deployment/backend-deploy", ("spec", "template", "spec", "containers", 0, "ports")),
    ("Deployment/backend-deploy", ("spec", "template", "spec", "containers", 0, "command", 3)),
    ("Service/backend-svc", ("spec", "ports", 0, "port")),
    ("Service/backend-svc", ("spec", "ports", 0, "targetPort")),
    ("Service/backend-svc", ("spec", "clusterIP")),
    ("NetworkPolicy/backend-policy", ("metadata", "name")),
    ("NetworkPolicy/backend-policy", ("spec", "podSelector")),
    ("NetworkPolicy/backend-policy", ("spec", "policyTypes", 0)),
    ("NetworkPolicy/backend-policy", ("spec", "ingress", 0, "from")),
    ("NetworkPolicy/backend-policy", ("spec", "ingress", 0, "ports", 0, "port")),
    ("NetworkPolicy/backend-policy", ("spec", "egress", 1, "to", 0, "namespaceSelector")),
    ("NetworkPolicy/db-policy", ("spec", "ingress", 0, "from", 0, "podSelector", "matchLabels")),
]

VALUES: list[tuple[str, Any]] = [
    ("null", None),
    ("empty-list", []),
    ("empty-map", {}),
    ("list-of-null", [None]),
    ("empty-string", ""),
    ("negative", -1),
    ("huge", 2**64),
    ("float", 80.5),
    ("bool", True),
    ("long", "a" * 100_000),
    ("escapes", ESCAPES),
    ("rtl-zero-width", "web\u202e\u200btxt"),
    ("ip-leading-zeros", "010.0.0.1"),
]


def _kind_name(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def mutated(docs: Docs, target: str, path: tuple[Any, ...], value: Any) -> Docs | None:
    """``docs`` with the field at ``path`` of ``target`` set to ``value`` (None: no such field)."""
    out = copy.deepcopy(docs)
    for doc in out:
        if _kind_name(doc) != target:
            continue
        node: Any = doc
        for step in path[:-1]:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return None
        try:
            node[path[-1]] = copy.deepcopy(value)
        except (IndexError, TypeError):
            return None
        return out
    return None


def mutation_inputs() -> Iterator[HostileInput]:
    docs = base_docs()
    for target, path in TARGETS:
        for name, value in VALUES:
            changed = mutated(docs, target, path, value)
            if changed is None:
                continue
            where = ".".join(str(p) for p in path)
            yield HostileInput(
                f"mutation:{target}:{where}={name}",
                "mutation",
                {"manifests.yaml": dump(changed)},
                forged=name == "escapes",
            )


# -- the reproductions of issue 14 ---------------------------------------------------------


def _calico(selector: str) -> bytes:
    policy = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "g"},
        "spec": {"selector": selector, "types": ["Ingress"], "ingress": [{"action": "Allow"}]},
    }
    return dump([*base_docs(), policy])


def _with(*extra: dict[str, Any]) -> dict[str, bytes]:
    return {"manifests.yaml": dump([*base_docs(), *extra])}


def _pod(name: str, ip: str | None = None, command: list[str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "x", "ports": [{"containerPort": 80}]}
    if command:
        container["command"] = command
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "app1-ns", "labels": {"app": name}},
        "spec": {"containers": [container]},
    }
    if ip:
        doc["status"] = {"podIP": ip}
    return doc


def _service(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "app1-ns"},
        "spec": spec,
    }


def _symlink_to(target: str) -> Special:
    def make(directory: Path) -> None:
        (directory / "link.yaml").symlink_to(target)

    return make


def _fifo(directory: Path) -> None:
    os.mkfifo(directory / "x.yaml")


def _loop(directory: Path) -> None:
    (directory / "sub").mkdir()
    (directory / "sub" / "loop").symlink_to(directory)


def _netpol_file(kind: str, key: str, entry: dict[str, Any]) -> bytes:
    """netpol's own Expectations or Flows file, with one entry."""
    header = {"apiVersion": "netpol/v1alpha1", "kind": kind, "namespace": "app1-ns"}
    return dump({**header, key: [entry]})


def _expectation(name: str) -> bytes:
    entry = {"name": name, "from": "app1-ns/db-sts", "to": "frontend-svc", "port": 80}
    return _netpol_file("Expectations", "expectations", {**entry, "expect": "deny"})


def _flow(name: str) -> bytes:
    ends = {"from": {"workload": "frontend-deploy"}, "to": {"workload": "backend-deploy"}}
    return _netpol_file("Flows", "flows", {"name": name, **ends, "ports": ["5678/TCP"]})


def issue14_inputs() -> Iterator[HostileInput]:
    base = dump(base_docs())
    yield HostileInput(
        "issue14:selector-500-parens",
        "issue14",
        {"m.yaml": _calico("(" * 500 + "all()" + ")" * 500)},
    )
    yield HostileInput(
        "issue14:selector-1000-ors", "issue14", {"m.yaml": _calico("has(x) || " * 1000 + "all()")}
    )
    yield HostileInput(
        "issue14:selector-100k-nots", "issue14", {"m.yaml": _calico("!" * 100_000 + "all()")}
    )
    yield HostileInput(
        "issue14:lone-surrogate-json",
        "issue14",
        {
            "m.yaml": base,
            "ns.json": b'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\\ud800"}}',
        },
    )
    yield HostileInput(
        "issue14:nul-in-json-string",
        "issue14",
        {
            "m.yaml": base,
            "ns.json": b'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a\\u0000b"}}',
        },
    )
    yield HostileInput(
        "issue14:from-matrix-100k-deep",
        "issue14",
        {"m.yaml": base},
        matrix=b"[" * 100_000 + b"]" * 100_000,
    )
    yield HostileInput(
        "issue14:from-matrix-escapes",
        "issue14",
        {"m.yaml": base},
        matrix=json.dumps({"kind": ESCAPES, "pairs": [{"from": ESCAPES}]}).encode(),
        forged=True,
    )
    yield HostileInput(
        "issue14:http-server-superscript",
        "issue14",
        _with(_pod("p", command=["python3", "-m", "http.server", "²"])),
    )
    for name, extra in (
        ("pod-ip-leading-zeros", [_pod("p", "010.0.0.1")]),
        ("pod-ip-loopback", [_pod("p", "127.0.0.1")]),
        ("pod-ip-broadcast", [_pod("p", "255.255.255.255")]),
        ("pod-ip-duplicate", [_pod("p", "10.9.9.9"), _pod("q", "10.9.9.9")]),
        ("service-ports-null", [_service("s", {"ports": [None]})]),
        (
            "node-port-twice",
            [
                _service(n, {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]})
                for n in ("s1", "s2")
            ],
        ),
        (
            "cluster-ip-of-kube-dns",
            [_service("s", {"clusterIP": "10.96.0.10", "ports": [{"port": 53}]})],
        ),
    ):
        yield HostileInput(f"issue14:{name}", "issue14", _with(*extra))
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ESCAPES}}
    yield HostileInput("issue14:namespace-name-escapes", "issue14", _with(namespace), forged=True)
    labelled = _pod("p")
    labelled["metadata"]["labels"] = {"app": ESCAPES}
    yield HostileInput("issue14:label-value-escapes", "issue14", _with(labelled), forged=True)
    yield HostileInput(
        "issue14:expectation-name-escapes",
        "issue14",
        {"m.yaml": base},
        expectations=_expectation(ESCAPES),
        forged=True,
    )
    yield HostileInput(
        "issue14:flow-name-escapes", "issue14", {"m.yaml": base}, flows=_flow(ESCAPES), forged=True
    )
    yield HostileInput(
        "issue14:expectation-name-5mb",
        "issue14",
        {"m.yaml": base},
        expectations=_expectation("e" * 5_000_000),
    )
    yield HostileInput(
        "issue14:symlink-dev-zero", "issue14", {"m.yaml": base}, special=_symlink_to("/dev/zero")
    )
    yield HostileInput("issue14:fifo", "issue14", {"m.yaml": base}, special=_fifo)
    yield HostileInput("issue14:symlink-loop", "issue14", {"m.yaml": base}, special=_loop)


# -- the hand-written hostile files, and random splices ------------------------------------


def file_inputs() -> Iterator[HostileInput]:
    for name, content, _, _ in FILE_CASES:
        data = content if isinstance(content, bytes) else content.encode()
        yield HostileInput(f"file:{name}", "file", {name: data})


FRAGMENTS = [
    "[", "]", "{", "}", "- ", ": ", "\n", "  ", "&a ", "*a ", "'", '"', "\\", "#", "---\n",
    "kind: Pod\n", "apiVersion: v1\n", "metadata:\n  name: x\n", "<<: ", "? ", "!!str ",
    "|\n", ">\n", "\t", "\x00", "\ufeff", "items:", "kind: List\n", "1", "null", "~",
    "\x1b[2J", "\u202e", "podSelector: {}\n", "spec:\n", "ports: [{port: ",
]  # fmt: skip


def random_inputs(count: int = 40, seed: int = 14) -> Iterator[HostileInput]:
    rng = random.Random(seed)
    base = dump(base_docs()).decode()
    for i in range(count):
        fragment = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 40)))
        cut = rng.randint(0, len(base))
        text = base[:cut] + fragment + base[cut:]
        yield HostileInput(
            f"random:{i}", "random", {"m.yaml": text.encode("utf-8", "surrogatepass")}
        )


def all_inputs() -> list[HostileInput]:
    return [*file_inputs(), *mutation_inputs(), *issue14_inputs(), *random_inputs()]
