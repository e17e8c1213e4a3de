"""Load benchmark: synthetic manifests -> Cluster (read + parse, validate, build).

Usage: python3 benchmarks/load.py [--sizes 1000,10000,100000] [--seed 7] [--formats yaml,json]

Each size is generated into a temporary directory by benchmarks/synth.py and then loaded
in a fresh process, so the peak memory (max RSS; tracemalloc would slow 100k pods down
several times) belongs to that size alone. Prints one table row per size; "CPU s" is the
child's user+system time (including imports), steadier than wall time on a busy machine.
The "json" rows load the same documents as one ``kubectl get -o json`` style List (one
file, indent 1), which the JSON decoder reads instead of the YAML reader.
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
    objects = sum(len(d.data["items"]) if d.data.get("kind") == "List" else 1 for d in docs)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "documents": objects,
        "pods": len(cluster.pods),
        "policies": len(cluster.policies),
        "read_s": read - started,
        "validate_s": validated - read,
        "build_s": built - validated,
        "total_s": total,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "docs_per_s": objects / total,
        "pods_per_s": len(cluster.pods) / total,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def floors(directory: str, as_list: str) -> dict[str, float]:
    """What reading costs at the least, each alone in CPU seconds (cyclic GC off, as the
    loader runs): the C JSON decoder on the List (plain, and with the loader's hooks), the
    line walk over it, libyaml parsing the YAML files alone (no Python object made), and
    PyYAML composing them into nodes through libyaml (no values built)."""
    import gc

    import yaml
    from yaml._yaml import CParser  # libyaml's binding: raw_parse makes no Python objects

    from netpol.load import jsondoc

    gc.disable()
    with open(as_list, encoding="utf-8") as handle:
        text = handle.read()
    out: dict[str, float] = {}
    started = time.process_time()
    json.loads(text)
    out["json_loads_s"] = time.process_time() - started
    started = time.process_time()
    data = jsondoc._DECODER.decode(text)
    out["json_decode_hooks_s"] = time.process_time() - started
    started = time.process_time()
    jsondoc._Walk(text).mapping(data, 0, 1)
    out["json_line_walk_s"] = time.process_time() - started
    del data
    texts = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            texts.append(handle.read())
    # libyaml itself: every event parsed in C, no Python object made for any of them
    started = time.process_time()
    for text in texts:
        CParser(text).raw_parse()
    out["libyaml_parse_s"] = time.process_time() - started
    roots: list[yaml.Node] = []
    started = time.process_time()
    for text in texts:
        roots += yaml.compose_all(text, Loader=yaml.CSafeLoader)
    out["yaml_compose_s"] = time.process_time() - started
    nodes = 0
    stack = roots
    while stack:
        node = stack.pop()
        nodes += 1
        if isinstance(node, yaml.MappingNode):
            stack += [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    out["yaml_nodes_per_s"] = nodes / out["yaml_compose_s"]
    out["yaml_nodes"] = nodes
    return out


def run_size(pods: int, seed: int, formats: list[str]) -> list[tuple[str, dict[str, float]]]:
    import synth

    rows = []
    with tempfile.TemporaryDirectory(prefix="netpol-load-") as work:
        directory = os.path.join(work, "cluster")
        synth.write(directory, pods, seed)
        as_list = os.path.join(work, "list.json")
        if "json" in formats:
            write_list(directory, as_list)
        for form in formats:
            target = directory if form == "yaml" else as_list
            names = os.listdir(directory) if form == "yaml" else [as_list]
            size = sum(os.path.getsize(os.path.join(directory, f)) for f in names)
            numbers = synth.measure_in_child(__file__, target, pods)
            numbers["mib"] = size / 2**20
            rows.append((form, numbers))
    return rows


def write_list(directory: str, target: str) -> None:
    """The documents of ``directory`` as one List, as ``kubectl get -o json`` writes one."""
    import yaml

    docs = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            docs += [d for d in yaml.load_all(handle, Loader=yaml.CSafeLoader) if d]
    with open(target, "w", encoding="utf-8") as handle:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, handle, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description="netpol load benchmark")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default="yaml,json")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument(
        "--floors", nargs=2, metavar=("YAML_DIR", "LIST_JSON"), help="time the parsers alone"
    )
    parser.add_argument("--pod-cidr", default="10.244.0.0/16", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floors:
        print(json.dumps(floors(*args.floors)))
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.pod_cidr)))
        return
    header = (
        f"{'pods':>8} {'format':>6} {'docs':>7} {'MiB':>6} {'read s':>7} {'valid. s':>8} {'build s':>7} "
        f"{'total s':>7} {'CPU s':>6} {'docs/s':>7} {'pods/s':>8} {'max RSS MiB':>11}"
    )
    print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        for form, n in run_size(size, args.seed, args.formats.split(",")):
            print(
                f"{int(n['pods']):>8} {form:>6} {int(n['documents']):>7} {n['mib']:>6.1f} "
                f"{n['read_s']:>7.2f} {n['validate_s']:>8.2f} {n['build_s']:>7.2f} "
                f"{n['total_s']:>7.2f} {n['cpu_s']:>6.2f} {n['docs_per_s']:>7.0f} "
                f"{n['pods_per_s']:>8.0f} {n['max_rss_mib']:>11.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
