"""Lab test support: skip (with the reason) where root, nftables or netns are missing, and
prove the host's own network is untouched by the whole lab suite."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from netpol.engine.matrix import class_matrix
from netpol.lab import inventory, lifecycle
from netpol.lab.probe import ProbeReport
from netpol.lab.system import missing_requirements
from netpol.lab.topology import NODE_SYSCTLS, POD_SYSCTLS
from netpol.lab.truth import describe_cell
from netpol.lab.view import LabView, read_input
from netpol.model.options import PROFILES, Options

_MISSING = missing_requirements()
requires_lab = pytest.mark.skipif(bool(_MISSING), reason=_MISSING[0] if _MISSING else "")


def netpol(*args: str, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    """``netpol ARGS...`` as a user runs it (under ``umask`` when given)."""

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "netpol", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
        preexec_fn=set_umask,
    )


def lab_name(tag: str) -> str:
    """A lab name unique to this test process (labs of two runs never collide)."""
    return f"t{os.getpid() % 100000}-{tag}"[:20]


def random_lab(tag: str, objects: Sequence[dict[str, Any]], profile: str) -> Iterator[str]:
    """A lab of ``objects`` under ``profile`` for a module's differential cases (each case
    replaces its objects); down afterwards."""
    name = lab_name(tag)
    lifecycle.up_objects(objects, name, Options(profile=PROFILES[profile]))
    try:
        yield name
    finally:
        inventory.down(name)


def probed_against_engine(
    lab: str, objects: Sequence[dict[str, Any]]
) -> tuple[ProbeReport, LabView, list[str]]:
    """``objects`` in force in ``lab``, every pair probed: the report, the view, and each
    cell where the packets disagree with the engine's verdict."""
    lifecycle.replace(objects, lab)
    report, view = lifecycle.probe_lab(lab, timeout=2.0, reference=True)
    assert len(report.cells) > 20
    return report, view, [describe_cell(c, report.labels) for c in report.disagreements]


def write(tmp_path: Path, name: str, text: str) -> str:
    """``text`` (dedented) as the file ``name`` in ``tmp_path``; its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def pod_label(report: ProbeReport, endpoint: str) -> str:
    """The table's label of ``endpoint`` without its namespace (``backend-deploy``)."""
    return report.labels.get(endpoint, endpoint).rpartition("/")[2]


def matrix_disagreements(report: ProbeReport, view: LabView) -> list[str]:
    """The class matrix (what ``matrix`` prints) against the packets, pod pairs only."""
    matrix = class_matrix(view.cc)
    found = []
    for cell in report.cells:
        a = cell.attempt
        if a.src not in view.cluster.pod_by_id:
            continue
        predicted = matrix.pod_connections(a.src, a.dst).contains(a.protocol, a.port)
        if predicted != cell.observed:
            found.append(
                f"class matrix: {a.src} -> {a.dst} {a.port}/{a.protocol}: predicted "
                f"{'allow' if predicted else 'deny'}, observed {cell.outcome}"
            )
    return found


def assert_lab_agrees(lab: str, path: Path, profile: str, case: str) -> LabView:
    """The objects of ``path`` in force in ``lab``, read through the loader every verb uses
    (as a user's manifests go): every pair probed agrees with the engine's verdict and with
    the class matrix."""
    objects, _ = read_input([str(path)], Options(profile=PROFILES[profile]))
    report, view, problems = probed_against_engine(lab, [o.data for o in objects])
    assert view.cc.tiered is not None
    problems += matrix_disagreements(report, view)
    assert not problems, (
        f"{case}: the lab disagrees with the engine:\n  "
        + "\n  ".join(problems)
        + "\ninput:\n"
        + path.read_text()
    )
    return view


def connects(lab: str, src: str, dst: str, port: int) -> bool:
    """The packets' answer for one pair, after checking every cell agrees with the engine."""
    report, _ = lifecycle.probe_lab(lab, timeout=2.0, reference=True)
    assert not report.disagreements, [describe_cell(c, report.labels) for c in report.disagreements]
    found = {
        c.observed
        for c in report.cells
        if pod_label(report, c.attempt.src).startswith(src)
        and pod_label(report, c.attempt.dst) == dst
        and c.attempt.port == port
    }
    assert len(found) == 1, (src, dst, port, sorted(set(report.labels.values())))
    return found.pop()


def host_network() -> dict[str, str]:
    """What the host's own namespace looks like: links, addresses, routes, rules, nftables."""
    commands = {
        "links": ["ip", "-o", "link", "show"],
        "addresses": ["ip", "-o", "addr", "show"],
        "routes": ["ip", "route", "show", "table", "all"],
        "routes6": ["ip", "-6", "route", "show", "table", "all"],
        "rules": ["ip", "rule", "show"],
        "rules6": ["ip", "-6", "rule", "show"],
        "nft": ["nft", "list", "ruleset"],
        "netns": ["ip", "netns", "list"],
        "all netns": ["ip", "-all", "netns", "exec", "ip", "-o", "link", "show"],
    }
    snapshot = {}
    for key, argv in commands.items():
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        snapshot[key] = done.stdout
    # the host's own values of every sysctl the lab sets in its namespaces
    for path, _ in (*NODE_SYSCTLS, *POD_SYSCTLS):
        with contextlib.suppress(FileNotFoundError), open(f"/proc/sys/{path}") as handle:
            snapshot[f"sysctl {path}"] = handle.read()
    # and nothing of the labs' own left behind: state files, /etc/netns and what is in it
    snapshot["lab state"] = " ".join(sorted(_listing("/run/netpol")))
    snapshot["/etc/netns"] = _tree("/etc/netns")
    return snapshot


def _tree(top: str) -> str:
    """Every entry below ``top`` with its type (links are not followed), or "absent"."""
    if not os.path.lexists(top):
        return "absent"
    entries = []
    for root, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            kind = "link" if os.path.islink(path) else "dir" if os.path.isdir(path) else "file"
            entries.append(f"{kind} {path}")
    return "\n".join(entries)


def _listing(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


@pytest.fixture(scope="session")
def host_untouched() -> Iterator[None]:
    """Every lab test uses this; after the last one the host must look exactly as before."""
    before = host_network()
    yield
    after = host_network()
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"the lab tests changed the host's network: {changed}: " + "".join(
        f"\n--- {k} before:\n{before[k]}\n--- {k} after:\n{after[k]}" for k in changed
    )
