"""A local HTTP server that speaks enough of the Kubernetes REST API for netpol's live mode.

It binds 127.0.0.1 only, serves recorded ``kubectl get -o json`` listings as the API
server does (``<Kind>List`` without per-item kind/apiVersion, ``limit``/``continue``
pagination), checks a bearer token, and fails on request like a real one: 401 and 403
with a Status body, 404, 500, slow answers. Pods can be exec'd into over a websocket
(v4/v5.channel.k8s.io) with a scripted answer, and created and deleted (probe pods).
Tests drive it through the real ``kubernetes`` client and a real kubeconfig file.

A hostile mode (``hostile``, one of ``HOSTILE``, on the resource ``hostile_on``) makes it
behave as an attacker's server would: bodies or headers a byte at a time, continue tokens
that cycle or never end, the first page served again under a new token, JSON nested 100,000 deep, messages with terminal escapes, 5 MB
messages, bodies beyond any cap, and messages that echo the bearer token back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "live"
TOKEN = "netpol-test-token"
USER = "system:serviceaccount:default:netpol-reader"

# resource -> (API prefix, kind, namespaced). Built-in resources by their plural; those a
# CRD or an aggregated API server serves by their CRD's name, plural.group (the plural
# alone is ambiguous: Calico has networkpolicies too).
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("/api/v1", "Namespace", False),
    "nodes": ("/api/v1", "Node", False),
    "pods": ("/api/v1", "Pod", True),
    "services": ("/api/v1", "Service", True),
    "configmaps": ("/api/v1", "ConfigMap", True),
    "serviceaccounts": ("/api/v1", "ServiceAccount", True),
    "networkpolicies": ("/apis/networking.k8s.io/v1", "NetworkPolicy", True),
    "daemonsets": ("/apis/apps/v1", "DaemonSet", True),
    **{
        f"{plural}.policy.networking.k8s.io": (f"/apis/policy.networking.k8s.io/{v}", kind, False)
        for plural, kind, v in (
            ("adminnetworkpolicies", "AdminNetworkPolicy", "v1alpha1"),
            ("baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", "v1alpha1"),
            ("clusternetworkpolicies", "ClusterNetworkPolicy", "v1alpha2"),
        )
    },
    **{
        f"{plural}.{group}": (f"/apis/{group}/{version}", kind, namespaced)
        for group, version in (("projectcalico.org", "v3"), ("crd.projectcalico.org", "v1"))
        for plural, kind, namespaced in (
            ("tiers", "Tier", False),
            ("globalnetworkpolicies", "GlobalNetworkPolicy", False),
            ("networkpolicies", "NetworkPolicy", True),
        )
    },
    # Cilium's CRDs; CiliumCIDRGroup under both versions (v2 keyed apart, as v2.cilium.io)
    **{
        f"{plural}.cilium.io": ("/apis/cilium.io/v2", kind, namespaced)
        for plural, kind, namespaced in (
            ("ciliumnetworkpolicies", "CiliumNetworkPolicy", True),
            ("ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", False),
        )
    },
    "ciliumcidrgroups.cilium.io": ("/apis/cilium.io/v2alpha1", "CiliumCIDRGroup", False),
    "ciliumcidrgroups.v2.cilium.io": ("/apis/cilium.io/v2", "CiliumCIDRGroup", False),
}
GROUPS = {
    prefix: prefix.removeprefix("/api/v1").removeprefix("/apis/").rpartition("/")[0]
    for prefix, _, _ in RESOURCES.values()
}
# A served resource: (API prefix, plural) -> its key in RESOURCES
SERVED = {(prefix, key.partition(".")[0]): key for key, (prefix, _, _) in RESOURCES.items()}


def is_custom(key: str) -> bool:
    """Served from a CRD (or an aggregated API server): there only once installed."""
    return "." in key


ExecHandler = Callable[[dict[str, Any], list[str]], tuple[int | None, str, str]]
"""(the pod, command) -> (exit code, stdout, stderr); code None: the command cannot run."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]


