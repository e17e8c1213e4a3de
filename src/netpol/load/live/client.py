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

DEFAULT_KUBECONFIG = "~/.kube/config"
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
    request_timeout: float = 30.0
    page_size: int = 500


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
    """The kubeconfig files to merge, or None for the in-cluster service account."""
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
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
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


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
