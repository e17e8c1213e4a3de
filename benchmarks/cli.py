"""Start-up benchmark: how long a user waits for the commands a kubectl plugin runs most.

Usage: python3 benchmarks/cli.py [--runs 10] [--python PATH]

Each command runs ``--runs`` times in a fresh process (``python -m netpol ...`` with this
clone's ``src`` on PYTHONPATH), the way a shell runs it, so imports are paid every time.
Byte code is cached as an installed wheel has it (pip compiles on install): into a temporary
PYTHONPYCACHEPREFIX, written by one uncounted warm-up run, even when the caller's
environment sets PYTHONDONTWRITEBYTECODE (which would time the compiler instead).
Prints one Markdown table row per command: median and min wall time, median CPU time (the
child's user+system; steadier than wall on a shared machine), and the target. Exits 1 when
a median misses its target, so the numbers are checked where they are measured (not in the
unit tests, whose machine may be busy).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TUTORIAL = os.path.join(ROOT, "examples", "tutorial")

# (label, arguments after ``netpol``, target median in seconds)
COMMANDS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("--version", ("--version",), 0.150),
    ("--help", ("--help",), 0.150),
    ("validate tutorial", ("validate", TUTORIAL), 0.400),
    (
        "explain tutorial",
        ("explain", TUTORIAL, "--from", "app1-ns/frontend-deploy", "--to", "backend-svc:5678"),
        0.400,
    ),
    ("lint tutorial", ("lint", TUTORIAL), 0.400),
)


def run_once(
    python: str, args: tuple[str, ...], env: dict[str, str], module: bool = True
) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh ``netpol`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    argv = [python, "-m", "netpol", *args] if module else [python, *args]
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # lint reports findings with 1, by design
        raise SystemExit(f"netpol {' '.join(args)} failed: {done.stderr.decode()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--python", default=sys.executable)
    options = parser.parse_args()
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print("| command | median s | min s | median CPU s | target s | |")
    print("|---|---:|---:|---:|---:|---|")
    missed = False
    cache = tempfile.mkdtemp(prefix="netpol-pycache-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=os.path.join(ROOT, "src"), PYTHONPYCACHEPREFIX=cache)
    floor = [run_once(options.python, ("-c", "pass"), env, module=False) for _ in range(4)]
    for label, args, target in COMMANDS:
        run_once(options.python, args, env)  # compiles byte code, warms the page cache
        samples = [run_once(options.python, args, env) for _ in range(options.runs)]
        walls = [w for w, _ in samples]
        median = statistics.median(walls)
        cpu = statistics.median(c for _, c in samples)
        ok = median < target
        missed |= not ok
        print(
            f"| `netpol {label}` | {median:.3f} | {min(walls):.3f} | {cpu:.3f} | {target:.3f} "
            f"| {'ok' if ok else 'MISSED'} |"
        )
    shutil.rmtree(cache, ignore_errors=True)
    print(
        f"# the interpreter alone (python -c pass): median {statistics.median(w for w, _ in floor):.3f} s"
    )
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
