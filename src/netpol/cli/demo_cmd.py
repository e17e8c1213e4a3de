"""``netpol demo``: the tutorial replayed in the lab, or on the engine alone without root."""

from __future__ import annotations

import shutil
import sys

import click

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import run_checks
from netpol.cli.common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED
from netpol.engine.compile import compile_cluster
from netpol.engine.explain import explain
from netpol.lab import demo, demo_cilium
from netpol.lab.system import LabError, missing_requirements
from netpol.load.bundled import examples_root
from netpol.model.cluster import Cluster
from netpol.model.diagnostics import Severity
from netpol.model.options import Options
from netpol.render.explain import explanation_text

EXAMPLES = examples_root()


def explain_lines(
    cluster: Cluster, source: str, destination: str, options: Options | None = None
) -> list[str]:
    cc = compile_cluster(cluster, options or Options())
    return explanation_text(explain(cc, source, destination)).splitlines()


def lint_lines(cluster: Cluster) -> list[str]:
    report = run_checks(compile_cluster(cluster, Options()), CHECKS)
    lines = []
    for f in report.findings:
        if f.severity is Severity.INFO:
            continue
        lines.append(f"{f.location}: {f.severity.value} [{f.check}] {f.message}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    return lines


@click.command("demo")
@click.option("--keep", is_flag=True, help="Leave the lab up afterwards, for `netpol lab exec`.")
@click.option("--name", "lab", default="demo", show_default=True, help="Name of the demo's lab.")
@click.option(
    "--engine-only", is_flag=True, help="Tell the story on the engine alone, even as root."
)
@click.option(
    "--cilium",
    is_flag=True,
    help="Tell the Cilium story instead: the fixed tutorial under Cilium, then Cilium deny "
    "policies closing what its NetworkPolicies opened.",
)
def command(keep: bool, lab: str, engine_only: bool, cilium: bool) -> None:
    """Replay the tutorial: the open cluster (Step 3), the three policies one by one, Step 5
    failing as published, why (explain, lint), the one-line fix, Step 5 holding, and DNS.
    Real packets in the lab when run as root with nftables; the engine alone otherwise.
    With --cilium: the fixed tutorial as Cilium enforces it, a CiliumClusterwideNetworkPolicy
    denying the world entity, and a CiliumNetworkPolicy ingressDeny beating backend-policy.

    \b
    Examples:
      netpol demo
      netpol demo --keep      # then: netpol lab exec --name demo app1-ns/frontend -- telnet backend-svc 5678
      netpol demo --engine-only
      netpol demo --cilium"""
    tutorial = EXAMPLES / "tutorial"
    if not tutorial.is_dir():
        click.echo(f"error: the bundled example {tutorial} is missing", err=True)
        sys.exit(EXIT_BAD_INPUT)
    missing = missing_requirements()
    options = demo_cilium.CILIUM if cilium else Options()
    backend: demo.Backend
    if missing or engine_only:
        if missing:
            click.echo(f"The lab cannot run here: {missing[0]}.")
            if shutil.which("nft") is None:
                click.echo(
                    "(apt-get install nftables iproute2, and run as root, for real packets.)"
                )
            click.echo(
                "Telling the same story on the engine alone: every connection below is a prediction."
            )
            click.echo("")
        backend = demo.EngineBackend(options)
    else:
        backend = demo.LabBackend(lab, options)
    stop = True
    try:
        if cilium:
            hooks = demo.Hooks(lambda c, s, d: explain_lines(c, s, d, options), lint_lines)
            outcome = demo_cilium.run_cilium(click.echo, backend, EXAMPLES, hooks)
        else:
            hooks = demo.Hooks(explain_lines, lint_lines)
            outcome = demo.run(click.echo, backend, EXAMPLES, hooks)
        stop = not keep
    except LabError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    finally:
        if stop:
            backend.stop()
    click.echo("")
    if keep and backend.real:
        click.echo("The lab is still up (--keep). Explore it, then remove it:")
        click.echo(
            f"  netpol lab exec --name {lab} app1-ns/frontend-deploy -- telnet backend-svc 5678"
        )
        click.echo(f"  netpol lab probe --name {lab}")
        click.echo(f"  netpol lab down --name {lab}")
    elif backend.real:
        click.echo(f"Lab {lab} removed.")
    if not outcome.step5_holds or outcome.disagreements:
        sys.exit(EXIT_CHECK_FAILED)
