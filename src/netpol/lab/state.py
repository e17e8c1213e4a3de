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
        return LabState(**known)


def write_json_atomic(path: Path, data: object, compact: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        if compact:
            handle.write(json.dumps(data, separators=(",", ":")))
        else:
            json.dump(data, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


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
    """The recorded state of ``lab``, or None when there is none (or it is unreadable)."""
    path = checked_names(lab).state_file
    try:
        with open(path) as handle:
            return LabState.from_json(json.load(handle))
    except (OSError, ValueError, TypeError):
        return None


def recorded_labs() -> list[str]:
    """Labs with a state directory (including half-made ones)."""
    try:
        return sorted(
            p.name for p in STATE_ROOT.iterdir() if p.is_dir() and check_lab_name(p.name) is None
        )
    except FileNotFoundError:
        return []


@contextmanager
def locked(lab: str) -> Iterator[None]:
    """One lab operation at a time per lab (two shells running ``lab apply`` queue up)."""
    path = checked_names(lab).lock_file
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if not LabNames(lab).state_dir.exists():  # no lab (any more): leave nothing
                with contextlib.suppress(OSError):
                    path.unlink()
                with contextlib.suppress(OSError):
                    path.parent.rmdir()
                with contextlib.suppress(OSError):
                    path.parent.parent.rmdir()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