@dataclass
class FakeApiServer:
    """State and knobs of the fake API server; ``url`` once started."""

    # key (see RESOURCES) -> items; a custom resource is served once it has a key here
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    version: dict[str, Any] = field(default_factory=dict)
    token: str = TOKEN
    forbidden: set[tuple[str, str]] = field(default_factory=set)  # (verb, resource or key)
    missing: set[str] = field(default_factory=set)  # resources that answer 404
    broken: set[str] = field(default_factory=set)  # resources that answer 500
    delay: float = 0.0  # seconds before each answer
    exec_handler: ExecHandler | None = None
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    pod_phase_after_create: str = "Running"
    expire_continue: int = 0  # answer this many continued lists with 410 Expired
    stuck_continue: bool = False  # answer a continued list with the token it was sent
    hostile: str = ""  # one of HOSTILE
    hostile_on: str = "pods"  # the resource (plural) that misbehaves
    trickle: float = 0.5  # seconds between the bytes of a slow answer

    # -- set-up ---------------------------------------------------------------------------

    @classmethod
    def from_fixtures(cls, *names: str) -> FakeApiServer:
        """Objects of the fixture files (``tutorial`` directory or ``cni/<name>.json``)."""
        server = cls()
        for name in names:
            path = FIXTURES / name
            files = sorted(path.glob("*.json")) if path.is_dir() else [path]
            for file in files:
                data = json.loads(file.read_text())
                if file.name == "version.json":
                    server.version = data
                    continue
                for item in data["items"]:
                    server.add(item)
        if not server.version:
            server.version = {"major": "1", "minor": "29", "gitVersion": "v1.29.2"}
        return server

    def add(self, item: dict[str, Any]) -> None:
        """Store ``item`` under its resource (by kind and apiVersion); installs its CRD."""
        prefix = "/api/v1" if item["apiVersion"] == "v1" else f"/apis/{item['apiVersion']}"
        key = next(
            k for k, (p, kind, _) in RESOURCES.items() if (p, kind) == (prefix, item["kind"])
        )
        self.objects.setdefault(key, []).append(item)

    def install(self, key: str) -> None:
        """Serve custom resource ``key`` (plural.group), as installing its CRD does."""
        assert is_custom(key), key
        self.objects.setdefault(key, [])

    def uninstall(self, group: str) -> None:
        """Stop serving every resource of API ``group`` (its CRDs or API server removed)."""
        for key in [k for k in self.objects if is_custom(k) and GROUPS[RESOURCES[k][0]] == group]:
            del self.objects[key]

    def kubeconfig(self, path: Path, token: str | None = None, context: str = "kind-kind") -> Path:
        """A real kubeconfig file for this server (plain HTTP on 127.0.0.1, token auth)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kind-kind", "cluster": {"server": self.url}}],
            "users": [{"name": "netpol-reader", "user": {"token": token or self.token}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": "kind-kind", "user": "netpol-reader"},
                },
                {
                    "name": "other",
                    "context": {"cluster": "kind-kind", "user": "netpol-reader"},
                },
            ],
            "current-context": context,
            "preferences": {},
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def verbs(self) -> set[str]:
        return {r.method for r in self.requests}

    # -- answers --------------------------------------------------------------------------

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.requests.append(Request(handler.command, url.path, query))
        if self.delay:
            time.sleep(self.delay)
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return _status(handler, 401, "Unauthorized", "Unauthorized")
        if url.path in ("/version", "/version/"):
            return _json(handler, 200, self.version)
        route = _route(url.path)
        if route is None:
            return _status(
                handler, 404, "NotFound", "the server could not find the requested resource"
            )
        group, resource, namespace, name, sub = route
        if self.hostile and resource == self.hostile_on and self.hostile not in PAGING:
            return _misbehave(self, handler)
        verb = _verb(handler.command, name, sub)
        key = SERVED.get((group, resource), "")
        if (
            resource in self.missing
            or key not in RESOURCES
            or (is_custom(key) and key not in self.objects)
        ):
            return _status(
                handler, 404, "NotFound", "the server could not find the requested resource"
            )
        if resource in self.broken:
            return _status(
                handler,
                500,
                "InternalError",
                f"Internal error occurred: etcdserver: request timed out listing {resource}",
            )
        rbac_resource = f"{resource}/{sub}" if sub else resource
        if {(verb, rbac_resource), (verb, resource), (verb, key)} & self.forbidden:
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            api_group = GROUPS[group]
            target = f' "{name}"' if name and not sub else ""
            return _status(
                handler,
                403,
                "Forbidden",
                f'{rbac_resource}{target} is forbidden: User "{USER}" cannot {verb} resource '
                f'"{resource}"'
                + (f"/{sub}" if sub else "")
                + f' in API group "{api_group}" {scope}',
                details={"kind": resource, **({"name": name} if name else {})},
            )
        if sub == "exec":
            return self.exec(handler, namespace or "", name or "", url.query)
        if handler.command == "POST":
            return self.create(handler, resource, namespace)
        if handler.command == "DELETE":
            return self.delete(handler, resource, namespace or "", name or "")
        items = [
            o
            for o in self.objects.get(key, [])
            if namespace is None or o["metadata"].get("namespace") == namespace
        ]
        if name is not None:
            for item in items:
                if item["metadata"]["name"] == name:
                    return _json(handler, 200, _served(item))
            return _status(
                handler,
                404,
                "NotFound",
                f'{resource} "{name}" not found',
                details={"name": name, "kind": resource},
            )
        return self.list(handler, key, items, query)

    def list(
        self,
        handler: BaseHTTPRequestHandler,
        resource: str,
        items: list[dict[str, Any]],
        query: dict[str, str],
    ) -> None:
        start = 0
        hostile_paging = self.hostile in PAGING and resource.partition(".")[0] == self.hostile_on
        if query.get("continue") and self.expire_continue > 0:
            self.expire_continue -= 1
            return _status(
                handler,
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list "
                "result. You can start a new list without the continue parameter.",
            )
        if query.get("continue") and not hostile_paging:  # hostile: the first page again
            try:
                start = int(base64.b64decode(query["continue"]).decode().split(":")[1])
            except (ValueError, IndexError):
                return _status(
                    handler, 410, "Expired", "The provided continue parameter is too old"
                )
        limit = int(query.get("limit") or 0) or len(items) or 1
        page = items[start : start + limit]
        if hostile_paging and query.get("continue") and self.hostile != "repeated-page":
            page = []  # empty pages, each with another token
        metadata: dict[str, Any] = {"resourceVersion": "48213"}
        if start + limit < len(items):
            metadata["continue"] = base64.b64encode(f"48213:{start + limit}".encode()).decode()
            metadata["remainingItemCount"] = len(items) - start - limit
        if self.stuck_continue and query.get("continue"):
            metadata["continue"] = query["continue"]
        if hostile_paging:  # never the end
            sent = query.get("continue")
            metadata["continue"] = (
                ("b" if sent == "a" else "a")
                if self.hostile == "cycling-continue"
                else f"page-{len(self.requests)}"
            )
        prefix, kind, _ = RESOURCES[resource]
        body = {
            "kind": f"{kind}List",
            "apiVersion": prefix.removeprefix("/api/").removeprefix("/apis/"),
            "metadata": metadata,
            # a custom resource's list keeps each item's kind and apiVersion
            "items": page if is_custom(resource) else [_served(i) for i in page],
        }
        return _json(handler, 200, body)

    def create(self, handler: BaseHTTPRequestHandler, resource: str, namespace: str | None) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}")
        prefix, kind, _ = RESOURCES[resource]
        body.setdefault("metadata", {})
        meta = body["metadata"]
        meta["namespace"] = namespace
        meta.setdefault("uid", hashlib.sha1(json.dumps(body).encode()).hexdigest()[:32])
        if not meta.get("name"):
            meta["name"] = (
                meta.get("generateName", "obj-")
                + hashlib.sha1(str(time.time()).encode()).hexdigest()[:5]
            )
        for existing in self.objects.get(resource, []):
            if (existing["metadata"]["name"], existing["metadata"].get("namespace")) == (
                meta["name"],
                namespace,
            ):
                return _status(
                    handler, 409, "AlreadyExists", f'{resource} "{meta["name"]}" already exists'
                )
        body["kind"], body["apiVersion"] = kind, prefix.removeprefix("/api/").removeprefix("/apis/")
        if kind == "Pod":
            ip = f"10.244.3.{10 + len(self.objects.get('pods', []))}"
            body["status"] = {
                "phase": self.pod_phase_after_create,
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "hostIP": "172.18.0.3",
            }
            body.setdefault("spec", {})["nodeName"] = "kind-worker"
        self.objects.setdefault(resource, []).append(body)
        return _json(handler, 201, _served(body))

    def delete(
        self, handler: BaseHTTPRequestHandler, resource: str, namespace: str, name: str
    ) -> None:
        kept = []
        found = None
        for item in self.objects.get(resource, []):
            if (item["metadata"]["name"], item["metadata"].get("namespace")) == (name, namespace):
                found = item
            else:
                kept.append(item)
        if found is None:
            return _status(handler, 404, "NotFound", f'{resource} "{name}" not found')
        self.objects[resource] = kept
        if resource == "configmaps":  # the garbage collector: dependents go with their owner
            uid = found["metadata"].get("uid")
            self.objects["pods"] = [
                p
                for p in self.objects.get("pods", [])
                if not any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])
            ]
        return _json(
            handler,
            200,
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"},
        )

    # -- exec over a websocket (what `kubectl exec` and the Python client use) -------------

    def exec(
        self, handler: BaseHTTPRequestHandler, namespace: str, pod: str, raw_query: str
    ) -> None:
        command = [v for k, v in urllib.parse.parse_qsl(raw_query) if k == "command"]
        if handler.headers.get("Upgrade", "").lower() != "websocket":
            return _status(handler, 400, "BadRequest", "Upgrade request required")
        offered = [p.strip() for p in handler.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        protocol = next(
            (p for p in ("v5.channel.k8s.io", "v4.channel.k8s.io") if p in offered), None
        )
        key = handler.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        ).decode()
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept)
        if protocol:
            handler.send_header("Sec-WebSocket-Protocol", protocol)
        handler.end_headers()
        handler.close_connection = True
        found = [
            p
            for p in self.objects.get("pods", [])
            if p["metadata"]["name"] == pod and p["metadata"].get("namespace") == namespace
        ]
        code: int | None
        if not found:
            code, out, err = None, "", f'pods "{pod}" not found'
        else:
            code, out, err = (self.exec_handler or _no_tools)(found[0], command)
        status = _exit_status(code, err)
        if code is None:
            err = ""
        wfile = handler.wfile
        if out:
            _frame(wfile, bytes([1]) + out.encode())
        if err:
            _frame(wfile, bytes([2]) + err.encode())
        _frame(wfile, bytes([3]) + json.dumps(status).encode())
        _frame(wfile, struct.pack("!H", 1000), opcode=0x8)
        wfile.flush()
        try:  # wait for the client's close frame, briefly
            handler.connection.settimeout(1.0)
            handler.connection.recv(64)
        except OSError:
            pass


PAGING = ("cycling-continue", "endless-continue", "repeated-page")
HOSTILE = (
    "slow-body",
    "slow-headers",
    *PAGING,
    "deep-json",
    "escapes-in-message",
    "echoed-token",
    "huge-message",
    "huge-body",
)
HUGE = 5_000_000  # bytes of a huge message or body


def _misbehave(server: FakeApiServer, handler: BaseHTTPRequestHandler) -> None:
    """Answer as ``server.hostile`` says; a client that hangs up ends a slow answer."""
    mode = server.hostile
    try:
        if mode == "slow-headers":
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}":
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(server.trickle)
        elif mode == "slow-body":
            body = json.dumps({"kind": "PodList", "items": []}).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for byte in body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(server.trickle)
        elif mode == "deep-json":
            body = ('{"items": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
            _raw(handler, 200, body)
        elif mode == "huge-body":
            _raw(handler, 200, b'{"items": [], "padding": "' + b"x" * HUGE + b'"}')
        else:
            message = {
                "escapes-in-message": "x\x1b]0;PWNED\x07\nerror: all good",
                "echoed-token": f"bad request from {handler.headers.get('Authorization')}",
                "huge-message": "y" * HUGE,
            }[mode]
            _status(handler, 500, "InternalError", message)
    except OSError:
        handler.close_connection = True


def _raw(handler: BaseHTTPRequestHandler, code: int, body: bytes) -> None:
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _no_tools(pod: dict[str, Any], command: list[str]) -> tuple[int | None, str, str]:
    """What the kubelet says for a distroless image: the command does not even start."""
    name = command[0] if command else ""
    return (
        None,
        "",
        "OCI runtime exec failed: exec failed: unable to start container process: exec: "
        f'"{name}": executable file not found in $PATH: unknown',
    )


def _exit_status(code: int | None, message: str) -> dict[str, Any]:
    if code is None:
        return {
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "InternalError",
            "details": {"causes": [{"message": message}]},
            "code": 500,
        }
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: exit status {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _frame(wfile: Any, payload: bytes, opcode: int = 0x2) -> None:
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([len(payload)])
    elif len(payload) < 65536:
        header += bytes([126]) + struct.pack("!H", len(payload))
    else:
        header += bytes([127]) + struct.pack("!Q", len(payload))
    wfile.write(header + payload)


def _served(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the API server puts it in a list: no kind, no apiVersion."""
    return {k: v for k, v in item.items() if k not in ("kind", "apiVersion")}


