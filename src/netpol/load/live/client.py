"""Kubeconfig, context or in-cluster service account -> a configured ``kubernetes`` ApiClient.

The client is imported here and only here, when live mode is asked for: reading manifests
never needs it. Failures (no kubeconfig, unknown context, a broken file) are ``LiveError``s
whose text is the one line the CLI prints.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from typing import Any

import yaml

from netpol.load.live.bounded import BoundedPool
from netpol.load.paths import check_regular, read_text
from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Diagnostic
from netpol.model.options import MAX_INPUT_BYTES

DEFAULT_KUBECONFIG = "~/.kube/config"
# Pages of one listing: at the default 500 items a page, 500,000 objects of one kind, more
# than any cluster has; a server handing out ever new continue tokens stops here.
MAX_PAGES = 1000
# Seconds one listing may take, all its pages together, in request timeouts: a real listing of
# 200 pages ends in a minute or two; a server answering empty pages, each just before the
# request timeout, under ever new continue tokens would otherwise take MAX_PAGES of them.
LISTING_TIMEOUTS = 10
MIN_SECRET = 8
# Where a pod finds its service account (kubernetes.config.incluster_config uses the same).
SERVICE_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SERVICE_CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
IN_CLUSTER = "in-cluster"
# What a reader may send. Anything else (POST, PUT, PATCH, DELETE) is refused before it leaves
# the process unless the connection was opened for writing (only probe --probe-pods does).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LiveError(Exception):
    """A live cluster could not be read; ``str()`` is one line for the user.

    ``status`` is the HTTP status the API server answered with, if it answered.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class LiveTarget:
    """Which cluster to read and how: the user's flags, nothing resolved yet.

    ``kubeconfig`` None means $KUBECONFIG, then ~/.kube/config, then the in-cluster service
    account; ``namespaces`` empty means the whole cluster.
    """

    kubeconfig: str | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()
    request_timeout: float = 30.0  # seconds for each request, from connecting to its last byte
    page_size: int = 500
    max_response_bytes: int = MAX_INPUT_BYTES  # of each answer (--max-input-size)
    max_pages: int = MAX_PAGES  # of one listing
    listing_timeout: float | None = None  # seconds for all pages of one listing (None: see below)

    @property
    def listing_deadline(self) -> float:
        """Seconds one listing may take, all its pages: LISTING_TIMEOUTS request timeouts
        unless given."""
        if self.listing_timeout is not None:
            return self.listing_timeout
        return LISTING_TIMEOUTS * self.request_timeout


@dataclass(frozen=True)
class Connection:
    """A configured client and what to call the cluster in messages."""

    api: Any  # kubernetes.client.ApiClient
    server: str
    context: str  # the kubeconfig context, or "in-cluster"
    target: LiveTarget
    writes: bool = False  # True only for probe --probe-pods

    @property
    def where(self) -> str:
        return f"{self.server} (context {self.context})"

    def secrets(self) -> list[str]:
        """The credentials this connection sends (bearer token, password), longest first:
        what no message may repeat, even when a server echoes them back."""
        configuration = getattr(self.api, "configuration", None)
        keys = getattr(configuration, "api_key", None) or {}
        found = {str(v).removeprefix("Bearer ").strip() for v in keys.values() if v}
        found.add(str(getattr(configuration, "password", "") or ""))
        # a short one would mask ordinary words; real tokens are far longer
        return sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True)


def client_module() -> Any:
    """``kubernetes.client``, or a LiveError saying how to install it."""
    try:
        from kubernetes import client
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise LiveError(
            f"live mode needs the official Kubernetes client: pip install 'netpol[live]' ({exc})"
        ) from exc
    return client


def connect(target: LiveTarget, writes: bool = False) -> Connection:
    """A client for ``target``: kubeconfig (explicit, $KUBECONFIG, ~/.kube/config) or in-cluster.

    It sends only GET (HEAD, OPTIONS) unless ``writes``: any other verb is a LiveError."""
    client = client_module()
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    files = _kubeconfig_files(target.kubeconfig)
    try:
        if files is None:
            context = _in_cluster(configuration, target)
        else:
            context = _from_kubeconfig(configuration, files, target, config)
    except ConfigException as exc:
        where = os.pathsep.join(files) if files else "in-cluster service account"
        raise LiveError(f"kubeconfig {where}: {_first_line(exc)}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise LiveError(
            f"kubeconfig {os.pathsep.join(files or [])}: invalid YAML{line}: {problem}"
        ) from exc
    except (OSError, ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError) as exc:
        where = os.pathsep.join(files) if files else "in-cluster service account"
        raise LiveError(f"kubeconfig {where}: cannot use it: {_first_line(exc)}") from exc
    # Fail at once rather than retry: one clear line beats a long silent wait.
    configuration.retries = False
    api = client.ApiClient(configuration)
    rest = api.rest_client
    rest.pool_manager = BoundedPool(
        rest.pool_manager, target.max_response_bytes, target.request_timeout
    )
    if not writes:
        _read_only(api)
    return Connection(api, configuration.host, context, target, writes)


