"""The example manifests that ship inside the package (tutorial, three-tier, ...).

They live in ``netpol/examples`` so that a plain ``pip install`` of the wheel carries them;
a clone's top-level ``examples`` is a link to the same folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# One line per example for `netpol examples`; tests/load/test_bundled.py keeps it in step
# with the folders.
DESCRIPTIONS = {
    "admin-tiers": "three-tier under cluster-wide guard rails: AdminNetworkPolicies that always"
    " allow DNS and a Prometheus scrape, and a baseline default-deny",
    "three-tier": "the tutorial with its label mismatch fixed (the backend admits role: frontend);"
    " flows.yaml for `netpol generate`",
    "three-tier-cilium": "three-tier protected by CiliumNetworkPolicies, a clusterwide DNS policy"
    " through the DNS proxy, and a Cilium deny that closes what a NetworkPolicy opened",
    "three-tier-cilium-pitfalls": "three-tier-cilium's traps, one per file: [{}] that denies, a CIDR"
    " aimed at pods, a deny shadowing an allow, a void L7 rule, ... (`netpol lint` flags them)",
    "three-tier-db-ns": 'the tutorial\'s "task for you": the database in its own namespace, db-ns',
    "tutorial": "the NetworkPolicy tutorial as published: frontend, backend and MySQL in app1-ns;"
    " the backend admits role: web, so the frontend cannot reach it",
}


def examples_root() -> Path:
    """The folder that holds one sub-folder per bundled example."""
    return Path(str(files("netpol"))) / "examples"


def example_names() -> list[str]:
    """The bundled examples, by name, in a stable order."""
    root = examples_root()
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )


def example_files(name: str) -> list[Path]:
    """The files of example ``name``, relative to its folder, in a stable order."""
    folder = examples_root() / name
    return sorted(
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
