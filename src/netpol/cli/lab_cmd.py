"""``netpol lab``: the same policies on real packets, in network namespaces and nftables."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import click

from netpol.cli.common import (
    EXIT_CHECK_FAILED,
    fail,
    input_options,
    options_from,
    parse_port_options,
)
from netpol.lab import inventory, lifecycle, truth
from netpol.lab.names import DEFAULT_LAB
from netpol.lab.probe import ProbeReport
from netpol.lab.state import load as load_state
from netpol.lab.system import CommandNotRunnable, LabError, check_runnable, enter_uts
from netpol.lab.view import LabInputError
from netpol.model.cluster import Cluster

F = TypeVar("F", bound=Callable[..., Any])


def name_option(func: F) -> F:
    return click.option(
        "--name",
        "lab",
        default=DEFAULT_LAB,
        show_default=True,
        help="Which lab (several can run side by side).",
    )(func)


def found_name_option(func: F) -> F:
    return click.option(
        "--name",
        "lab",
        default=None,
        help="Which lab [default: the only one on this host].",
    )(func)


def _policies_text(cluster: Cluster) -> str:
    """``3 policies`` or ``3 policies + 6 admin/baseline/Calico policies``."""
    text = f"{len(cluster.policies)} policies"
    if cluster.tiered_policies:
        text += f" + {len(cluster.tiered_policies)} admin/baseline/Calico policies"
    if cluster.cilium_policies:
        text += f" + {len(cluster.cilium_policies)} Cilium policies"
    return text


def _say(line: str) -> None:
    click.echo(line, err=True)


def _fail(exc: LabError) -> NoReturn:
    if isinstance(exc, LabInputError):
        for diagnostic in exc.diagnostics:
            click.echo(diagnostic.text(), err=True)
    fail(str(exc))


def _terminate_as_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C, so a half-made lab is removed on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@click.group("lab")
def command() -> None:
    """A sandbox that enforces the policies on real packets: a network namespace per pod,
    real listeners, Service VIPs with DNAT, cluster DNS, and one nftables table compiled
    from the engine's policies. Needs root, iproute2 and nftables; the host's own network
    is never touched.

    \b
    Examples:
      netpol lab up examples/three-tier
      netpol lab list
      netpol lab probe
      netpol lab exec app1-ns/frontend-deploy -- curl -s backend-svc:5678
      netpol lab apply examples/three-tier/05-revised-backend-netpol.yaml
      netpol lab down
    """


@command.command("up")
@input_options
@name_option
@click.option(
    "--run-commands",
    is_flag=True,
    help="Run the containers' own commands (as root, from the manifests: only for input you trust).",
)
def up_cmd(paths: tuple[str, ...], lab: str, run_commands: bool, **params: Any) -> None:
    """Create a lab from manifests: pods, Services, DNS, and the policies in force.

    \b
    Example:
      netpol lab up examples/three-tier --name tut
    """
    if params.get("skip_invalid"):
        fail("the lab runs valid objects only: fix or remove the invalid ones")
    if run_commands:
        _say("warning: --run-commands: the containers' commands from the manifests run as root")
    _terminate_as_interrupt()
    try:
        view = lifecycle.up(paths, lab, options_from(params), run_commands, say=_say)
    except LabError as exc:
        _fail(exc)
    for note in view.notes:
        _say(f"note: {note}")
    state = load_state(lab)
    rules = state.rules if state else 0
    click.echo(
        f"lab {lab} is up: {len(view.pods)} pods, {len(view.cluster.services)} services, "
        f"{_policies_text(view.cluster)} ({rules} nftables rules)"
    )
    click.echo(f"  probe it:     netpol lab probe --name {lab}")
    click.echo(f"  enter a pod:  netpol lab exec --name {lab} NAMESPACE/POD -- sh")
    click.echo(f"  remove it:    netpol lab down --name {lab}")


def quiet_option(func: F) -> F:
    return click.option(
        "-q", "--quiet", is_flag=True, help="Print only how many connections changed."
    )(func)


@command.command("apply")
@click.argument("paths", nargs=-1, type=click.Path())
@name_option
@quiet_option
def apply_cmd(paths: tuple[str, ...], lab: str, quiet: bool) -> None:
    """Add or replace objects (like kubectl apply) and replace the rules in one step.

    \b
    Example:
      netpol lab apply examples/three-tier/05-revised-backend-netpol.yaml --name tut
    """
    try:
        change = lifecycle.apply(paths, lab, say=_quiet if quiet else _say)
    except LabError as exc:
        _fail(exc)
    _print_change(change, quiet)


@command.command("delete")
@click.argument("targets", nargs=-1, required=True)
@name_option
@click.option("-n", "--namespace", default=None, help="Namespace of a KIND/NAME target.")
@quiet_option
def delete_cmd(targets: tuple[str, ...], lab: str, namespace: str | None, quiet: bool) -> None:
    """Remove objects, given by file or as KIND/NAME (like kubectl delete).

    \b
    Examples:
      netpol lab delete netpol/backend-policy -n app1-ns --name tut
      netpol lab delete examples/three-tier/06-frontend-netpol.yaml --name tut
    """
    try:
        change = lifecycle.delete(targets, lab, namespace, say=_quiet if quiet else _say)
    except LabError as exc:
        _fail(exc)
    _print_change(change, quiet)


CHANGES_SHOWN = 20  # of each kind; the rest are counted


def _print_change(change: lifecycle.Change, quiet: bool) -> None:
    """What changed, as the demo tells it: objects and pods, then the connections the
    rules now refuse or allow (the engine's verdicts, which `lab probe` checks on packets)."""
    summary = truth.changes_summary(change.closed, change.opened)
    if quiet:
        click.echo(summary)
        return
    for line in change.lines:
        click.echo(line)
    click.echo(summary)
    for line in truth.changes_lines(change.closed, change.opened, CHANGES_SHOWN):
        click.echo(f"  {line}")
    click.echo(f"rules: {change.rules_before} -> {change.rules_after}")


def _quiet(_: str) -> None:
    pass


@command.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("target")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
@name_option
def exec_cmd(target: str, argv: tuple[str, ...], lab: str) -> None:
    """Run a command inside a pod's network namespace, with the pod's resolv.conf and host
    name (NAMESPACE/POD, NAMESPACE/WORKLOAD, or `outside` for the external client); exits
    with the command's status (127: no such command, 126: not executable).

    \b
    Examples:
      netpol lab exec --name tut app1-ns/frontend -- telnet backend-svc 5678
      netpol lab exec --name tut outside -- curl -s 203.0.113.1:31000
    """
    try:
        where = lifecycle.exec_target(lab, target)
        if where.hostname is not None:
            enter_uts(where.hostname)
        check_runnable(argv[0])
    except LabError as exc:
        _fail(exc)
    except CommandNotRunnable as exc:
        click.echo(f"netpol lab exec: {exc}", err=True)
        sys.exit(exc.status)
    # `ip netns exec` enters the namespace and execs the command itself: its exit status
    # is the command's
    try:
        os.execvp("ip", ["ip", "netns", "exec", where.netns, *argv])
    except OSError as exc:
        fail(f"cannot run ip netns exec: {exc.strerror}")


@command.command("probe")
@name_option
@click.option(
    "--port",
    "port_specs",
    multiple=True,
    help="Probe these ports on every pod instead (repeatable): 80, 53/UDP.",
)
@click.option("--concurrency", type=click.IntRange(1, 4096), default=256, show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(0.05, 30),
    default=2.0,
    show_default=True,
    help="Seconds per connection.",
)
@click.option("--no-outside", is_flag=True, help="Leave out the external client.")
@click.option(
    "-o", "--output", type=click.Choice(("table", "json")), default="table", show_default=True
)
def probe_cmd(
    lab: str,
    port_specs: tuple[str, ...],
    concurrency: int,
    timeout: float,
    no_outside: bool,
    output: str,
) -> None:
    """Connect every pair on every declared port and compare with the engine; exit 1 on any
    disagreement.

    \b
    Example:
      netpol lab probe --name tut --port 5678 --port 53/UDP
    """
    try:
        report, _ = lifecycle.probe_lab(
            lab,
            parse_port_options(port_specs, ("TCP", "UDP")),
            concurrency,
            timeout,
            not no_outside,
        )
    except LabError as exc:
        _fail(exc)
    if output == "json":
        click.echo(json.dumps(probe_json(report), indent=2))
    else:
        for line in truth.render(report, report.labels):
            click.echo(line)
    if report.disagreements:
        sys.exit(EXIT_CHECK_FAILED)


def probe_json(report: ProbeReport) -> dict[str, Any]:
    return {
        "kind": "LabProbe",
        "elapsed": round(report.elapsed, 3),
        "connections": [
            {
                "src": c.attempt.src,
                "dst": c.attempt.dst,
                "port": c.attempt.port,
                "protocol": c.attempt.protocol,
                "observed": c.outcome,
                "connected": c.observed,
                "predicted": c.predicted,
                "agrees": c.agrees,
            }
            for c in report.cells
        ],
        "disagreements": len(report.disagreements),
    }


@command.command("status")
@found_name_option
def status_cmd(lab: str | None) -> None:
    """Pods, IPs, Services, policies in force and the rule count.

    \b
    Examples:
      netpol lab status             # the only lab on this host
      netpol lab status --name tut
    """
    try:
        st = inventory.status(lab if lab is not None else inventory.the_only_lab())
    except LabError as exc:
        _fail(exc)
    for line in inventory.status_lines(st):
        click.echo(line)


@command.command("list")
@click.option(
    "-o", "--output", type=click.Choice(("table", "json")), default="table", show_default=True
)
def list_cmd(output: str) -> None:
    """Every lab on this host: its state, pods, Services, policies, rules and age.

    \b
    Example:
      netpol lab list -o json
    """
    try:
        lifecycle.preflight()
        labs = inventory.summaries()
    except LabError as exc:
        _fail(exc)
    if output == "json":
        click.echo(
            json.dumps({"kind": "LabList", "labs": [_summary_json(x) for x in labs]}, indent=2)
        )
    elif not labs:
        click.echo("no lab on this host (start one with `netpol lab up PATH`)")
    else:
        for line in inventory.summary_lines(labs):
            click.echo(line)


def _summary_json(lab: inventory.LabSummary) -> dict[str, Any]:
    return {
        "name": lab.name,
        "state": lab.phase,
        "created": None
        if lab.created is None
        else datetime.fromtimestamp(lab.created, UTC).isoformat(timespec="seconds"),
        "pods": lab.pods,
        "services": lab.services,
        "policies": lab.policies,
        "tieredPolicies": lab.tiered_policies,
        "rules": lab.rules,
    }


@command.command("down")
@name_option
@click.option(
    "--all", "everything", is_flag=True, help="Every lab, and whatever crashed runs left."
)
def down_cmd(lab: str, everything: bool) -> None:
    """Remove the lab: processes, namespaces, rules, files.

    \b
    Examples:
      netpol lab down --name tut
      netpol lab down --all        # also what a crashed run left behind
    """
    try:
        report = inventory.down(lab, everything)
    except LabError as exc:
        _fail(exc)
    for line in report or ["no lab to remove"]:
        click.echo(line)
