"""The example manifests that ship inside the package (tutorial, three-tier, ...).

They live in ``netpol/examples`` so that a plain ``pip install`` of the wheel carries them;
a clone's top-level ``examples`` is a link to the same folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def examples_root() -> Path:
    """The folder that holds one sub-folder per bundled example."""
    return Path(str(files("netpol"))) / "examples"


def example_names() -> list[str]:
    """The bundled examples, by name, in a stable order."""
    root = examples_root()
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )
