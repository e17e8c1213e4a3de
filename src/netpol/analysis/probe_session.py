"""One live probe run: find each source's tool, stand in probe pods where asked, run every
case, and always delete what was created. The CLI only prints what this says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netpol.analysis.probe import ProbeCase, ProbePlan, ProbeResult, as_probe_pod
from netpol.analysis.probe_exec import Runner, Toolbox
from netpol.engine.compile import CompiledCluster
from netpol.load.live.exec import KubeExecutor
from netpol.load.live.probe_pods import ProbePods

Say = Callable[[str], None]


def run_probes(
    cc: CompiledCluster,
    plan: ProbePlan,
    conn: Any,
    *,
    concurrency: int,
    timeout: float,
    probe_image: str | None,
    say: Say,
    progress: Any = None,
) -> list[ProbeResult]:
    """Every case of ``plan`` run from inside its source pod (or, with ``probe_image``, from
    a stand-in pod for sources whose image has no tool); ``say`` gets the notes and errors.
    Probe pods are deleted however the run ends."""
    runner = Runner(KubeExecutor(conn), concurrency, timeout)
    sources = {(c.src.namespace, c.src.name) for c in plan.cases}
    toolboxes = runner.toolboxes(sources)
    cases = list(plan.cases)
    via: dict[int, str] = {}
    pods = ProbePods(conn, probe_image) if probe_image else None
    try:
        if pods is not None:
            cases, via = _stand_ins(pods, cc, cases, toolboxes, runner, say)
        else:
            lacking = sorted(
                f"{ns}/{name}" for (ns, name) in sources if toolboxes[(ns, name)].tool is None
            )
            if lacking:
                say(
                    f"note: {len(lacking)} source pod{'s have' if len(lacking) != 1 else ' has'} "
                    f"no tool to connect with ({', '.join(lacking)}); --probe-pods creates "
                    "stand-ins with the same labels"
                )
        results = runner.run(cases, toolboxes, progress)
    finally:
        if pods is not None and pods.pods:
            created = len(pods.pods)
            problems = pods.cleanup()
            for problem in problems:
                say(f"error: cleaning up: {problem}")
            if not problems:
                say(
                    f"note: deleted the {created} probe pod{'s' if created != 1 else ''} netpol created"
                )
    return [
        ProbeResult(r.case, r.observed, r.detail, via.get(i, "")) for i, r in enumerate(results)
    ]


def _stand_ins(
    pods: ProbePods,
    cc: CompiledCluster,
    cases: list[ProbeCase],
    toolboxes: dict[tuple[str, str], Toolbox],
    runner: Runner,
    say: Say,
) -> tuple[list[ProbeCase], dict[int, str]]:
    """Probe pods for the sources without a tool; the cases run from them instead."""
    made: dict[tuple[str, str], str] = {}
    for case in cases:
        key = (case.src.namespace, case.src.name)
        if toolboxes[key].tool is None and key not in made:
            made[key] = pods.create(case.src.namespace, case.src.id, case.src.labels)
    if not made:
        return cases, {}
    say(
        f"note: created {len(made)} probe pod{'s' if len(made) != 1 else ''} ({pods.image}); "
        "waiting for them to run"
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