def _route(path: str) -> tuple[str, str, str | None, str | None, str | None] | None:
    """(API prefix, resource, namespace, name, subresource) of a resource path."""
    for prefix in GROUPS:
        if not path.startswith(prefix + "/"):
            continue
        parts = path[len(prefix) + 1 :].split("/")
        namespace = None
        if parts[0] == "namespaces" and len(parts) >= 3:
            namespace, parts = parts[1], parts[2:]
        if not parts or not parts[0]:
            return None
        resource = parts[0]
        name = parts[1] if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else None
        if resource == "namespaces" and namespace is None and name is not None:
            return prefix, resource, None, name, sub
        return prefix, resource, namespace, name, sub
    return None


def _verb(method: str, name: str | None, sub: str | None) -> str:
    if sub == "exec":  # websocket exec is a GET, authorized as create (Kubernetes 1.30+)
        return "create"
    return {"GET": "get" if name else "list", "POST": "create", "DELETE": "delete"}.get(
        method, method.lower()
    )


def _json(handler: BaseHTTPRequestHandler, code: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _status(
    handler: BaseHTTPRequestHandler,
    code: int,
    reason: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> None:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    _json(handler, code, body)


@contextmanager
def serve(server: FakeApiServer) -> Iterator[FakeApiServer]:
    """Run ``server`` on 127.0.0.1 (a free port) for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.answer(self)

        do_POST = do_DELETE = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up (a timeout test) is expected, not news

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
