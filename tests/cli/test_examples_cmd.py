"""``netpol examples``: list, locate and copy the examples that ship in the package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from netpol.cli.main import cli
from netpol.load.bundled import DESCRIPTIONS, example_files, example_names, examples_root


def run(*args: str, cwd: Path | None = None) -> Result:
    if cwd is None:
        return CliRunner().invoke(cli, ["examples", *args])
    before = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, ["examples", *args])
    finally:
        os.chdir(before)


def test_the_list_has_one_line_per_example_with_its_description() -> None:
    result = run()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == example_names()
    assert example_names() == [
        "admin-tiers",
        "three-tier",
        "three-tier-cilium",
        "three-tier-cilium-pitfalls",
        "three-tier-db-ns",
        "tutorial",
    ]
    for line, name in zip(lines, example_names(), strict=True):
        assert line.endswith(DESCRIPTIONS[name])


def test_path_prints_the_folder_of_one_example_or_of_all() -> None:
    one = run("tutorial", "--path")
    assert one.exit_code == 0
    assert Path(one.output.strip()) == examples_root() / "tutorial"
    assert (Path(one.output.strip()) / "04-db-netpol.yaml").is_file()
    every = run("--path")
    assert Path(every.output.strip()) == examples_root()


def test_copy_makes_every_example_under_dir(tmp_path: Path) -> None:
    result = run("--copy", "examples", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    total = sum(len(example_files(n)) for n in example_names())
    assert result.output.splitlines() == [
        f"copied {', '.join(example_names())} ({total} files) into examples",
        f"the --help examples run from {tmp_path.resolve()}",
    ]
    for name in example_names():
        for relative in example_files(name):
            copied = tmp_path / "examples" / name / relative
            assert copied.read_bytes() == (examples_root() / name / relative).read_bytes()


def test_copy_of_one_example_into_a_new_nested_folder(tmp_path: Path) -> None:
    result = run("three-tier", "--copy", str(tmp_path / "a" / "b"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["three-tier"]
    assert (tmp_path / "a" / "b" / "three-tier" / "flows.yaml").is_file()
    assert "the --help examples run from" not in result.output  # the folder is not `examples`


def test_copy_refuses_to_overwrite_and_copies_nothing(tmp_path: Path) -> None:
    mine = tmp_path / "examples" / "tutorial" / "03-db.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own\n")
    result = run("--copy", str(tmp_path / "examples"))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"error: {mine} exists; nothing copied (remove it or choose another DIR)"
    ]
    assert mine.read_text() == "my own\n"
    assert sorted(p.name for p in (tmp_path / "examples").iterdir()) == ["tutorial"]
    assert [p.name for p in mine.parent.iterdir()] == ["03-db.yaml"]


def test_copy_twice_names_the_first_file_in_the_way_and_the_count(tmp_path: Path) -> None:
    assert run("tutorial", "--copy", str(tmp_path)).exit_code == 0
    again = run("tutorial", "--copy", str(tmp_path))
    first = tmp_path / "tutorial" / str(example_files("tutorial")[0])
    rest = len(example_files("tutorial")) - 1
    assert again.exit_code == 2
    assert (
        again.output
        == f"error: {first} exists and {rest} more; nothing copied (remove it or choose another DIR)\n"
    )


def test_copy_into_a_path_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    result = run("tutorial", "--copy", str(tmp_path / "plain"))
    assert result.exit_code == 2
    assert result.output == f"error: --copy {tmp_path / 'plain'}: not a folder\n"


def test_copy_where_an_example_folder_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "tutorial").write_text("x")
    result = run("tutorial", "--copy", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: cannot copy into {tmp_path}: ")
    assert len(result.output.splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "thre-tier",
            "error: no example 'thre-tier' (did you mean three-tier or three-tier-db-ns?);"
            " the examples are admin-tiers, three-tier, three-tier-cilium,"
            " three-tier-cilium-pitfalls, three-tier-db-ns, tutorial",
        ),
        (
            "tutorail",
            "error: no example 'tutorail' (did you mean tutorial?);"
            " the examples are admin-tiers, three-tier, three-tier-cilium,"
            " three-tier-cilium-pitfalls, three-tier-db-ns, tutorial",
        ),
        (
            "zzz",
            "error: no example 'zzz'; the examples are admin-tiers, three-tier, three-tier-cilium,"
            " three-tier-cilium-pitfalls, three-tier-db-ns, tutorial",
        ),
    ],
)
def test_an_unknown_name_is_one_line_with_did_you_mean(name: str, message: str) -> None:
    for args in ([name], [name, "--path"], [name, "--copy", "never-made"]):
        result = run(*args)
        assert result.exit_code == 2
        assert result.output.splitlines() == [message]
    assert not Path("never-made").exists()


def test_path_and_copy_together_are_refused() -> None:
    result = run("tutorial", "--path", "--copy", "x")
    assert result.exit_code == 2
    assert result.output == "error: give --path or --copy, not both\n"
