"""Read-only calls (get, list) with pagination, and the API server's errors as one line each.

Lists are fetched as raw JSON (``_preload_content=False``): exactly what the API server
sends, without the client's slow model objects, and in the form the file loader reads.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netpol.load import jsontext
from netpol.load.live.bounded import RequestDeadline, ResponseTooLarge
from netpol.load.live.client import LISTING_TIMEOUTS, Connection, LiveError, client_module
from netpol.load.paths import format_size
from netpol.model.cilium import CCNP_KIND, CIDR_GROUP_KIND, CILIUM_GROUP, CNP_KIND

RBAC_DOC = "docs/rbac/netpol-reader.yaml"

# How often a listing whose continue token expired (410 Gone) starts again from the top.
EXPIRED_RESTARTS = 2

Progress = Callable[[str, int, bool], None]
"""Called as (resource, items so far, done) while a list is read."""


CUSTOM_OBJECTS = "CustomObjectsApi"


@dataclass(frozen=True, slots=True)
class Resource:
    """A listable kind: its API class and methods in the official client.

    A kind the client has no class for (one served from a CRD or an aggregated API
    server) is listed through ``CustomObjectsApi`` by group, version and plural; see
    ``custom_resource``."""

    name: str  # plural, as RBAC and kubectl name it
    kind: str
    api_version: str
    api: str  # the client's API class
    list_all: str  # cluster-wide (or cluster-scoped) list
    list_namespaced: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def namespaced(self) -> bool:
        return self.list_namespaced is not None

    @property
    def title(self) -> str:
        """How messages name it: ``pods``, or ``adminnetworkpolicies.policy.networking.k8s.io``
        where the plural alone is ambiguous or not a built-in (as ``kubectl get`` takes it)."""
        return f"{self.name}.{self.group}" if self.api == CUSTOM_OBJECTS else self.name

    def lister(self, conn: Connection, namespace: str | None) -> Callable[..., Any]:
        """The client method that lists it, in ``namespace`` or everywhere, with its
        positional arguments bound: call it with the paging keywords."""
        api = getattr(client_module(), self.api)(conn.api)
        method_name = self.list_all if namespace is None else self.list_namespaced
        assert method_name is not None, f"{self.name} is cluster-scoped"
        method = getattr(api, method_name)
        args: tuple[str, ...] = ()
        if self.api == CUSTOM_OBJECTS:
            group, _, version = self.api_version.rpartition("/")
            args = (group, version) + ((namespace,) if namespace else ()) + (self.name,)
        elif namespace is not None:
            args = (namespace,)
        return lambda **kwargs: method(*args, **kwargs)


def custom_resource(name: str, kind: str, api_version: str, namespaced: bool) -> Resource:
    """A kind served from a CRD or an aggregated API server (group/version ``api_version``)."""
    return Resource(
        name,
        kind,
        api_version,
        CUSTOM_OBJECTS,
        # for a namespaced kind, /apis/GROUP/VERSION/PLURAL lists every namespace
        "list_cluster_custom_object",
        "list_namespaced_custom_object" if namespaced else None,
    )


NAMESPACES = Resource("namespaces", "Namespace", "v1", "CoreV1Api", "list_namespace")
NODES = Resource("nodes", "Node", "v1", "CoreV1Api", "list_node")
PODS = Resource(
    "pods", "Pod", "v1", "CoreV1Api", "list_pod_for_all_namespaces", "list_namespaced_pod"
)
SERVICES = Resource(
    "services",
    "Service",
    "v1",
    "CoreV1Api",
    "list_service_for_all_namespaces",
    "list_namespaced_service",
)
NETWORK_POLICIES = Resource(
    "networkpolicies",
    "NetworkPolicy",
    "networking.k8s.io/v1",
    "NetworkingV1Api",
    "list_network_policy_for_all_namespaces",
    "list_namespaced_network_policy",
)
DAEMON_SETS = Resource(
    "daemonsets",
    "DaemonSet",
    "apps/v1",
    "AppsV1Api",
    "list_daemon_set_for_all_namespaces",
    "list_namespaced_daemon_set",
)
SERVICE_ACCOUNTS = Resource(
    "serviceaccounts",
    "ServiceAccount",
    "v1",
    "CoreV1Api",
    "list_service_account_for_all_namespaces",
    "list_namespaced_service_account",
)
# The Network Policy API's cluster-wide tiers (CRDs of sigs.k8s.io/network-policy-api)
ADMIN_POLICIES = (
    custom_resource(
        "adminnetworkpolicies", "AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", False
    ),
    custom_resource(
        "baselineadminnetworkpolicies",
        "BaselineAdminNetworkPolicy",
        "policy.networking.k8s.io/v1alpha1",
        False,
    ),
    custom_resource(
        "clusternetworkpolicies", "ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2", False
    ),
)


def calico_resources(api_version: str) -> tuple[Resource, ...]:
    """Calico's tiers and policies as served at ``api_version``: its API server's
    ``projectcalico.org/v3``, or the CRDs they are stored in, ``crd.projectcalico.org/v1``."""
    return (
        custom_resource("tiers", "Tier", api_version, False),
        custom_resource("globalnetworkpolicies", "GlobalNetworkPolicy", api_version, False),
        custom_resource("networkpolicies", "NetworkPolicy", api_version, True),
    )


CALICO_API = calico_resources("projectcalico.org/v3")
CALICO_CRDS = calico_resources("crd.projectcalico.org/v1")

# Cilium's policies (its CRDs, docs/cilium.md): the one version every release serves
CILIUM_POLICIES = (
    custom_resource("ciliumnetworkpolicies", CNP_KIND, f"{CILIUM_GROUP}/v2", True),
    custom_resource("ciliumclusterwidenetworkpolicies", CCNP_KIND, f"{CILIUM_GROUP}/v2", False),
)
# CiliumCIDRGroup began in v2alpha1 and is also served as v2 by recent releases; either
# version holds the same objects, so the first one served is read
CILIUM_CIDR_GROUPS = tuple(
    custom_resource("ciliumcidrgroups", CIDR_GROUP_KIND, f"{CILIUM_GROUP}/{version}", False)
    for version in ("v2alpha1", "v2")
)


def list_items(
    conn: Connection,
    resource: Resource,
    namespace: str | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Every item of ``resource`` (in ``namespace``, or all), page by page (limit/continue)."""
    method = resource.lister(conn, namespace)
    scope = f' in namespace "{namespace}"' if namespace else ""
    items: list[dict[str, Any]] = []
    token: str | None = None
    seen: set[str] = set()  # every continue token of this listing: one again is a cycle
    listed: set[tuple[str, ...] | None] = set()  # identities of the objects listed so far
    restarts = pages = 0
    # checked before each page, so a listing ends within its deadline plus one request
    deadline = time.monotonic() + conn.target.listing_deadline
    while True:
        pages += 1
        if pages > conn.target.max_pages:
            raise LiveError(
                f"the API server at {conn.server} kept paging list {resource.title}{scope}: "
                f"stopped after {conn.target.max_pages} pages of {conn.target.page_size}, "
                "more than any cluster needs"
            )
        if pages > 1 and time.monotonic() > deadline:
            raise LiveError(
                f"the API server at {conn.server} kept paging list {resource.title}{scope}: "
                f"stopped after {_deadline_text(conn)} and {pages - 1} pages"
            )
        kwargs: dict[str, Any] = {
            "limit": conn.target.page_size,
            "_preload_content": False,
            "_request_timeout": conn.target.request_timeout,
        }
        if token:
            kwargs["_continue"] = token
        try:
            body = call(conn, "list", resource.title + scope, _bound(method, kwargs))
        except LiveError as exc:
            # 410: the continue token outlived the server's compaction window (about five
            # minutes on a busy etcd). A fresh, consistent list is what kubectl would do.
            if exc.status != 410 or not token or restarts >= EXPIRED_RESTARTS:
                raise
            restarts += 1
            items, token = [], None
            seen.clear()
            listed.clear()
            continue
        page = body.get("items")
        if not isinstance(page, list):
            raise LiveError(
                f"the API server at {conn.server} answered list {resource.title}{scope} "
                "without an items list"
            )
        fresh = [i for i in page if isinstance(i, dict)]
        identities = {_identity(i) for i in fresh} - {None}
        if listed & identities:
            # A consistent listing never sends an object twice: a server that ignores the
            # continue token (and mints a new one each time) is serving a page again.
            raise LiveError(
                f"the API server at {conn.server} answered list {resource.title}{scope} with "
                "objects it had already sent, so the listing would never end"
            )
        items += fresh
        listed |= identities
        metadata = body.get("metadata")
        previous, token = token, metadata.get("continue") if isinstance(metadata, dict) else None
        if token and token in seen:
            # A server (or proxy) that hands back a token it gave before would page forever.
            again = "it was sent" if token == previous else "it had sent before"
            raise LiveError(
                f"the API server at {conn.server} answered list {resource.title}{scope} with "
                f"the continue token {again}, so the listing would never end"
            )
        if token:
            seen.add(token)
        if progress is not None:
            progress(resource.title, len(items), not token)
        if not token:
            return items


def _deadline_text(conn: Connection) -> str:
    seconds = f"{conn.target.listing_deadline:g}s"
    if conn.target.listing_timeout is None:
        return f"{seconds} ({LISTING_TIMEOUTS} times --request-timeout)"
    return seconds


def _identity(item: dict[str, Any]) -> tuple[str, ...] | None:
    """What tells one listed object from another: its uid, else its namespace and name."""
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        return None
    if metadata.get("uid"):
        return ("uid", str(metadata["uid"]))
    if metadata.get("name"):
        return ("name", str(metadata.get("namespace") or ""), str(metadata["name"]))
    return None


def _bound(method: Callable[..., Any], kwargs: dict[str, Any]) -> Callable[[], Any]:
    return lambda: method(**kwargs)


def get_namespace(conn: Connection, name: str) -> dict[str, Any]:
    """One Namespace by name (get): what a namespace-scoped reader may still see."""
    api = client_module().CoreV1Api(conn.api)
    return call(
        conn,
        "get",
        f'namespace "{name}"',
        lambda: api.read_namespace(
            name, _preload_content=False, _request_timeout=conn.target.request_timeout
        ),
    )


def get_version(conn: Connection) -> dict[str, Any]:
    """GET /version: the server's build (gitVersion)."""
    api = client_module().VersionApi(conn.api)
    return call(
        conn,
        "get",
        "version",
        lambda: api.get_code(_preload_content=False, _request_timeout=conn.target.request_timeout),
    )


