"""The examples that ship in the package: found where the package is, each described."""

from __future__ import annotations

from pathlib import Path

from netpol.load.bundled import DESCRIPTIONS, example_files, example_names, examples_root

REPO = Path(__file__).resolve().parents[2]


def test_every_example_has_a_description_and_every_description_an_example() -> None:
    assert sorted(DESCRIPTIONS) == example_names()
    assert all(text and "\n" not in text for text in DESCRIPTIONS.values())


def test_the_examples_live_in_the_package_and_the_clone_links_to_them() -> None:
    assert examples_root() == REPO / "src" / "netpol" / "examples"
    assert (REPO / "examples").resolve() == examples_root().resolve()


def test_example_files_are_relative_sorted_and_only_files() -> None:
    files = example_files("three-tier")
    assert files == sorted(files)
    assert Path("flows.yaml") in files
    assert all(
        not f.is_absolute() and (examples_root() / "three-tier" / f).is_file() for f in files
    )
