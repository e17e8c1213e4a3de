"""``netpol diff`` output of this tree against another tree's, byte for byte.

Runs each case (example pairs, and the synth clusters of ``benchmarks/verbs.py`` with one and
half of their policies changed) in every output format under both trees, in a fresh process
each, and prints the cases whose stdout, stderr or exit status differ. The other tree's
outputs are kept in ``--cache`` so a rerun only runs this tree.

    python3 benchmarks/diff_compare.py --base /tmp/base/src --verbs /tmp/netpol-verbs --sizes 2000,10000
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORMATS = ("table", "json", "yaml", "md", "csv")
CIDR = ["--pod-cidr", "10.128.0.0/9"]


def example_cases() -> Iterator[list[str]]:
    tutorial = sorted(str(p) for p in (REPO / "examples" / "tutorial").glob("*.yaml"))
    shared = [p for p in tutorial if not Path(p).name.startswith("06-")]
    frontend = [p for p in tutorial if Path(p).name.startswith("06-")]
    pairs = [
        ["examples/tutorial", "examples/three-tier"],
        ["examples/three-tier", "examples/three-tier"],
        ["examples/three-tier", "examples/three-tier-db-ns"],
        ["examples/three-tier", "examples/three-tier-cilium"],
        ["examples/three-tier", "examples/admin-tiers"],
        [*shared, "--new", *frontend],
        [*tutorial, "--old", *frontend],
    ]
    for pair in pairs:
        for by in ("pod", "workload", "namespace"):
            for output in FORMATS:
                yield [*pair, "--by", by, "-o", output]
        yield [*pair, "--include-external"]
        yield [*pair, "--explain"]
        yield [*pair, "-n", "default"]


def verbs_cases(root: str, sizes: list[int]) -> Iterator[list[str]]:
    for pods in sizes:
        base = os.path.join(root, str(pods))
        for changed in ("one-changed", "half-changed"):
            for output in FORMATS:
                yield [
                    os.path.join(base, "cluster"),
                    os.path.join(base, changed),
                    "-o",
                    output,
                    *CIDR,
                ]


def run(src: str, args: list[str]) -> bytes:
    env = dict(os.environ, PYTHONPATH=src, NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-m", "netpol", "diff", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        check=False,
    )
    return b"%d\n" % done.returncode + done.stdout + b"\n--stderr--\n" + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="src directory of the tree to compare with")
    parser.add_argument("--cache", default="/tmp/diff-compare-cache")
    parser.add_argument("--verbs", help="benchmarks/verbs.py work directory")
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--no-examples", action="store_true")
    args = parser.parse_args()
    cases = [] if args.no_examples else list(example_cases())
    if args.verbs:
        cases += list(verbs_cases(args.verbs, [int(s) for s in args.sizes.split(",")]))
    os.makedirs(args.cache, exist_ok=True)
    differing = 0
    for case in cases:
        key = hashlib.sha256("\0".join(case).encode()).hexdigest()[:20]
        cached = Path(args.cache) / key
        if not cached.exists():
            cached.write_bytes(run(args.base, case))
        expected = cached.read_bytes()
        found = run(str(REPO / "src"), case)
        same = found == expected
        differing += not same
        print(("same     " if same else "DIFFERS  ") + " ".join(case), flush=True)
        if not same:
            (Path(args.cache) / (key + ".new")).write_bytes(found)
    print(f"{len(cases) - differing} of {len(cases)} cases identical")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