TIERED_NEEDS = (
    "serviceaccounts, adminnetworkpolicies, baselineadminnetworkpolicies, "
    "clusternetworkpolicies, Calico's tiers, networkpolicies, globalnetworkpolicies and "
    "Cilium's ciliumnetworkpolicies, ciliumclusterwidenetworkpolicies, ciliumcidrgroups"
)
READ_NEEDS = (
    "netpol needs get and list on namespaces, nodes, pods, services, networkpolicies; for "
    f"tiered policies also on {TIERED_NEEDS} ({RBAC_DOC})"
)


def call(
    conn: Connection,
    verb: str,
    what: str,
    request: Callable[[], Any],
    needs: str = READ_NEEDS,
) -> dict[str, Any]:
    """Run one request; the JSON object it returns, or a LiveError naming verb and resource.

    ``needs`` is what a 403 adds: the RBAC the caller requires."""
    import urllib3
    from kubernetes.client.exceptions import ApiException

    try:
        response = request()
        data = response.data
    except ApiException as exc:
        status = int(getattr(exc, "status", 0) or 0) or None
        raise LiveError(_api_error(conn, verb, what, exc, needs), status) from exc
    except RequestDeadline as exc:
        raise LiveError(_timeout(conn, verb, what)) from exc
    except ResponseTooLarge as exc:
        cap = format_size(exc.cap)
        raise LiveError(
            f"the API server at {conn.server} answered {verb} {what} with more than {cap} "
            f"(--max-input-size {cap})"
        ) from exc
    except urllib3.exceptions.NewConnectionError as exc:  # a ConnectTimeoutError subclass
        raise LiveError(f"cannot reach the API server at {conn.where}: {_reason(exc)}") from exc
    except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
        raise LiveError(_timeout(conn, verb, what)) from exc
    except urllib3.exceptions.MaxRetryError as exc:
        if isinstance(exc.reason, urllib3.exceptions.TimeoutError) and not isinstance(
            exc.reason, urllib3.exceptions.NewConnectionError
        ):
            raise LiveError(_timeout(conn, verb, what)) from exc
        raise LiveError(f"cannot reach the API server at {conn.where}: {_reason(exc)}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise LiveError(f"cannot reach the API server at {conn.where}: {_reason(exc)}") from exc
    try:
        body = jsontext.loads(data)
    except jsontext.JsonDepthError as exc:
        raise LiveError(
            f"the API server at {conn.server} answered {verb} {what} with JSON nested deeper "
            f"than {jsontext.MAX_JSON_DEPTH} levels"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise LiveError(
            f"the API server at {conn.server} answered {verb} {what} with something that is "
            "not JSON"
        ) from exc
    if not isinstance(body, dict):
        raise LiveError(f"the API server at {conn.server} answered {verb} {what} with no object")
    return body


def _api_error(conn: Connection, verb: str, what: str, exc: Any, needs: str) -> str:
    status = int(getattr(exc, "status", 0) or 0)
    reason = server_text(conn, str(getattr(exc, "reason", "") or ""), MAX_REASON)
    body = _status_message(getattr(exc, "body", None))
    message = server_text(conn, body, MAX_MESSAGE) if body else reason or "no message"
    code = f"{status} {reason}".strip()
    if status == 401:
        return (
            f"the API server at {conn.where} rejected the credentials "
            f"({code}): {message}; log in again or check the user in the kubeconfig"
        )
    if status == 403:
        return f"the API server refused to {verb} {what} ({code}): {message}; {needs}"
    if status == 404:
        return f"the API server at {conn.server} has no {what} to {verb} ({code}): {message}"
    if status == 410:
        return (
            f"the API server expired the listing of {what} before netpol finished ({code}): "
            f"{message}; try again"
        )
    if status == 0:
        return f"cannot reach the API server at {conn.where}: {_reason(exc)}"
    return f"the API server at {conn.server} failed to {verb} {what} ({code}): {message}"


def _timeout(conn: Connection, verb: str, what: str) -> str:
    seconds = f"{conn.target.request_timeout:g}"
    return (
        f"the API server at {conn.where} did not answer {verb} {what} within {seconds}s "
        "(--request-timeout)"
    )


def _status_message(body: Any) -> str:
    """The ``message`` of a Kubernetes Status body (raw, see ``server_text``)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return ""
    try:
        data = jsontext.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return ""


# How much of what a server says netpol repeats: enough for any real Status message
MAX_MESSAGE = 300
MAX_REASON = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def server_text(conn: Connection, text: str, limit: int) -> str:
    """What a server said, safe to repeat on one line: the credentials netpol sent masked
    (a server may echo them), whitespace runs as one space, other control characters
    shown as ``\\xNN``, and cut to ``limit`` characters with ``...(N bytes)``."""
    for secret in conn.secrets():
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if len(text) > limit:
        text = f"{text[:limit]}...({len(text.encode())} bytes)"
    return text


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _reason(exc: BaseException) -> str:
    """What went wrong on the wire, without urllib3's object reprs."""
    reason = getattr(exc, "reason", None)
    text = str(reason if isinstance(reason, BaseException) else exc)
    found = _ERRNO.search(text)
    if found:
        return found.group(1).strip().rstrip(".").lower()
    text = text.rsplit(">: ", 1)[-1]
    return " ".join(text.split())[:200] or type(exc).__name__
