"""The verb group is lazy: its static table says what the real commands say, and starting
netpol (import, --help, --version) pulls in none of the heavy modules."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from netpol.cli.main import VERBS, LazyGroup, cli, load_verb

HEAVY = ("numpy", "netpol.lab", "kubernetes", "jsonschema")


def modules_after(code: str) -> list[str]:
    """sys.modules of a fresh interpreter after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def among(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules that are one of ``packages`` or inside one."""
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


RUN_MAIN = """
from netpol.cli.main import main
try:
    main({argv!r})
except SystemExit:
    pass
"""


@pytest.mark.parametrize(
    "code",
    [
        "import netpol.cli.main",
        RUN_MAIN.format(argv=["--help"]),
        RUN_MAIN.format(argv=["--version"]),
    ],
    ids=["import", "--help", "--version"],
)
def test_starting_netpol_imports_no_verb_and_nothing_heavy(code: str) -> None:
    modules = modules_after(code)
    assert among(modules, HEAVY) == []
    assert [m for m in modules if m.startswith("netpol.cli.") and m.endswith("_cmd")] == []


@pytest.mark.parametrize(
    ("verb", "absent"),
    [
        ("validate", HEAVY),
        ("explain", HEAVY),
        # lint decides its checks per endpoint class (engine.class_sets), which is numpy
        ("lint", ("netpol.lab", "kubernetes", "jsonschema")),
        ("get", HEAVY),
        ("describe", HEAVY),
        ("matrix", ("netpol.lab", "kubernetes", "jsonschema")),  # the matrix is numpy
    ],
)
def test_a_verb_imports_only_what_it_needs(verb: str, absent: tuple[str, ...]) -> None:
    modules = modules_after(f"import {VERBS[verb][0].partition(':')[0]}")
    assert among(modules, absent) == []


def test_the_probe_sees_heavy_modules_when_they_are_imported() -> None:
    # the structural check above could pass vacuously if the probe saw nothing
    assert "numpy" in among(modules_after("import netpol.cli.matrix_cmd"), HEAVY)
    assert "netpol.lab" in among(modules_after("import netpol.cli.lab_cmd"), HEAVY)


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_the_table_names_the_real_command_with_its_short_help(verb: str) -> None:
    command = load_verb(verb)
    assert command.name == verb
    assert VERBS[verb][1] == command.get_short_help_str(limit=10**6)


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_help_lists_the_verbs_as_click_would_with_the_real_commands(width: int) -> None:
    eager = click.Group(
        "netpol",
        commands={name: load_verb(name) for name in VERBS},
        context_settings=cli.context_settings,
    )
    lazy_help = CliRunner().invoke(cli, ["--help"], terminal_width=width).output
    formatter = click.HelpFormatter(width=width, max_width=100)
    eager.format_commands(
        click.Context(eager, terminal_width=width, max_content_width=100), formatter
    )
    commands = formatter.getvalue()
    assert commands.startswith("Commands:")
    assert lazy_help.endswith(commands)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("explian", "Error: No such command 'explian' (did you mean 'explain'?)."),
        ("exampel", "Error: No such command 'exampel' (did you mean 'examples'?)."),
        ("zzzz", "Error: No such command 'zzzz'."),
    ],
)
def test_an_unknown_verb_says_so_with_the_nearest_one(typed: str, message: str) -> None:
    result = CliRunner().invoke(cli, [typed])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == message


def test_a_verb_runs_through_the_lazy_group() -> None:
    result = CliRunner().invoke(cli, ["profiles"])
    assert result.exit_code == 0, result.output
    assert "calico" in result.output


def test_completing_a_verb_lists_it_from_the_table_without_importing_it() -> None:
    code = """
import os, sys
os.environ.update(_NETPOL_COMPLETE="bash_complete", COMP_WORDS="netpol ex", COMP_CWORD="1")
from netpol.cli.main import main
try:
    main([])
except SystemExit:
    pass
"""
    probe = f"{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    *completions, modules = done.stdout.strip().splitlines()
    assert completions == ["plain,examples", "plain,explain"]
    assert [m for m in json.loads(modules) if m.endswith("_cmd")] == []


def test_a_command_added_the_usual_way_is_listed_and_runs_beside_the_table() -> None:
    @click.command("zz-extra")
    def extra() -> None:
        """An extra verb, added eagerly."""
        click.echo("extra ran")

    group = LazyGroup("netpol", context_settings=cli.context_settings)
    group.add_command(extra)
    runner = CliRunner()
    assert runner.invoke(group, ["zz-extra"]).output == "extra ran\n"
    listing = runner.invoke(group, ["--help"]).output
    # one column of names, as wide as the longest ("completion")
    assert re.search(r"^  zz-extra +An extra verb, added eagerly\.$", listing, re.M)
    assert re.search(r"^  validate +Check every object", listing, re.M)
    assert runner.invoke(group, ["zz-extr"]).output.splitlines()[-1] == (
        "Error: No such command 'zz-extr' (did you mean 'zz-extra'?)."
    )


# the code of the admin, baseline, Calico and Cilium policies: loaded only by inputs that have
# them (explain and describe name the tiers' evidence types, so only their reading is lazy)
READING_POLICY_KINDS = (
    "netpol.validate.adminnetworkpolicy",
    "netpol.validate.calico",
    "netpol.validate.cilium",
    "netpol.load.admin_policies",
    "netpol.load.calico",
    "netpol.load.cilium",
)
POLICY_KINDS = (
    *READING_POLICY_KINDS,
    "netpol.engine.cilium",
    "netpol.engine.tiers",
    "netpol.engine.tiered_matrix",
)
RUN_QUIETLY = """
import contextlib, io
from netpol.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({argv!r})
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code
"""


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        (["matrix", "examples/three-tier", "--by", "workload", "-o", "json"], POLICY_KINDS),
        (
            [
                "explain",
                "examples/three-tier",
                "--from",
                "app1-ns/frontend-deploy",
                "--to",
                "backend-svc:5678",
            ],
            READING_POLICY_KINDS,
        ),
        (["describe", "pod", "app1-ns/db-sts-0", "examples/three-tier"], READING_POLICY_KINDS),
        (["describe", "policy", "app1-ns/db-policy", "examples/three-tier"], READING_POLICY_KINDS),
    ],
    ids=["matrix", "explain", "describe pod", "describe policy"],
)
def test_a_networkpolicy_input_loads_no_code_of_the_other_policy_kinds(
    argv: list[str], absent: tuple[str, ...]
) -> None:
    assert among(modules_after(RUN_QUIETLY.format(argv=argv)), absent) == []


@pytest.mark.parametrize(
    ("example", "loaded"),
    [
        ("examples/three-tier-cilium", ("netpol.validate.cilium", "netpol.engine.cilium")),
        ("examples/admin-tiers", ("netpol.validate.adminnetworkpolicy", "netpol.engine.tiers")),
    ],
)
def test_an_input_with_other_policy_kinds_loads_their_code(
    example: str, loaded: tuple[str, ...]
) -> None:
    # the check above could pass vacuously if the probe never saw these modules
    modules = modules_after(RUN_QUIETLY.format(argv=["matrix", example, "-o", "json"]))
    assert set(loaded) <= set(among(modules, POLICY_KINDS))
