"""Shared fixtures: a cluster from YAML text (through the real loader) and the examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


# Tests build exactly the objects they write: the cluster add-ons (KIND's CoreDNS, which
# every verb models for inputs without one, load/addons.py) only where a test asks.
EXACT = Options(implicit_dns=False)


def without_addon_note(stderr: str) -> str:
    """``stderr`` less the one info line saying the input's cluster DNS was modelled
    (the tutorial, as published, has none)."""
    return "".join(
        line for line in stderr.splitlines(keepends=True) if not line.startswith(ADDON_NOTE)
    )


ADDON_NOTE = "<implicit>: info: "


def options_for(profile: str) -> Options:
    """Default options under the named profile (upstream, calico, cilium), no add-ons."""
    return Options(profile=PROFILES[profile], implicit_dns=False)


def cluster_from_yaml(
    text: str, options: Options | None = None, path: str = "test.yaml"
) -> Cluster:
    """Build a Cluster from manifest text as the CLI does (validate, then build), without
    the cluster add-ons unless ``options`` asks for them.

    Fails the test, with every diagnostic, when the text does not load cleanly.
    """
    # Imported here so that collecting tests does not depend on the loader being present.
    from netpol.load.yamldoc import parse_text
    from netpol.validate.pipeline import check_and_build

    docs, problems = parse_text(text, path)
    result = check_and_build(docs, problems, options or EXACT)
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
