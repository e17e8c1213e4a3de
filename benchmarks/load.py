"""Load benchmark: synthetic manifests -> Cluster (read + parse, validate, build).

Usage: python3 benchmarks/load.py [--sizes 1000,10000,100000] [--seed 7]

Each size is generated into a temporary directory by benchmarks/synth.py and then loaded
in a fresh process, so the peak memory (max RSS; tracemalloc would slow 100k pods down
several times) belongs to that size alone. Prints one table row per size; "CPU s" is the
child's user+system time (including imports), steadier than wall time on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "src"))


def measure(directory: str, pod_cidr: str) -> dict[str, float]:
    """Time each stage of ``load_cluster`` on ``directory``, as the pipeline runs them."""
    from netpol.load.build import build_cluster
    from netpol.load.paths import read_paths
    from netpol.model.diagnostics import Severity
    from netpol.model.options import Options
    from netpol.validate.documents import validate_document

    options = Options(pod_cidr=pod_cidr)
    started = time.perf_counter()
    docs, problems = read_paths([directory])
    read = time.perf_counter()
    valid = [d for d in docs if not any(p.severity is Severity.ERROR for p in validate_document(d))]
    validated = time.perf_counter()
    cluster = build_cluster(valid, options)
    built = time.perf_counter()
    errors = [d for d in (*problems, *cluster.diagnostics) if d.severity is Severity.ERROR]
    if errors or len(valid) != len(docs):
        raise SystemExit(
            f"synthetic input did not load cleanly: {errors[:1] or 'invalid documents'}"
        )
    total = built - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "documents": len(docs),
        "pods": len(cluster.pods),
        "policies": len(cluster.policies),
        "read_s": read - started,
        "validate_s": validated - read,
        "build_s": built - validated,
        "total_s": total,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "docs_per_s": len(docs) / total,
        "pods_per_s": len(cluster.pods) / total,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_size(pods: int, seed: int) -> dict[str, float]:
    import synth

    with tempfile.TemporaryDirectory(prefix="netpol-load-") as directory:
        synth.write(directory, pods, seed)
        size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
        numbers = synth.measure_in_child(__file__, directory, pods)
        numbers["mib_yaml"] = size / 2**20
        return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description="netpol load benchmark")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--pod-cidr", default="10.244.0.0/16", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.pod_cidr)))
        return
    header = (
        f"{'pods':>8} {'docs':>7} {'YAML MiB':>8} {'read s':>7} {'valid. s':>8} {'build s':>7} "
        f"{'total s':>7} {'CPU s':>6} {'docs/s':>7} {'pods/s':>8} {'max RSS MiB':>11}"
    )
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        n = run_size(size, args.seed)
        print(
            f"{int(n['pods']):>8} {int(n['documents']):>7} {n['mib_yaml']:>8.1f} {n['read_s']:>7.2f} "
            f"{n['validate_s']:>8.2f} {n['build_s']:>7.2f} {n['total_s']:>7.2f} {n['cpu_s']:>6.2f} "
            f"{n['docs_per_s']:>7.0f} {n['pods_per_s']:>8.0f} {n['max_rss_mib']:>11.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
