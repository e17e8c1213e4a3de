"""netpol reads YAML exactly as kubectl does, proved against a real kubectl.

Each row of the corpus is one scalar spelling in one place of an object (a label value, a
label key, a name, a port), or a whole stream (anchors, merges, several documents). The
text goes to ``kubectl create --dry-run=client -o json --validate=false -f FILE``, which
prints the objects as kubectl read them (or the decode error it stops on); netpol's
reader (``parse_text``, then the API server's checks) must read the same JSON, or refuse
where kubectl refuses.

kubectl maps kinds to resources through API discovery even for a client-side dry run, so
a tiny HTTP server on 127.0.0.1 serves only discovery (``/version``, ``/api``, ``/apis``
and the group-version documents) and a kubeconfig in tmp_path points at it. Nothing else
is contacted: ``--validate=false`` skips the OpenAPI download, ``--dry-run=client`` the
create, ``--cache-dir`` keeps the discovery cache in tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Severity
from netpol.validate.documents import validate_document

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="no kubectl on PATH to compare with")

# -- the places a spelling goes (every object names its namespace: kubectl adds "default") --

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: default
  labels:
    {label_key}: {label_value}
spec:
  containers:
  - name: c
    image: nginx
    ports:
    - containerPort: {port}
"""
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: default
spec:
  podSelector: {{}}
  ingress:
  - ports:
    - port: {port}
"""
DEFAULTS = {"name": "web", "label_key": "app", "label_value": "web", "port": "80"}
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: default
spec:
  selector: {{app: web}}
  ports:
  - port: 80
    targetPort: {port}
"""
PLACES = {
    "label value": (POD, "label_value"),
    "label key": (POD, "label_key"),
    "name": (POD, "name"),
    "container port": (POD, "port"),
    "policy port": (POLICY, "port"),
    "service target port": (SERVICE, "port"),
}

SPELLINGS = [
    # booleans of YAML 1.1, which go-yaml v2 (kubectl's reader) still reads
    "y",
    "n",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "True",
    # numbers in Go's and YAML 1.1's many spellings
    "1e3",
    "0x1F",
    "0o17",
    "017",
    "08",
    "0b101",
    "1_000",
    "+80",
    ".5",
    "80.0",
    "1:30",
    ".inf",
    "-.Inf",
    ".nan",
    "1e400",
    # nulls
    "~",
    "null",
    "",
    # quoted and tagged: always strings
    '"y"',
    "'on'",
    '"1e3"',
    '"80"',
    "!!str 80",
    # words that look special to some reader
    "2001-12-14",
    "2001-12-14T21:59:43.10-05:00",
    "=",
    "<<",
    # more number spellings at the edges of Go's parsers
    "0x_1F",
    "1__000",
    "-0",
    "+.5",
    "0.",
    "0b",
    "0xG",
    "1e",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "!!int 80",
    "!!float 80",
    '!!int "80"',
    "!!bool yes",
    "!!null ''",
    # strings with YAML's indicators inside
    "a:b",
    "a #b",
    "'a''b'",
    '"\\x41"',
]
# rows where a place cannot hold a spelling at all in YAML (an empty key): left out
UNWRITABLE = {("label key", "")}


@dataclass(frozen=True)
class Row:
    id: str
    text: str


def place_rows() -> list[Row]:
    rows = []
    for place, (template, slot) in PLACES.items():
        for spelling in SPELLINGS:
            if (place, spelling) in UNWRITABLE:
                continue
            text = template.format(**{**DEFAULTS, slot: spelling})
            rows.append(Row(f"{place}: {spelling or '(empty)'}", text))
    return rows


