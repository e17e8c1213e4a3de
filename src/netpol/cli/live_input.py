"""Live mode for every verb that reads a cluster: the flags, one read per command, the
CNI's profile, and a progress line on a terminal. ``common`` calls in here; nothing else does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from netpol.cli.progress import per_resource, progress_for_command
from netpol.model.options import Options
from netpol.model.safe_text import MESSAGE_LIMIT, visible

if TYPE_CHECKING:  # the live client is imported only when a command reads a live cluster
    from netpol.analysis.cni import CniReport
    from netpol.load.live import LiveCluster, LiveTarget

_CACHE_KEY = "netpol.live"


def live_options() -> list[Callable[[Any], Any]]:
    """--kubeconfig, --context, --live, --live-namespace, --request-timeout."""
    return [
        click.option(
            "--kubeconfig",
            type=click.Path(dir_okay=False),
            default=None,
            help="Read the live cluster of this kubeconfig (get and list only) instead of PATHs.",
        ),
        click.option(
            "--context", default=None, help="Live mode: the kubeconfig context (default: current)."
        ),
        click.option(
            "--live",
            is_flag=True,
            help="Read the live cluster of $KUBECONFIG, ~/.kube/config or, inside a pod, "
            "its service account.",
        ),
        click.option(
            "--live-namespace",
            multiple=True,
            metavar="NS",
            help="Live mode: read only this namespace (repeatable), for users with a "
            "namespaced Role; default: the whole cluster.",
        ),
        click.option(
            "--request-timeout",
            type=click.FloatRange(min=0.1),
            default=30.0,
            show_default=True,
            help="Live mode: seconds for each API request, from connecting to the last byte "
            "of the answer.",
        ),
    ]


def requested_target(params: dict[str, Any] | None = None) -> LiveTarget | None:
    """The live cluster the command line asks for, or None (read PATHs)."""
    if params is None:
        ctx = click.get_current_context(silent=True)
        params = ctx.params if ctx is not None else {}
    kubeconfig = params.get("kubeconfig")
    context = params.get("context")
    scope = tuple(params.get("live_namespace") or ())
    if not (kubeconfig or context or params.get("live") or scope):
        return None
    if params.get("paths"):
        raise click.UsageError("give PATHs or --kubeconfig/--context/--live, not both")
    from netpol.load.live import LiveTarget

    return LiveTarget(
        kubeconfig=kubeconfig,
        context=context,
        namespaces=scope,
        request_timeout=float(params.get("request_timeout") or 30.0),
        **(
            {"max_response_bytes": params["max_input_size"]} if params.get("max_input_size") else {}
        ),
    )


def live_cluster(target: LiveTarget) -> LiveCluster:
    """The cluster of ``target``, read once per command; a refusal exits 2 with one line."""
    ctx = click.get_current_context(silent=True)
    cache: dict[str, Any] = ctx.find_root().meta if ctx is not None else {}
    cached = cache.get(_CACHE_KEY)
    if cached is not None and cached[0] == target:
        return cached[1]
    from netpol.load.live import LiveError, read_cluster

    try:
        live = read_cluster(target, per_resource(progress_for_command()))
    except LiveError as exc:
        # a server's text: one line, cut, secrets masked
        click.echo(f"error: {visible(str(exc), MESSAGE_LIMIT)}", err=True)
        sys.exit(2)
    for note in live.notes:
        click.echo(f"note: {visible(note, MESSAGE_LIMIT)}", err=True)
    cache[_CACHE_KEY] = (target, live)
    return live


def cni_of(live: LiveCluster) -> CniReport:
    from netpol.analysis.cni import detect_cni

    return detect_cni(live.daemonsets, live.cni_pods())


def live_profile(params: dict[str, Any]) -> str | None:
    """In live mode, the profile of the cluster's CNI unless --profile was given; else None.

    Says on stderr which CNI was found, and when it does not enforce policies.
    """
    target = requested_target()
    if target is None:
        return None
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source("profile") if ctx is not None else None
    user_set = source is not None and source is not click.core.ParameterSource.DEFAULT
    from netpol.analysis.cni import choose_profile

    choice = choose_profile(
        cni_of(live_cluster(target)), user_set, params.get("profile") or Options().profile.name
    )
    if choice.warning:
        click.echo(f"warning: {choice.warning}", err=True)
    if choice.note:
        click.echo(f"note: {choice.note}", err=True)
    return choice.profile
