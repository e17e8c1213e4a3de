"""Engine benchmark: load, compile and class-level matrix on synthetic clusters.

Usage: python3 benchmarks/engine.py [--sizes 1000,10000,100000] [--seed 7] [--cli] [--tiers]

Each size runs in a fresh process so peak memory (max RSS) is per size. ``--cli`` also
times the whole command ``netpol matrix DIR --by workload -o json`` as a user runs it.
``--tiers`` adds the admin, baseline and Calico policies of ``synth.tier_documents``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "src"))


def measure(directory: str, pod_cidr: str) -> dict[str, float]:
    from netpol.engine.compile import compile_cluster
    from netpol.engine.matrix import class_matrix
    from netpol.engine.views import MatrixView
    from netpol.model.options import Options
    from netpol.validate.pipeline import load_cluster

    options = Options(pod_cidr=pod_cidr)
    started = time.perf_counter()
    result = load_cluster([directory], options)
    loaded = time.perf_counter()
    if not result.ok:
        raise SystemExit(f"synthetic input invalid: {result.errors[0].one_line()}")
    cluster = result.cluster
    cc = compile_cluster(cluster, options)
    compiled = time.perf_counter()
    matrix = class_matrix(cc)
    computed = time.perf_counter()
    view = MatrixView(matrix, "workload")
    allowed_pairs = sum(1 for _ in view.pairs())
    viewed = time.perf_counter()
    return {
        "pods": len(cluster.pods),
        "policies": len(cluster.policies),
        "tiered_policies": len(cluster.tiered_policies),
        "workloads": len(cluster.workloads),
        "namespaces": len(cluster.namespaces),
        "classes": len(matrix.classes),
        "port_groups": matrix.atoms.groups,
        "load_s": loaded - started,
        "compile_s": compiled - loaded,
        "class_matrix_s": computed - compiled,
        "workload_view_s": viewed - computed,
        "workload_pairs_allowed": allowed_pairs,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_size(pods: int, seed: int, cli: bool, tiers: bool) -> dict[str, float]:
    import synth

    with tempfile.TemporaryDirectory(prefix="netpol-bench-") as directory:
        synth.write(directory, pods, seed, tiers)
        numbers = synth.measure_in_child(__file__, directory, pods)
        if cli:
            started = time.perf_counter()
            command = [sys.executable, "-m", "netpol", "matrix", directory, "--by", "workload"]
            command += ["-o", "json", "--pod-cidr", synth.pod_cidr(pods)]
            out = subprocess.run(command, capture_output=True, check=True)
            numbers["cli_matrix_json_s"] = time.perf_counter() - started
            numbers["cli_output_mib"] = len(out.stdout) / 2**20
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli", action="store_true")
    parser.add_argument("--tiers", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--pod-cidr", default="10.244.0.0/16", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.pod_cidr)))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        numbers = run_size(size, args.seed, args.cli, args.tiers)
        print(
            f"pods={size:>7}",
            " ".join(
                f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in numbers.items()
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
