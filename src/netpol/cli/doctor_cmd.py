"""``netpol doctor``: which CNI runs, whether it enforces NetworkPolicy, and what that means."""

from __future__ import annotations

from typing import Any

import click

from netpol.analysis.cni import detect_cni_in_cluster
from netpol.analysis.doctor import diagnose
from netpol.cli.common import (
    echo_document,
    input_options,
    load_or_exit,
    options_from,
    output_option,
)
from netpol.cli.live_input import cni_of, live_cluster, requested_target
from netpol.render.doctor import doctor_text


@click.command("doctor")
@input_options
@output_option("text", "json", "yaml", default="text")
def command(paths: tuple[str, ...], output: str, **params: Any) -> None:
    """Name the cluster's CNI, whether it enforces NetworkPolicy (kindnet before KIND v0.24
    and flannel do not), the profile that matches it, the Kubernetes version, and what the
    policies mean there. Live (--kubeconfig) or on manifests and snapshots (CNI from the
    DaemonSet pods they hold).

    \b
    Examples:
      netpol doctor --kubeconfig ~/.kube/config --context kind-kind
      netpol doctor snapshot/
    """
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    target = requested_target()
    if target is not None:
        live = live_cluster(target)
        report = cni_of(live)
        where: dict[str, Any] = {
            "server": live.server,
            "context": live.context,
            "version": live.version,
            "scope": list(live.scope),
        }
    else:
        report = detect_cni_in_cluster(cluster)
        where = {
            "server": None,
            "context": None,
            "version": None,
            "scope": [],
            "paths": list(paths),
        }
    found = diagnose(cluster, options, report, where)
    if output in ("json", "yaml"):
        echo_document(found, output)
    else:
        click.echo(doctor_text(found))
