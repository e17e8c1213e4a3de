"""``netpol probe``: real connections from inside running pods, observed against predicted."""

from __future__ import annotations

import sys
from typing import Any

import click

from netpol.analysis.probe import (
    ProbeResult,
    plan_probes,
    summarize,
    verdict_word,
)
from netpol.analysis.probe_session import run_probes
from netpol.cli.common import (
    EXIT_CHECK_FAILED,
    echo_document,
    fail,
    input_options,
    load_or_exit,
    options_from,
    output_option,
)
from netpol.cli.live_input import cni_of, live_cluster, requested_target
from netpol.cli.progress import counted, progress_for_command
from netpol.engine.compile import compile_cluster
from netpol.engine.names import did_you_mean
from netpol.load.live import LiveError, connect
from netpol.load.live.probe_pods import DEFAULT_IMAGE
from netpol.render.table import render_table


@click.command("probe")
@input_options
@click.option(
    "-n",
    "--namespace",
    "namespaces",
    multiple=True,
    metavar="NS",
    help="Only pods of this namespace (repeatable) as sources and destinations.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.5),
    default=3.0,
    show_default=True,
    help="Seconds each connection may take.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Probes running at once.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="At most this many probes.",
)
@click.option(
    "--probe-pods",
    is_flag=True,
    help="Create small probe pods (same namespace and labels) for sources whose image has no tool, and delete them afterwards. Without it nothing is created.",
)
@click.option(
    "--probe-image",
    default=DEFAULT_IMAGE,
    show_default=True,
    help="Image of the probe pods (needs sh and nc, python3 or busybox).",
)
@output_option("table", "json", "yaml", default="table")
def command(
    paths: tuple[str, ...],
    namespaces: tuple[str, ...],
    timeout: float,
    concurrency: int,
    limit: int,
    probe_pods: bool,
    probe_image: str,
    output: str,
    **params: Any,
) -> None:
    """Connect for real from inside running pods (through the exec API, with whatever the
    image has: python3, nc, bash /dev/tcp, busybox) to every other pod's declared TCP ports,
    and print what happened beside what netpol predicts. Exit 1 on any disagreement.

    \b
    Examples:
      netpol probe --kubeconfig ~/.kube/config -n app1-ns
      netpol probe --context kind-kind -n app1-ns --probe-pods -o json
    """
    target = requested_target()
    if target is None:
        fail("probe needs a live cluster: --kubeconfig PATH, --context NAME or --live")
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    known = {n.name for n in cluster.namespaces}
    for namespace in namespaces:
        if namespace not in known:
            fail(f"-n/--namespace: no namespace {namespace!r}{did_you_mean(namespace, known)}")
    cni = cni_of(live_cluster(target)).summary
    cc = compile_cluster(cluster, options)
    plan = plan_probes(cc, namespaces, limit)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    if not plan.cases:
        fail(
            "nothing to probe: no running pod with a declared TCP port"
            + (f" in {', '.join(namespaces)}" if namespaces else "")
        )
    try:
        conn = connect(target, writes=probe_pods)
        results = run_probes(
            cc,
            plan,
            conn,
            concurrency=concurrency,
            timeout=timeout,
            probe_image=probe_image if probe_pods else None,
            say=lambda line: click.echo(line, err=True),
            progress=counted(progress_for_command(), "probing", len(plan.cases)),
        )
    except LiveError as exc:
        fail(str(exc))
    summary = summarize(results)
    if output in ("json", "yaml"):
        echo_document(_json(results, summary, options.profile.name, cni), output)
    else:
        click.echo(_table(results))
        click.echo(
            f"\n{summary.total} probes: {summary.agree} agree, {summary.disagree} disagree, "
            f"{summary.unprobed} not probed (profile {options.profile.name}, CNI {cni})"
        )
    if not summary.ok:
        sys.exit(EXIT_CHECK_FAILED)


def _table(results: list[ProbeResult]) -> str:
    rows = []
    for r in results:
        c = r.case
        source = f"{c.src.namespace}/{c.src.name}"
        if r.via:
            source += " (probe pod)"
        result = {True: "ok", False: "MISMATCH", None: "not probed"}[r.agrees]
        rows.append(
            [
                source,
                f"{c.dst.id} ({c.dst_ip})",
                c.target,
                verdict_word(c.predicted),
                verdict_word(r.observed),
                result,
                r.detail,
            ]
        )
    return render_table(["FROM", "TO", "PORT", "PREDICTED", "OBSERVED", "RESULT", "DETAIL"], rows)


def _json(results: list[ProbeResult], summary: Any, profile: str, cni: str) -> dict[str, Any]:
    return {
        "kind": "ProbeReport",
        "profile": profile,
        "cni": cni,
        "summary": {
            "total": summary.total,
            "agree": summary.agree,
            "disagree": summary.disagree,
            "unprobed": summary.unprobed,
        },
        "probes": [
            {
                "from": f"{r.case.src.namespace}/{r.case.src.name}",
                "probePod": bool(r.via),
                "to": r.case.dst.id,
                "ip": r.case.dst_ip,
                "port": r.case.port,
                "protocol": r.case.protocol,
                "predicted": r.case.predicted,
                "observed": r.observed,
                "agrees": r.agrees,
                "detail": r.detail,
            }
            for r in results
        ],
    }