def _read_only(api: Any) -> None:
    """Make ``api`` refuse every request but a read: one guard for every method of every API."""
    send = api.call_api

    def call_api(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if str(method).upper() not in READ_METHODS:
            path = urllib.parse.urlsplit(str(url)).path
            raise LiveError(
                f"netpol refused to send {method} {path}: live mode only reads "
                "(get and list); only probe --probe-pods creates and deletes its probe pods"
            )
        return send(method, url, *args, **kwargs)

    api.call_api = call_api


def _kubeconfig_files(explicit: str | None) -> list[str] | None:
    """The kubeconfig files to merge, or None for the in-cluster service account; each a
    regular file of bounded size (the client reads them itself, after this check)."""
    files = _kubeconfig_paths(explicit)
    for path in files or ():
        problem = check_regular(path)
        if problem is not None:
            raise LiveError(f"kubeconfig {f'{problem.location}: {problem.message}'}")
    return files


def _kubeconfig_paths(explicit: str | None) -> list[str] | None:
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.exists(path):
            raise LiveError(f"kubeconfig {explicit}: no such file")
        return [path]
    env = os.environ.get("KUBECONFIG", "")
    listed = [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    if listed:
        present = [p for p in listed if os.path.isfile(p)]
        if not present:
            raise LiveError(f"KUBECONFIG={env}: no such file")
        return present
    default = os.path.expanduser(DEFAULT_KUBECONFIG)
    if os.path.isfile(default):
        return [default]
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    raise LiveError(
        "no kubeconfig: pass --kubeconfig PATH, set KUBECONFIG, create ~/.kube/config, "
        "or run inside a pod with a service account"
    )


def _from_kubeconfig(configuration: Any, files: list[str], target: LiveTarget, config: Any) -> str:
    # kubectl's merge rules, which the client's merger does not follow: an empty file is
    # an empty config (the client refuses it), and the first file that sets current-context
    # wins (the client lets the last one win, and so could read another cluster than kubectl).
    loaded = [(path, _read_yaml(path)) for path in files]
    files = [path for path, data in loaded if data is not None] or files[:1]
    current = next(
        (
            str(data["current-context"])
            for _, data in loaded
            if isinstance(data, dict) and data.get("current-context")
        ),
        None,
    )
    joined = os.pathsep.join(files)
    contexts, _ = config.list_kube_config_contexts(config_file=joined)
    names = [c.get("name") for c in contexts or [] if isinstance(c, dict)]
    context = target.context or current
    if target.context and target.context not in names:
        known = ", ".join(str(n) for n in names) or "none"
        raise LiveError(
            f'context "{target.context}" is not in kubeconfig {joined} (contexts: {known})'
        )
    if not context:
        raise LiveError(f"kubeconfig {joined} has no current-context: pass --context NAME")
    config.load_kube_config(
        config_file=joined,
        context=context,
        client_configuration=configuration,
        persist_config=False,
    )
    return str(context)


def _read_yaml(path: str) -> Any:
    """The first document of ``path``, read as manifests are (nesting and size bounded)."""
    text = read_text(path)
    if isinstance(text, Diagnostic):
        raise LiveError(f"kubeconfig {f'{text.location}: {text.message}'}")
    docs, problems = parse_text(text, path)
    if problems:
        raise LiveError(f"kubeconfig {f'{problems[0].location}: {problems[0].message}'}")
    return docs[0].data if docs else None


def _in_cluster(configuration: Any, target: LiveTarget) -> str:
    from kubernetes.config.incluster_config import InClusterConfigLoader

    if target.context:
        raise LiveError(
            "--context needs a kubeconfig; inside a pod there is only the service account"
        )
    InClusterConfigLoader(
        token_filename=SERVICE_TOKEN_FILE, cert_filename=SERVICE_CA_FILE
    ).load_and_set(configuration)
    return IN_CLUSTER


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
