"""``netpol snapshot``: save what live mode reads as manifests, to repeat the analysis offline."""

from __future__ import annotations

import datetime
import os

import click

from netpol.cli.common import EXIT_BAD_INPUT, fail
from netpol.cli.live_input import cni_of, live_cluster
from netpol.load.live import LiveCluster, LiveTarget
from netpol.load.live.snapshot import as_json, as_yaml, files_of, header, objects_of, summary


@click.command("snapshot")
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    default=None,
    help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).",
)
@click.option("--context", default=None, help="The kubeconfig context (default: current).")
@click.option(
    "-n",
    "--namespace",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Only this namespace (repeatable).",
)
@click.option("-A", "--all-namespaces", is_flag=True, help="Every namespace (the default).")
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each API request.",
)
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    metavar="DIR|FILE",
    help="A directory (one file per kind), a .yaml/.yml/.json file, or - for stdout.",
)
def command(
    kubeconfig: str | None,
    context: str | None,
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    request_timeout: float,
    output: str,
) -> None:
    """Read a live cluster (get and list only) and save it as manifests: Namespaces,
    Nodes, Pods (with their IPs, nodes and owners), Services, NetworkPolicies and, where
    the cluster has them, ServiceAccounts, admin and baseline policies and Calico's tiers
    and policies. Cilium's policies and CIDR groups are saved too. Every verb then gives
    offline what it gives live; attach the snapshot to a bug report.

    \b
    Examples:
      netpol snapshot --kubeconfig ~/.kube/config --context kind-kind -o snapshot/
      netpol matrix snapshot/ --by workload
      netpol snapshot -n app1-ns -o app1.yaml
    """
    if namespaces and all_namespaces:
        raise click.UsageError("-n/--namespace and -A/--all-namespaces exclude each other")
    target = LiveTarget(kubeconfig, context, namespaces, request_timeout)
    live = live_cluster(target)
    report = cni_of(live)
    cni = report.primary
    enforcement = {True: "enforces", False: "does NOT enforce", None: "may or may not enforce"}
    taken = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    where = output if output != "-" else "SNAPSHOT"
    lines = [
        f"CNI: {report.summary}, {enforcement[cni.enforces]} NetworkPolicy; profile {cni.profile}",
        f"Offline: netpol matrix {where} --profile {cni.profile}",
    ]
    top = header(live, taken, lines)
    if output == "-":
        click.echo(top + as_yaml(objects_of(live)), nl=False)
        return
    try:
        written = _write(output, live, top)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
        raise SystemExit(EXIT_BAD_INPUT) from exc
    click.echo(f"snapshot of {live.server} (context {live.context}): {summary(live)}")
    for path in written:
        click.echo(f"  wrote {path}")
    click.echo(f"  repeat offline: netpol matrix {output} --profile {cni.profile}")


def _write(output: str, live: LiveCluster, top: str) -> list[str]:
    lower = output.lower()
    if lower.endswith(".json"):
        _save(output, as_json(objects_of(live)))
        return [output]
    if lower.endswith((".yaml", ".yml")):
        _save(output, top + as_yaml(objects_of(live)))
        return [output]
    os.makedirs(output, exist_ok=True)
    written = []
    for file, objects in files_of(live):
        path = os.path.join(output, file.name)
        _save(path, top + as_yaml(objects))
        written.append(path)
    return written


def _save(path: str, text: str) -> None:
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
