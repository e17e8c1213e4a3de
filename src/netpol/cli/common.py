"""Options shared by the verbs that read a cluster, and the load-or-exit step."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from netpol.cli.live_input import live_cluster, live_options, live_profile, requested_target
from netpol.engine.resolve import ResolveError, parse_port_spec
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options
from netpol.validate.pipeline import LoadResult, check_and_build, load_cluster

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2

_DEFAULTS = Options()  # the flags' defaults are the model's


def input_options(func: F) -> F:
    """PATH... plus the options that change how the input becomes a cluster."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path(allow_dash=True)),
        click.option(
            "--profile",
            type=click.Choice(sorted(PROFILES)),
            default=_DEFAULTS.profile.name,
            show_default=True,
            help="Implementation-defined behaviour to assume (see `netpol profiles`).",
        ),
        click.option(
            "--pod-cidr",
            default=_DEFAULTS.pod_cidr,
            show_default=True,
            help="Where pods without status.podIP get their deterministic IPs.",
        ),
        click.option(
            "--nodes",
            type=click.IntRange(1, 10_000),
            default=_DEFAULTS.nodes,
            show_default=True,
            help="Nodes of the modelled cluster (DaemonSets run one pod per node).",
        ),
        click.option(
            "--default-namespace",
            default=_DEFAULTS.default_namespace,
            show_default=True,
            help="Namespace for objects that name none.",
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            help="Also list the objects skipped because netpol does not model their kind.",
        ),
        click.option(
            "--skip-invalid",
            is_flag=True,
            help="Drop invalid objects with a warning instead of refusing to evaluate.",
        ),
        click.option(
            "--no-implicit-dns",
            is_flag=True,
            help="Model only the input: no KIND CoreDNS and kube-dns Service when it has "
            "none (docs/addons.md; live mode never adds them).",
        ),
        *live_options(),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def options_from(params: dict[str, Any]) -> Options:
    """The Options the ``input_options`` flags ask for; a flag left empty keeps Options'
    default (in live mode the CNI's profile, unless --profile was given)."""
    given: dict[str, Any] = {
        key: params[key] for key in ("pod_cidr", "nodes", "default_namespace") if params.get(key)
    }
    profile = live_profile(params) or params.get("profile")
    if profile:
        given["profile"] = PROFILES[profile]
    # a live cluster runs its own cluster DNS, or truly lacks it: nothing is added there
    implicit_dns = not params.get("no_implicit_dns") and requested_target(params) is None
    return Options(
        skip_invalid=bool(params.get("skip_invalid")), implicit_dns=implicit_dns, **given
    )


def require_paths(paths: tuple[str, ...]) -> None:
    if not paths:
        fail("no input: give one or more files, directories, or - for stdin")


def load_or_exit(paths: tuple[str, ...], options: Options) -> Cluster:
    """The cluster, or exit 2 with every problem on its own line (warnings go to stderr too)."""
    target = requested_target()
    if target is None:
        require_paths(paths)
        result: LoadResult = load_cluster(paths, options)
    else:
        result = check_and_build(live_cluster(target).documents(), [], options)
    echo_diagnostics(result)
    context = click.get_current_context(silent=True)
    if context is not None and context.params.get("verbose") and result.cluster.skipped_kinds:
        skipped = ", ".join(f"{kind} x{count}" for kind, count in result.cluster.skipped_kinds)
        click.echo(f"skipped (kinds netpol does not model): {skipped}", err=True)
    if not result.ok:
        count = len(result.errors)
        click.echo(
            f"error: {count} problem{'s' if count != 1 else ''} in the input; nothing evaluated "
            "(fix them, or pass --skip-invalid to drop invalid objects)",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    return result.cluster


def echo_diagnostics(result: LoadResult) -> None:
    """Every diagnostic on stderr; the add-on note (load/addons.py) once per command, as
    a verb may load twice (diff), and not at all when nothing is evaluated."""
    context = click.get_current_context(silent=True)
    told: set[str] = context.find_root().meta.setdefault(_ADDON_NOTES, set()) if context else set()
    for diagnostic in result.diagnostics:
        if diagnostic.reason == "ImplicitAddon":
            if not result.ok or diagnostic.message in told:
                continue
            told.add(diagnostic.message)
        click.echo(diagnostic.text(), err=True)


_ADDON_NOTES = "netpol.addon-notes"


def parse_port_options(
    specs: tuple[str, ...], protocols: tuple[str, ...] = ("TCP", "UDP", "SCTP")
) -> list[tuple[int, str]]:
    """``--port`` values (``80``, ``80/TCP``, ``53/udp``) -> [(port, PROTOCOL)]; exit 2 on a
    bad one, naming it."""
    ports = []
    for spec in specs:
        try:
            parsed = parse_port_spec(spec.strip())
        except ResolveError as exc:
            fail(f"--port {spec!r}: {exc}")
        if parsed is None or parsed[1] not in protocols:
            examples = "80/TCP or 53/UDP"
            fail(
                f"--port {spec!r}: expected PORT or PORT/PROTOCOL ({'/'.join(protocols)}), e.g. {examples}"
            )
        ports.append(parsed)
    return ports


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: bad input or usage."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)
