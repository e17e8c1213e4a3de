"""``netpol probe``: real connections from inside running pods, observed against predicted."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from netpol.analysis.probe import (
    ProbeCase,
    ProbeResult,
    as_probe_pod,
    plan_probes,
    summarize,
    verdict_word,
)
from netpol.analysis.probe_exec import Runner, Toolbox
from netpol.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    fail,
    input_options,
    load_or_exit,
    options_from,
)
from netpol.cli.live_input import cni_of, live_cluster, requested_target
from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.load.live import LiveError, connect
from netpol.load.live.exec import KubeExecutor
from netpol.load.live.probe_pods import DEFAULT_IMAGE, ProbePods
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
@click.option(
    "-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True
)
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
        raise SystemExit(EXIT_BAD_INPUT)
    options = options_from(params)
    cluster = load_or_exit(paths, options)
    live = live_cluster(target)
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
    except LiveError as exc:
        fail(str(exc))
        raise
    runner = Runner(KubeExecutor(conn), concurrency, timeout)
    sources = {(c.src.namespace, c.src.name) for c in plan.cases}
    toolboxes = runner.toolboxes(sources)
    cases = list(plan.cases)
    via: dict[int, str] = {}
    pods = ProbePods(conn, probe_image) if probe_pods else None
    try:
        if pods is not None:
            cases, via = _stand_ins(pods, cc, cases, toolboxes, runner)
        elif any(toolboxes[s].tool is None for s in sources):
            lacking = sorted(
                f"{ns}/{name}" for (ns, name) in sources if toolboxes[(ns, name)].tool is None
            )
            click.echo(
                f"note: {len(lacking)} source pod{'s have' if len(lacking) != 1 else ' has'} no tool to connect with "
                f"({', '.join(lacking)}); --probe-pods creates stand-ins with the same labels",
                err=True,
            )
        results = runner.run(cases, toolboxes, _progress(len(cases)))
    except LiveError as exc:
        fail(str(exc))
        raise
    finally:
        if pods is not None and pods.pods:
            created = len(pods.pods)
            problems = pods.cleanup()
            for problem in problems:
                click.echo(f"error: cleaning up: {problem}", err=True)
            if not problems:
                click.echo(
                    f"note: deleted the {created} probe pod{'s' if created != 1 else ''} netpol created",
                    err=True,
                )
    results = [
        ProbeResult(r.case, r.observed, r.detail, via.get(i, "")) for i, r in enumerate(results)
    ]
    summary = summarize(results)
    if output == "json":
        click.echo(
            json.dumps(
                _json(results, summary, options.profile.name, cni_of(live).summary), indent=2
            )
        )
    else:
        click.echo(_table(results))
        click.echo(
            f"\n{summary.total} probes: {summary.agree} agree, {summary.disagree} disagree, "
            f"{summary.unprobed} not probed (profile {options.profile.name}, CNI {cni_of(live).summary})"
        )
    if not summary.ok:
        sys.exit(EXIT_CHECK_FAILED)


def _stand_ins(
    pods: ProbePods,
    cc: CompiledCluster,
    cases: list[ProbeCase],
    toolboxes: dict[tuple[str, str], Toolbox],
    runner: Runner,
) -> tuple[list[ProbeCase], dict[int, str]]:
    """Probe pods for the sources without a tool; the cases run from them instead."""
    made: dict[tuple[str, str], str] = {}
    for case in cases:
        key = (case.src.namespace, case.src.name)
        if toolboxes[key].tool is None and key not in made:
            made[key] = pods.create(case.src.namespace, case.src.id, case.src.labels)
    if not made:
        return cases, {}
    click.echo(
        f"note: created {len(made)} probe pod{'s' if len(made) != 1 else ''} ({pods.image}); waiting for them to run",
        err=True,
    )
    ips = pods.wait_running()
    toolboxes.update(runner.toolboxes((ns, name) for (ns, _), name in made.items()))
    out: list[ProbeCase] = []
    via: dict[int, str] = {}
    for i, case in enumerate(cases):
        key = (case.src.namespace, case.src.name)
        name = made.get(key)
        if name is None:
            out.append(case)
            continue
        out.append(as_probe_pod(case, name, ips[(key[0], name)], cc))
        via[i] = f"{key[0]}/{name}"
    return out, via


def _progress(total: int) -> Any:
    if not sys.stderr.isatty():
        return None

    def show(done: int) -> None:
        sys.stderr.write(f"\r\033[Kprobing {done}/{total}" + ("\r\033[K" if done == total else ""))
        sys.stderr.flush()

    return show


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
