"""A fake API server with the tutorial's KIND cluster, and a kubeconfig pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .fake_apiserver import FakeApiServer, serve


@pytest.fixture
def apiserver() -> Iterator[FakeApiServer]:
    with serve(FakeApiServer.from_fixtures("tutorial")) as server:
        yield server


@pytest.fixture
def kubeconfig(apiserver: FakeApiServer, tmp_path: Path) -> str:
    return str(apiserver.kubeconfig(tmp_path / "kubeconfig"))