STREAMS = [
    Row(
        "anchor and alias: labels reused as the selector",
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: &labels {app: web, tier: y}}
spec:
  selector: {matchLabels: *labels}
  template:
    metadata: {labels: *labels}
    spec: {containers: [{name: c, image: nginx}]}
""",
    ),
    Row(
        "merge key: labels extended",
        """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels:
    <<: &base {app: web, tier: front}
    tier: back
spec: {containers: [{name: c, image: nginx}]}
""",
    ),
    Row(
        "merge key: a list of maps, the first wins",
        """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels:
    <<: [{a: "1"}, {a: "2", b: "3"}]
spec: {containers: [{name: c, image: nginx}]}
""",
    ),
    Row(
        "number and boolean keys",
        """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  annotations: {80: a, y: b, 1e3: c, 0x1F: d, ~: e}
spec: {containers: [{name: c, image: nginx}]}
""",
    ),
    Row(
        "number key beyond a signed 64-bit integer",
        """\
apiVersion: v1
kind: Namespace
metadata:
  name: a
  annotations: {12345678901234567890: s}
""",
    ),
    Row(
        "number keys at the edges of a 64-bit integer",
        """\
apiVersion: v1
kind: Namespace
metadata:
  name: a
  annotations: {9223372036854775807: a, -9223372036854775808: b, -9223372036854775809: c}
""",
    ),
    Row(
        "float keys, written as Go writes a float32",
        """\
apiVersion: v1
kind: Namespace
metadata:
  name: a
  annotations:
    {1e6: a, 1234567.5: b, 0.00001: c, 80.0: d, -0.0: e, 3.14159265358979: f, 1e300: g,
     08: h, 1_000.5: i, -.Inf: k, .nan: l, 16777217.0: m}
""",
    ),
    Row(
        "multi-document stream: empty documents and an end marker",
        """\
---
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
...
---
apiVersion: v1
kind: Namespace
metadata: {name: "n"}
---
""",
    ),
    Row(
        "duplicate key",
        """\
apiVersion: v1
kind: Namespace
metadata: {name: a, name: b}
""",
    ),
    Row(
        "JSON document with integers beyond int64 (read by the JSON reader: a tab)",
        '\t{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": '
        '"default"}, "spec": {"ports": [{"port": 80, "targetPort": 9223372036854775808}, '
        '{"port": 81, "targetPort": -9223372036854775809}, {"port": 82, "targetPort": 7}]}}\n',
    ),
    Row(
        "JSON document",
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "1e3"}}}\n',
    ),
]


# -- the discovery server ----------------------------------------------------------------

RESOURCES = {  # group/version -> [(plural, kind, namespaced)]
    "v1": [
        ("namespaces", "Namespace", False),
        ("pods", "Pod", True),
        ("services", "Service", True),
    ],
    "apps/v1": [("deployments", "Deployment", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
}


def discovery_documents() -> dict[str, dict[str, Any]]:
    """Path -> JSON body: what an API server answers to kubectl's discovery requests."""
    docs: dict[str, dict[str, Any]] = {
        "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0"},
        "/api": {"kind": "APIVersions", "versions": ["v1"]},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    }
    for group_version, resources in RESOURCES.items():
        group, _, version = group_version.rpartition("/")
        prefix = f"/apis/{group_version}" if group else f"/api/{version}"
        docs[prefix] = {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": [
                {
                    "name": plural,
                    "singularName": kind.lower(),
                    "namespaced": namespaced,
                    "kind": kind,
                    "verbs": ["create", "get", "list"],
                }
                for plural, kind, namespaced in resources
            ],
        }
        if group:
            found = {"groupVersion": group_version, "version": version}
            docs["/apis"]["groups"].append(
                {"name": group, "versions": [found], "preferredVersion": found}
            )
    return docs


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    documents = discovery_documents()

    class Discovery(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path.partition("?")[0])
            if body is None:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    path = tmp_path_factory.mktemp("kubectl") / "kubeconfig"
    url = f"http://127.0.0.1:{server.server_address[1]}"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "discovery", "cluster": {"server": url}}],
                "users": [{"name": "nobody", "user": {}}],
                "contexts": [
                    {"name": "discovery", "context": {"cluster": "discovery", "user": "nobody"}}
                ],
                "current-context": "discovery",
            }
        )
    )
    try:
        yield path
    finally:
        server.shutdown()
        server.server_close()


# -- the two readers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """The objects read, as JSON values, or None and the reason the reader refused."""

    objects: list[Any] | None
    refusal: str = ""


def kubectl_reads(text: str, kubeconfig: Path, workdir: Path) -> Reading:
    assert KUBECTL is not None
    manifest = workdir / "manifest.yaml"
    manifest.write_text(text)
    done = subprocess.run(
        [
            KUBECTL,
            "create",
            "--dry-run=client",
            "--validate=false",
            "-o",
            "json",
            "--cache-dir",
            str(workdir / "cache"),
            "-f",
            str(manifest),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(workdir)},
    )
    if done.returncode != 0:
        return Reading(None, done.stderr.strip())
    # kubectl prints a float64 that holds an integer beyond int64 as its shortest digits
    # (2**63 as 9223372036854776000): read it back as the float64 it is
    decoder = json.JSONDecoder(parse_int=_json_int)
    objects, at, out = [], 0, done.stdout
    while out[at:].strip():
        at += len(out[at:]) - len(out[at:].lstrip())
        value, at = decoder.raw_decode(out, at)
        objects.append(value)
    return Reading(objects)


def _json_int(text: str) -> int | float:
    number = int(text)
    return number if -(2**63) <= number < 2**63 else float(number)


def netpol_reads(text: str) -> Reading:
    """The documents as netpol's reader gives them; refused on a parse error or where the
    API server's decoder refuses a field's type (BadRequest), as kubectl's decoder does
    for metadata. (kubectl --validate=false does not decode the rest of an object, so a
    spec field of the wrong type is only compared as read, not as refused.)"""
    docs, problems = parse_text(text, "manifest.yaml")
    if problems:
        return Reading(None, "; ".join(p.one_line() for p in problems))
    decode_errors = [
        p.one_line()
        for doc in docs
        for p in validate_document(doc)
        if p.severity is Severity.ERROR and p.reason == "BadRequest" and "metadata" in p.field
    ]
    objects = [json.loads(json.dumps(doc.data)) for doc in docs]
    return Reading(objects, "; ".join(decode_errors))


ROWS = place_rows() + STREAMS
# Rows where netpol refuses what kubectl --validate=false reads, on purpose: kubectl's
# default --validate=strict has the API server refuse them ("duplicate field"), and the
# last of two values is rarely what the author meant (a policy with two ingress keys).
STRICTER = {"duplicate key"}


@pytest.fixture(scope="module")
def kubectl_readings(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Reading]:
    """kubectl's reading of every row, four at a time (each run is ~0.2 s of start-up)."""

    def one(row: Row) -> tuple[str, Reading]:
        workdir = tmp_path_factory.mktemp("row")
        return row.id, kubectl_reads(row.text, kubeconfig, workdir)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, ROWS))


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_netpol_reads_what_kubectl_reads(row: Row, kubectl_readings: dict[str, Reading]) -> None:
    theirs = kubectl_readings[row.id]
    ours = netpol_reads(row.text)
    if row.id in STRICTER:
        assert theirs.objects is not None, f"kubectl now refuses too: {theirs.refusal}"
        assert ours.objects is None, f"netpol reads {ours.objects}"
    elif theirs.objects is None:
        assert ours.objects is None or ours.refusal, (
            f"kubectl refuses ({theirs.refusal}), netpol reads {ours.objects}"
        )
    else:
        assert ours.objects == theirs.objects, f"netpol: {ours.refusal or ours.objects}"
        assert not ours.refusal, f"kubectl reads {theirs.objects}, netpol refuses"
