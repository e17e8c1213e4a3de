"""The state file: everything a lab made, written before it is made.

A crash, Ctrl-C or ``kill -9`` can stop the lab anywhere; because each namespace, file and
process is recorded before it exists, ``lab down`` finds all of it again (and whatever the
record missed is still found by its name).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from netpol.lab.names import STATE_ROOT, LabNames, check_lab_name
from netpol.lab.private import make_dir, open_append, read_file, remove_file, write_file
from netpol.lab.system import LabError

STATE_VERSION = 1


@dataclass
class PodSlot:
    """Where one pod lives in the lab: its namespace index, IP and MAC."""

    id: str
    index: int
    netns: str
    ip: str
    mac: str


@dataclass
class LabState:
    name: str
    created: float = field(default_factory=time.time)
    phase: str = "creating"  # creating -> up; anything else after a failure
    profile: str = "upstream"
    load_options: dict[str, Any] = field(default_factory=dict)
    netns: list[str] = field(default_factory=list)
    etc_dirs: list[str] = field(default_factory=list)
    pods: dict[str, PodSlot] = field(default_factory=dict)
    next_index: int = 0
    daemon_pid: int | None = None
    rules: int = 0
    ruleset_digest: str = ""
    sync_digest: str = ""  # what the helper process was last told
    chains: int = 0
    notes: list[str] = field(default_factory=list)
    run_commands: bool = False
    # listeners `lab probe --port` added, from before they start until they are removed
    probe_ports: list[tuple[int, str]] = field(default_factory=list)
    version: int = STATE_VERSION

    @property
    def names(self) -> LabNames:
        return LabNames(self.name)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["pods"] = {k: asdict(v) for k, v in self.pods.items()}
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> LabState:
        pods = {k: PodSlot(**v) for k, v in data.get("pods", {}).items()}
        known = {k: v for k, v in data.items() if k in LabState.__dataclass_fields__}
        known["pods"] = pods
        known["probe_ports"] = [(int(p), str(proto)) for p, proto in data.get("probe_ports", [])]
        return LabState(**known)


def write_json_atomic(path: Path, data: object, compact: bool = False) -> None:
    """``data`` into ``path`` in one step, readable by root alone (0600, in a 0700 directory)."""
    text = (
        json.dumps(data, separators=(",", ":"))
        if compact
        else json.dumps(data, indent=1, sort_keys=True)
    )
    write_file(path, text.encode())


def save(state: LabState) -> None:
    write_json_atomic(state.names.state_file, state.to_json())


def checked_names(lab: str) -> LabNames:
    """The names of lab ``lab``; LabError when ``lab`` cannot name a lab.

    A lab's name becomes part of paths that are created and removed as root
    (``/run/netpol/lab/LAB``), so ``../../etc`` must never get that far.
    """
    reason = check_lab_name(lab)
    if reason:
        raise LabError(reason)
    return LabNames(lab)


def load(lab: str) -> LabState | None:
    """The recorded state of ``lab``, or None when there is none (or it is unreadable);
    LabError when a symbolic link stands where it should be."""
    path = checked_names(lab).state_file
    try:
        return LabState.from_json(json.loads(read_file(path)))
    except (OSError, ValueError, TypeError):
        return None


def recorded_labs() -> list[str]:
    """Labs with an entry in the state root (including half-made ones)."""
    try:
        return sorted(name for name in os.listdir(STATE_ROOT) if check_lab_name(name) is None)
    except FileNotFoundError:
        return []


@contextmanager
def locked(lab: str) -> Iterator[None]:
    """One lab operation at a time per lab (two shells running ``lab apply`` queue up)."""
    path = checked_names(lab).lock_file
    make_dir(STATE_ROOT, own=True)  # /run/netpol/lab is netpol's own: root's alone
    fd = open_append(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if not os.path.lexists(LabNames(lab).state_dir):  # no lab (any more): leave nothing
                remove_file(path)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()
                with contextlib.suppress(OSError):
                    path.parent.parent.rmdir()
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
