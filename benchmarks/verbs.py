"""Every verb at scale, as a user runs it: a fresh ``netpol`` process per row.

Usage: python3 benchmarks/verbs.py [--sizes 1000,2000,10000] [--only matrix,lint] [--timeout 900]
                                   [--workdir DIR]

For each size, ``benchmarks/synth.py`` writes a cluster (seed 7) and this script derives the
other inputs from it: the same documents as one ``kubectl get -o json``-style List, 1,000
expectations and 1,000 flows between its workloads, and two changed copies for ``diff`` (one
policy changed; every other policy changed). Each row is one command in a fresh interpreter:
wall seconds, CPU seconds (the child's user + system, imports included: steadier than wall on
a shared machine), peak RSS (the child's ``ru_maxrss``), exit status and output size.

The 1k and 10k grids run in a few minutes; run the 100k one by hand (``--sizes 100000``), it
takes the better part of an hour. The targets of issue 13 are checked against the rows at the
end (``TARGETS``); a row over its target is printed as MISSED, never hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402  (benchmarks/ is not a package)

SRC = HERE.parent / "src"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Row:
    pods: int
    verb: str
    variant: str
    wall: float
    cpu: float
    rss_mib: float
    status: int | None  # None: killed at the timeout
    output_mib: float

    def cells(self) -> list[str]:
        status = "timeout" if self.status is None else str(self.status)
        return [
            f"{self.pods:,}",
            self.verb,
            self.variant,
            f"{self.wall:.2f}",
            f"{self.cpu:.2f}",
            f"{self.rss_mib:,.0f}",
            status,
            f"{self.output_mib:.1f}",
        ]


@dataclass(frozen=True)
class Inputs:
    """One size's cluster and everything derived from it."""

    pods: int
    cluster: str  # directory of YAML files
    as_list: str  # the same documents as one JSON List
    expectations: str
    default_deny: str  # default: deny and nothing listed: every allowed pod pair violates
    flows: str
    one_changed: str  # directory: one policy changed
    half_changed: str  # directory: every other policy changed
    pair: tuple[str, str]  # explain --from / --to
    policy: str  # NS/NAME
    pod: str  # NS/NAME
    cilium: str  # a file of CNPs and CCNPs for the same cluster (synth.cilium_documents)


def run(argv: list[str], timeout: float) -> tuple[float, float, float, int | None, int]:
    """Wall s, CPU s, peak RSS MiB, exit status (None on timeout), bytes written to stdout."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    # as a user runs it: modules compiled once and cached (this workplace's shell turns the
    # cache off, which adds ~1 s of compiling to every start)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "netpol", *argv],
            stdout=out,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        status: int | None = None
        deadline = started + timeout
        while True:
            pid, wait_status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(wait_status)
                break
            if time.perf_counter() > deadline:
                child.kill()
                _, _, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.02)
        child.returncode = -1  # reaped above; keep Popen from waiting again
        wall = time.perf_counter() - started
        size = out.tell()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, status, size


def _documents(directory: str) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            docs += [d for d in yaml.load_all(handle, Loader=Loader) if d]
    return docs


def _workloads(docs: list[dict[str, object]]) -> list[tuple[str, str, str, list[int]]]:
    """(namespace, name, kind, container ports) of every workload, in file order."""
    found = []
    for doc in docs:
        if doc.get("kind") not in ("Deployment", "StatefulSet", "Job"):
            continue
        meta: dict[str, str] = doc["metadata"]  # type: ignore[assignment]
        template = doc["spec"]["template"]  # type: ignore[index]
        ports = [
            p["containerPort"]
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
            if p.get("protocol", "TCP") == "TCP"
        ]
        found.append((meta["namespace"], meta["name"], str(doc["kind"]), ports))
    return found


def _named(workload: tuple[str, str, str, list[int]]) -> str:
    """KIND/NS/NAME: a synth workload shares its name with its Service."""
    return f"{workload[2].lower()}/{workload[0]}/{workload[1]}"


def _changed_copy(target: str, docs: list[dict[str, object]], every: int) -> None:
    """The cluster of ``docs`` in ``target`` with every ``every``-th NetworkPolicy that has an
    ingress rule with ports given one more port there (port 1/TCP): a change of the size a pull
    request makes, which touches the pairs that rule already admits."""
    os.makedirs(target, exist_ok=True)
    changed = 0
    out = []
    for doc in docs:
        rules = doc.get("spec", {}).get("ingress") if doc.get("kind") == "NetworkPolicy" else None
        with_ports = [r for r in rules or [] if r.get("ports")]
        if with_ports:
            if changed % every == 0:
                doc = json.loads(json.dumps(doc))
                rule = next(r for r in doc["spec"]["ingress"] if r.get("ports"))
                rule["ports"].append({"port": 1, "protocol": "TCP"})
            changed += 1
        out.append(doc)
    with open(os.path.join(target, "cluster.yaml"), "w", encoding="utf-8") as handle:
        yaml.dump_all(out, handle, Dumper=Dumper, sort_keys=False)


def prepare(pods: int, workdir: str) -> Inputs:
    base = os.path.join(workdir, str(pods))
    cluster = os.path.join(base, "cluster")
    if not os.path.isdir(cluster):
        synth.write(cluster, pods, seed=7)
    docs = _documents(cluster)
    as_list = os.path.join(base, "list.json")
    if not os.path.exists(as_list):
        with open(as_list, "w", encoding="utf-8") as handle:
            json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, handle, indent=1)
    workloads = [w for w in _workloads(docs) if w[3]]
    expectations = os.path.join(base, "expectations.yaml")
    flows = os.path.join(base, "flows.yaml")
    default_deny = os.path.join(base, "default-deny.yaml")
    with open(default_deny, "w", encoding="utf-8") as handle:
        handle.write("apiVersion: netpol/v1alpha1\nkind: Expectations\n")
        handle.write("default: deny\nexpectations: []\n")
    # 1,000 pairs spread over the cluster: sources and destinations walk it at two strides
    n = len(workloads)
    pairs = [(workloads[(7 * i) % n], workloads[(13 * i + 1) % n]) for i in range(1000)]
    pairs = [(a, b) for a, b in pairs if a is not b]
    with open(expectations, "w", encoding="utf-8") as handle:
        yaml.dump(
            {
                "apiVersion": "netpol/v1alpha1",
                "kind": "Expectations",
                "expectations": [
                    {
                        "name": f"e{i}",
                        "from": _named(a),
                        "to": _named(b),
                        "port": b[3][0],
                        "expect": "allow" if i % 2 else "deny",
                    }
                    for i, (a, b) in enumerate(pairs)
                ],
            },
            handle,
            Dumper=Dumper,
            sort_keys=False,
        )
    with open(flows, "w", encoding="utf-8") as handle:
        yaml.dump(
            {
                "apiVersion": "netpol/v1alpha1",
                "kind": "Flows",
                "flows": [
                    {
                        "name": f"f{i}",
                        "from": {"workload": f"{a[0]}/{a[1]}"},
                        "to": {"workload": f"{b[0]}/{b[1]}"},
                        "ports": [f"{b[3][0]}/TCP"],
                    }
                    for i, (a, b) in enumerate(pairs)
                ],
            },
            handle,
            Dumper=Dumper,
            sort_keys=False,
        )
    one_changed = os.path.join(base, "one-changed")
    half_changed = os.path.join(base, "half-changed")
    if not os.path.isdir(one_changed):
        _changed_copy(one_changed, docs, every=10**9)
    if not os.path.isdir(half_changed):
        _changed_copy(half_changed, docs, every=2)
    cilium = os.path.join(base, "cilium.yaml")
    if not os.path.exists(cilium):
        namespaces = [str(d["metadata"]["name"]) for d in docs if d.get("kind") == "Namespace"]  # type: ignore[index]
        with open(cilium, "w", encoding="utf-8") as handle:
            handle.write("---\n".join(synth.cilium_documents(namespaces)))
    policy = next(d for d in docs if d.get("kind") == "NetworkPolicy")["metadata"]
    stateful = next(w for w in workloads if w[2] == "StatefulSet")
    a, b = pairs[0]
    return Inputs(
        pods=pods,
        cluster=cluster,
        as_list=as_list,
        expectations=expectations,
        default_deny=default_deny,
        flows=flows,
        one_changed=one_changed,
        half_changed=half_changed,
        pair=(_named(a), f"{_named(b)}:{b[3][0]}"),
        policy=f"{policy['namespace']}/{policy['name']}",  # type: ignore[index]
        pod=f"{stateful[0]}/{stateful[1]}-0",
        cilium=cilium,
    )


def grid(i: Inputs) -> Iterator[tuple[str, str, list[str]]]:
    """(verb, variant, argv) of every row of one size."""
    cidr = ["--pod-cidr", synth.pod_cidr(i.pods)]
    d = i.cluster
    for by in ("workload", "namespace", "pod"):
        for output in ("json", "table", "wide", "csv", "md"):
            if by == "pod" and i.pods > 1000 and output != "json":
                continue  # pods x pods rows: the json row shows the cost, the rest only repeat it
            if by == "pod" and i.pods > 10000:
                continue  # 10^10 pod pairs, some 100 GB of JSON: no user asks it of one command
            yield "matrix", f"--by {by} -o {output}", ["matrix", d, "--by", by, "-o", output, *cidr]
    yield (
        "matrix",
        "--by workload -o json (JSON List input)",
        [
            "matrix",
            i.as_list,
            "--by",
            "workload",
            "-o",
            "json",
            *cidr,
        ],
    )
    yield "explain", "one pair", ["explain", d, "--from", i.pair[0], "--to", i.pair[1], *cidr]
    yield "verify", "1,000 expectations", ["verify", d, "--expect", i.expectations, *cidr]
    yield "verify", "default: deny", ["verify", d, "--expect", i.default_deny, *cidr]
    yield "lint", "every check", ["lint", d, *cidr]
    yield "diff", "one policy changed", ["diff", d, i.one_changed, *cidr]
    yield "diff", "half the policies changed", ["diff", d, i.half_changed, *cidr]
    yield "describe", "policy", ["describe", "policy", i.policy, d, *cidr]
    yield "describe", "pod", ["describe", "pod", i.pod, d, *cidr]
    for output in ("dot", "html"):
        yield "graph", f"-o {output}", ["graph", d, "-o", output, *cidr]
    # what graph's note suggests past the drawing budget: one namespace, by workload
    one_namespace = ["-n", i.pod.split("/")[0]]
    yield "graph", "-o html -n NS", ["graph", d, "-o", "html", *one_namespace, *cidr]
    yield "generate", "1,000 flows", ["generate", d, "--flows", i.flows, *cidr]
    cilium = ["--kind", "cilium"]
    yield (
        "generate",
        "--kind cilium, 1,000 flows",
        ["generate", d, "--flows", i.flows, *cilium, *cidr],
    )
    yield "get", "pods -A", ["get", "pods", d, "-A", *cidr]
    yield "validate", "YAML directory", ["validate", d]
    yield "validate", "JSON List", ["validate", i.as_list]
    # the load every verb does before its own work (read, check, build the model), with
    # next to nothing after it: the "load" the targets below are relative to
    yield "load", "YAML directory (get namespaces)", ["get", "namespaces", d, *cidr]
    yield "load", "JSON List (get namespaces)", ["get", "namespaces", i.as_list, *cidr]
    # the same cluster with Cilium's own policies beside its NetworkPolicies
    both = [d, i.cilium]
    yield (
        "matrix",
        "--by workload -o json (with CNPs)",
        ["matrix", *both, "--by", "workload", "-o", "json", *cidr],
    )
    yield (
        "explain",
        "one pair (with CNPs)",
        ["explain", *both, "--from", i.pair[0], "--to", i.pair[1], *cidr],
    )
    yield (
        "verify",
        "1,000 expectations (with CNPs)",
        ["verify", *both, "--expect", i.expectations, *cidr],
    )
    yield "lint", "every check (with CNPs)", ["lint", *both, *cidr]


# issue 13's targets, whole command in a fresh process: (pods, verb, variant prefix) -> seconds
TARGETS: dict[tuple[int, str, str], Callable[[dict[tuple[str, str], Row]], float]] = {
    (2000, "matrix", "--by workload -o json"): lambda rows: 0.5,
    (10000, "matrix", "--by workload -o json"): lambda rows: 3.0,
    (10000, "lint", "every check"): lambda rows: 3 * rows[("matrix", "--by workload -o json")].wall,
    (100000, "matrix", "--by workload -o json"): lambda rows: 12.0,
    (100000, "explain", "one pair"): lambda rows: 3.0,
    (100000, "describe", "policy"): lambda rows: 3.0,
    (100000, "describe", "pod"): lambda rows: 3.0,
    (100000, "lint", "every check"): lambda rows: 30.0,
    (100000, "diff", "half the policies changed"): lambda rows: 30.0,
}
TARGETS.update(
    {
        (100000, "matrix", f"--by namespace -o {output}"): (lambda rows: 10.0)
        for output in ("json", "table", "wide", "csv", "md")
    }
)


def _load(rows: dict[tuple[str, str], Row], source: str = "YAML directory") -> float:
    """What every verb does before its own work: read, check and build the model (the
    ``load`` rows: ``get namespaces``, whose own work is a few hundred lines)."""
    return rows[("load", f"{source} (get namespaces)")].wall


# the targets relative to load
TARGETS.update(
    {
        (100000, "load", "YAML directory (get namespaces)"): lambda rows: 4.0,
        (100000, "load", "JSON List (get namespaces)"): lambda rows: 2.0,
        (100000, "validate", "YAML directory"): lambda rows: _load(rows) + 1.0,
        (100000, "validate", "JSON List"): lambda rows: _load(rows, "JSON List") + 1.0,
        (100000, "verify", "1,000 expectations"): lambda rows: _load(rows) + 3.0,
        (100000, "diff", "one policy changed"): lambda rows: 2 * _load(rows) + 3.0,
    }
)


def check_targets(rows: list[Row]) -> list[str]:
    lines = []
    by_size: dict[int, dict[tuple[str, str], Row]] = {}
    for row in rows:
        by_size.setdefault(row.pods, {})[(row.verb, row.variant)] = row
    for (pods, verb, variant), target in TARGETS.items():
        found = by_size.get(pods, {})
        row = found.get((verb, variant))
        if row is None:
            continue
        try:
            limit = target(found)
        except KeyError:  # the row it is relative to was not run (--only)
            continue
        verdict = "met" if row.status is not None and row.wall < limit else "MISSED"
        lines.append(
            f"| {pods:,} | {verb} {variant} | < {limit:.1f} s | {row.wall:.2f} s | {verdict} |"
        )
    return lines


HEADER = "| pods | verb | variant | wall s | CPU s | max RSS MiB | exit | output MiB |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,2000,10000")
    parser.add_argument("--only", default="", help="comma-separated verbs")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "netpol-verbs"))
    args = parser.parse_args()
    only = {v for v in args.only.split(",") if v}
    rows: list[Row] = []
    print(HEADER)
    print("|" + "---:|" * 1 + "---|" * 2 + "---:|" * 5)
    for pods in (int(s) for s in args.sizes.split(",")):
        inputs = prepare(pods, args.workdir)
        for verb, variant, argv in grid(inputs):
            if only and verb not in only:
                continue
            wall, cpu, rss, status, size = run(argv, args.timeout)
            row = Row(pods, verb, variant, wall, cpu, rss, status, size / 2**20)
            rows.append(row)
            print("| " + " | ".join(row.cells()) + " |", flush=True)
    targets = check_targets(rows)
    if targets:
        print("\n| pods | command | target | measured | |\n|---:|---|---:|---:|---|")
        print("\n".join(targets))


if __name__ == "__main__":
    main()
