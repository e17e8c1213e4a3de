"""Manifests at a git revision: paths are read as a checkout would show them, symbolic
links inside the repository followed (a clone's ``examples`` links into the package)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netpol.analysis.revisions import RevisionError, read_revision

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """real/a.yaml and real/sub/b.yaml, links `link` -> real, `sublink` -> link/sub,
    `chain` -> sublink, `outside` -> ../elsewhere; all committed."""
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "real" / "a.yaml").write_text(NAMESPACE.format(name="a"))
    (tmp_path / "real" / "sub" / "b.yaml").write_text(NAMESPACE.format(name="b"))
    (tmp_path / "link").symlink_to("real")
    (tmp_path / "sublink").symlink_to("link/sub")
    (tmp_path / "chain").symlink_to("sublink")
    (tmp_path / "outside").symlink_to("../elsewhere")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def names(repo: Path, *paths: str, cwd: Path | None = None) -> list[str]:
    docs, problems = read_revision("HEAD", list(paths), str(cwd or repo))
    assert problems == []
    return sorted(d.data["metadata"]["name"] for d in docs)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["real"], ["a", "b"]),
        (["link"], ["a", "b"]),  # a link to a folder
        (["link/sub"], ["b"]),  # a path through a link
        (["sublink"], ["b"]),  # a link whose target goes through a link
        (["chain"], ["b"]),  # a link to a link
        (["link/a.yaml", "real/sub"], ["a", "b"]),
        (["."], ["a", "b"]),
    ],
)
def test_links_inside_the_repository_are_followed(
    repo: Path, paths: list[str], expected: list[str]
) -> None:
    assert names(repo, *paths) == expected


def test_paths_are_relative_to_the_working_folder(repo: Path) -> None:
    assert names(repo, "../link/sub", cwd=repo / "real") == ["b"]
    assert names(repo, ".", cwd=repo / "real" / "sub") == ["b"]


def test_a_link_leaving_the_repository_is_not_followed(repo: Path) -> None:
    with pytest.raises(
        RevisionError, match=r"^no \.yaml, \.yml or \.json file under outside at HEAD$"
    ):
        read_revision("HEAD", ["outside"], str(repo))
