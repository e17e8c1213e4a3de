"""Shared fixtures: a cluster from YAML text (through the real loader) and the examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def options_for(profile: str) -> Options:
    """Default options under the named profile (upstream, calico, cilium)."""
    return Options(profile=PROFILES[profile])


def cluster_from_yaml(
    text: str, options: Options | None = None, path: str = "test.yaml"
) -> Cluster:
    """Build a Cluster from manifest text exactly as the CLI does (validate, then build).

    Fails the test, with every diagnostic, when the text does not load cleanly.
    """
    # Imported here so that collecting tests does not depend on the loader being present.
    from netpol.load.yamldoc import parse_text
    from netpol.validate.pipeline import check_and_build

    docs, problems = parse_text(text, path)
    result = check_and_build(docs, problems, options or Options())
    if not result.ok:
        pytest.fail("\n".join(d.one_line() for d in result.diagnostics), pytrace=False)
    return result.cluster


@pytest.fixture
def yaml_cluster() -> Callable[..., Cluster]:
    """``yaml_cluster(text, options=None)`` -> Cluster, through the loader pipeline."""
    return cluster_from_yaml


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES
