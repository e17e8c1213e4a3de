"""Golden files and the examples, compiled the way the CLI compiles them.

Golden files live in ``tests/render/golden/``. To rewrite them after a deliberate change
of output, run ``NETPOL_UPDATE_GOLDEN=1 pytest tests/render`` (or
``pytest tests/render --update-golden``; the flag is only known when ``tests/render`` is
named on the command line, because pytest reads options from top-level conftests only)
and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.engine.compile import CompiledCluster, compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.engine.views import MatrixView
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import load_cluster

GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/render/golden/* from the current output (same as NETPOL_UPDATE_GOLDEN=1).",
    )


def updating(config: pytest.Config) -> bool:
    flag = bool(config.getoption("--update-golden", default=False))
    return flag or os.environ.get("NETPOL_UPDATE_GOLDEN", "") not in ("", "0")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: assert ``text`` equals golden/NAME (or rewrite it when updating)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        text = text if text.endswith("\n") else text + "\n"
        if updating(request.config):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            return
        if not path.exists():
            pytest.fail(
                f"no golden file {path.name}: run NETPOL_UPDATE_GOLDEN=1 pytest tests/render",
                pytrace=False,
            )
        assert text == path.read_text(), (
            f"output differs from golden/{name}; if the change is intended, "
            "rerun with NETPOL_UPDATE_GOLDEN=1 and review the diff"
        )

    return check


def compiled(example: str, profile: str = "upstream") -> CompiledCluster:
    """An example directory loaded, validated and compiled exactly as the verbs do."""
    options = Options(profile=PROFILES[profile])
    result = load_cluster((str(EXAMPLES / example),), options)
    assert result.ok, [d.one_line() for d in result.diagnostics]
    return compile_cluster(result.cluster, options)


def matrix_view(
    example: str,
    granularity: str = "pod",
    profile: str = "upstream",
    include_external: bool = False,
    include_nodes: bool = False,
) -> MatrixView:
    """The matrix of an example at one granularity, as ``netpol matrix`` builds it."""
    cc = compiled(example, profile)
    matrix = class_matrix(cc, include_external=include_external, include_nodes=include_nodes)
    return MatrixView(matrix, granularity)


@pytest.fixture
def view() -> Callable[..., MatrixView]:
    """``view(example, granularity="pod", profile="upstream", include_external=False, ...)``."""
    return matrix_view


@pytest.fixture
def compile_example() -> Callable[..., CompiledCluster]:
    """``compile_example(example, profile="upstream")`` -> CompiledCluster."""
    return compiled
