"""Lint benchmark: `netpol lint` as a user runs it (fresh process), every check.

Usage: python3 benchmarks/lint.py [--select-all 1000,2000,3000] [--cilium 1000,3000]
                                  [--sizes 1000,10000] [--seed 7]

Three inputs:
- N select-all policies (`podSelector: {}`, ingress from everyone) over 4 pods: every
  policy but the first is redundant, the case where redundancy was quadratic;
- N CiliumNetworkPolicies, each for its own pods, with an L7 allow, an L3 allow, a deny
  and an FQDN rule: every Cilium check compares entries, and must not compare every pair;
- `benchmarks/synth.py` clusters of N pods, each also timed with
  `netpol matrix DIR --by workload -o json` (the issue 13 target: lint < 3 x that).

Each command runs in a fresh interpreter; wall seconds, the child's CPU seconds
(user + system) and its peak RSS come from wait4. Prints one Markdown row per run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
sys.path.insert(0, HERE)


def select_all_documents(policies: int) -> str:
    docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"]
    for i in range(4):
        docs.append(
            "apiVersion: v1\nkind: Pod\n"
            f"metadata: {{name: p{i}, namespace: app, labels: {{app: a{i}}}}}\n"
            "spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}\n"
        )
    for i in range(policies):
        docs.append(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: all-{i}, namespace: app}}\n"
            "spec:\n  podSelector: {}\n  ingress:\n  - {}\n"
        )
    return "---\n".join(docs)


def cilium_documents(policies: int) -> str:
    """``policies`` distinct CNPs over 4 pods; each entry is flagged by one Cilium check
    (the L7 rule voided by the L3 allow, the FQDN rule without DNS visibility)."""
    docs = select_all_documents(0).split("---\n")
    for i in range(policies):
        docs.append(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
            f"metadata: {{name: c{i}, namespace: app}}\n"
            f"spec:\n  endpointSelector: {{matchLabels: {{app: a{i}}}}}\n"
            "  ingress:\n"
            f"  - fromEndpoints: [{{matchLabels: {{app: b{i}}}}}]\n"
            '    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET}]}}]\n'
            f"  - fromEndpoints: [{{matchLabels: {{app: b{i}}}}}]\n"
            f"  ingressDeny: [{{fromEndpoints: [{{matchLabels: {{app: d{i}}}}}]}}]\n"
            f"  egress: [{{toFQDNs: [{{matchName: a{i}.example.com}}]}}]\n"
        )
    return "---\n".join(docs)


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float  # the child's user + system time
    rss_mib: float  # the child's peak resident memory
    output: bytes


def run(args: list[str]) -> Run:
    """``python -m netpol ARGS`` in a fresh process, reaped with wait4 for its own usage."""
    env = {**os.environ, "PYTHONPATH": SRC}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "netpol", *args], stdout=out, stderr=err, env=env
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode not in (0, 1):  # 1: findings at the --fail-on level
            raise SystemExit(
                f"netpol {' '.join(args)}: exit {child.returncode}: {err.read().decode()}"
            )
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read())


def lint_row(label: str, directory: str, extra: list[str], matrix: Run | None) -> str:
    linted = run(["lint", directory, "-o", "json", *extra])
    report = json.loads(linted.output)
    findings = len(report["findings"])
    skipped = ", ".join(s["check"] for s in report["skipped"]) or "none"
    ratio = (
        f"{linted.wall_s / matrix.wall_s:.1f} / {linted.cpu_s / matrix.cpu_s:.1f}" if matrix else ""
    )
    matrix_cell = f"{matrix.wall_s:.2f} / {matrix.cpu_s:.2f}" if matrix else ""
    return (
        f"| {label} | {linted.wall_s:.2f} | {linted.cpu_s:.2f} | {linted.rss_mib:.0f} | "
        f"{findings:,} | {skipped} | {matrix_cell} | {ratio} |"
    )


HEADER = (
    "| input | lint wall s | lint CPU s | lint peak RSS MiB | findings | checks skipped "
    "| matrix --by workload -o json wall / CPU s | lint / matrix, wall / CPU |\n"
    "|---|---:|---:|---:|---:|---|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--select-all", default="1000,2000,3000")
    parser.add_argument("--cilium", default="1000,3000")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    import synth

    print(HEADER, flush=True)
    for count in (int(s) for s in args.select_all.split(",") if s):
        with tempfile.TemporaryDirectory(prefix="netpol-lint-") as directory:
            with open(os.path.join(directory, "all.yaml"), "w", encoding="utf-8") as handle:
                handle.write(select_all_documents(count))
            print(lint_row(f"{count:,} select-all policies", directory, [], None), flush=True)
    for count in (int(s) for s in args.cilium.split(",") if s):
        with tempfile.TemporaryDirectory(prefix="netpol-lint-") as directory:
            with open(os.path.join(directory, "all.yaml"), "w", encoding="utf-8") as handle:
                handle.write(cilium_documents(count))
            print(lint_row(f"{count:,} CiliumNetworkPolicies", directory, [], None), flush=True)
    for pods in (int(s) for s in args.sizes.split(",") if s):
        with tempfile.TemporaryDirectory(prefix="netpol-lint-") as directory:
            synth.write(directory, pods, args.seed)
            cidr = ["--pod-cidr", synth.pod_cidr(pods)]
            matrix = run(["matrix", directory, "--by", "workload", "-o", "json", *cidr])
            print(lint_row(f"synth {pods:,} pods", directory, cidr, matrix), flush=True)


if __name__ == "__main__":
    main()
