"""Options shared by the verbs that read a cluster, and the load-or-exit step."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from netpol.cli.live_input import live_cluster, live_options, live_profile, requested_target
from netpol.cli.progress import progress_for_command
from netpol.engine.names import Scope, did_you_mean, parse_selector
from netpol.engine.resolve import ResolveError, parse_port_spec
from netpol.load.fqdn_map import FqdnMapError, read_fqdn_map
from netpol.load.paths import format_size, parse_size
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, InputLimits, Options
from netpol.model.safe_text import MESSAGE_LIMIT, visible
from netpol.validate.pipeline import LoadResult, check_and_build, load_cluster

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2

_DEFAULTS = Options()  # the flags' defaults are the model's
READ_ERROR = "ReadError"  # the loader's reason for a path it could not read


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
        *_read_option_list(),
        click.option(
            "--fqdn-map",
            type=click.Path(dir_okay=False),
            help="YAML or JSON mapping of DNS names to addresses, so Cilium toFQDNs rules "
            "match them (without it they match nothing: the verdict depends on DNS).",
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


class _Size(click.ParamType):
    name = "SIZE"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        size = parse_size(str(value))
        if size is None or size <= 0:
            self.fail(f"{value!r} is not a size (bytes, or with K, M, G: 512M, 1G)", param, ctx)
        return size


def read_options(func: F) -> F:
    """--follow-symlinks and --max-input-size, for a verb that reads files without
    ``input_options`` (validate)."""
    for decorator in reversed(_read_option_list()):
        func = decorator(func)
    return func


def _read_option_list() -> list[Callable[[Any], Any]]:
    """--follow-symlinks and --max-input-size: how much of the files a verb may read."""
    return [
        click.option(
            "--follow-symlinks",
            is_flag=True,
            help="Follow symbolic links in input directories that lead outside them "
            "(default: refused). Only regular files are ever read.",
        ),
        click.option(
            "--max-input-size",
            type=_Size(),
            default=format_size(_DEFAULTS.input_limits.max_bytes),
            show_default=True,
            help="Most bytes read from any file, and from all input files together.",
        ),
    ]


def limits_from(params: dict[str, Any]) -> InputLimits:
    """The InputLimits the ``read_options`` flags ask for."""
    return InputLimits(
        max_bytes=int(params.get("max_input_size") or _DEFAULTS.input_limits.max_bytes),
        follow_symlinks=bool(params.get("follow_symlinks")),
    )


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
    if params.get("fqdn_map"):
        try:
            given["fqdn_map"] = read_fqdn_map(params["fqdn_map"], limits_from(params))
        except FqdnMapError as exc:
            fail(f"--fqdn-map: {exc}")
    return Options(
        skip_invalid=bool(params.get("skip_invalid")),
        input_limits=limits_from(params),
        implicit_dns=implicit_dns,
        **given,
    )


def require_paths(paths: tuple[str, ...]) -> None:
    if not paths:
        fail("no input: give one or more files, directories, or - for stdin")


def load_or_exit(paths: tuple[str, ...], options: Options) -> Cluster:
    """The cluster, or exit 2 with every problem on its own line (warnings go to stderr too)."""
    target = requested_target()
    progress = progress_for_command()
    if target is None:
        require_paths(paths)
        result: LoadResult = load_cluster(paths, options, progress=progress)
    else:
        result = check_and_build(live_cluster(target).documents(), [], options, progress)
    echo_diagnostics(result)
    if result.ok:
        _refuse_other_profile(result.cluster)
    context = click.get_current_context(silent=True)
    if context is not None and context.params.get("verbose") and result.cluster.skipped_kinds:
        skipped = ", ".join(f"{kind} x{count}" for kind, count in result.cluster.skipped_kinds)
        click.echo(f"skipped (kinds netpol does not model): {skipped}", err=True)
    if not result.ok:
        if all(d.reason == READ_ERROR for d in result.errors):
            sys.exit(EXIT_BAD_INPUT)  # a missing or unreadable path: its line said it all
        count = len(result.errors)
        click.echo(
            f"error: {count} problem{'s' if count != 1 else ''} in the input; nothing evaluated "
            "(fix them, or pass --skip-invalid to drop invalid objects)",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    return result.cluster


def _refuse_other_profile(cluster: Cluster) -> None:
    """Cilium policies are only meaningful under Cilium: an explicit other --profile is a
    contradiction the user must resolve (left at its default, the cilium profile is used)."""
    context = click.get_current_context(silent=True)
    if context is None or not cluster.cilium_policies:
        return
    profile = context.params.get("profile")
    explicit = context.get_parameter_source("profile") == ParameterSource.COMMANDLINE
    if explicit and profile and not PROFILES[profile].cilium_identity:
        first = cluster.cilium_policies[0]
        fail(
            f"{first.source.at()}: {first.id}: the input holds {len(cluster.cilium_policies)} "
            f"Cilium polic{'ies' if len(cluster.cilium_policies) != 1 else 'y'}, which only "
            f"Cilium enforces, but --profile {profile} was given (drop it, or use "
            "--profile cilium)"
        )


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
    """One line on stderr, exit 2: bad input or usage (whatever names or server text the
    message quotes, it stays one line: ``safe_text.visible``)."""
    click.echo(f"error: {visible(message, MESSAGE_LIMIT)}", err=True)
    sys.exit(EXIT_BAD_INPUT)


# -- -n / -A / -l -------------------------------------------------------------------------------

SCOPE_HELP = {
    "namespace": "Only pods of this namespace (and objects in it).",
    "all_namespaces": "Every namespace (the default: the input is the whole cluster).",
    "selector": (
        "Only pods whose labels match this kubectl label selector: k=v, k==v, k!=v, "
        "'k in (a,b)', 'k notin (a)', k, !k; comma-separated, ANDed."
    ),
}


def scope_options(func: F) -> F:
    """``-n/--namespace``, ``-A/--all-namespaces`` and ``-l/--selector``: spelt and
    documented once for every verb that lists or evaluates endpoints (what each verb does
    with them is in its own --help and docs page)."""
    decorators = [
        click.option("-n", "--namespace", default=None, metavar="NS", help=SCOPE_HELP["namespace"]),
        click.option("-A", "--all-namespaces", is_flag=True, help=SCOPE_HELP["all_namespaces"]),
        click.option(
            "-l", "--selector", default=None, metavar="SELECTOR", help=SCOPE_HELP["selector"]
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def scope_from(params: dict[str, Any], cluster: Cluster | None = None) -> Scope:
    """The Scope the ``scope_options`` flags ask for; exit 2 on -n with -A, on a selector
    that does not parse, or on a namespace the input does not have (with the near names)."""
    namespace = params.get("namespace")
    if namespace and params.get("all_namespaces"):
        fail("-n/--namespace and -A/--all-namespaces exclude each other")
    selector = None
    text = params.get("selector")
    if text is not None:
        try:
            selector = parse_selector(text)
        except ValueError as exc:
            fail(f"-l/--selector: {exc}")
    if namespace and cluster is not None:
        known = {n.name for n in cluster.namespaces} | {p.namespace for p in cluster.pods}
        if namespace not in known:
            fail(
                f"-n/--namespace: no namespace {namespace!r} in the input{did_you_mean(namespace, known)}"
            )
    return Scope(namespace or None, selector)


def note_empty_scope(count: int, scope: Scope, what: str = "pods") -> None:
    """kubectl's "No resources found" when -n/-l leave nothing in view (on stderr)."""
    if count or scope.everything:
        return
    parts = [f"-n {scope.namespace}"] if scope.namespace else []
    parts += [f"-l {scope.selector.text()}"] if scope.selector is not None else []
    click.echo(f"note: no {what} in scope ({' '.join(parts)})", err=True)


# -- -o -----------------------------------------------------------------------------------------

# One vocabulary for every verb: what each format name means, whatever the verb.
OUTPUT_FORMATS = {
    "text": "prose",
    "table": "a table",
    "wide": "a table with more columns",
    "name": "kind/name per line",
    "json": "JSON (docs/json.md)",
    "yaml": "the json document as YAML",
    "csv": "comma-separated",
    "md": "a Markdown table",
    "sarif": "SARIF 2.1 for code scanning",
    "junit": "JUnit XML",
    "dot": "Graphviz",
    "svg": "SVG (needs dot)",
    "mermaid": "Mermaid",
    "html": "one self-contained page",
}


def output_option(
    *formats: str, default: str, meaning: dict[str, str] | None = None
) -> Callable[[F], F]:
    """``-o/--output`` with ``formats`` (each from OUTPUT_FORMATS), listed and explained the
    same way on every verb; ``meaning`` says what a format holds where it is more specific
    (get's json is a Kubernetes List)."""
    unknown = [f for f in formats if f not in OUTPUT_FORMATS]
    assert not unknown and default in formats, f"undocumented output format {unknown or default}"
    said = {**OUTPUT_FORMATS, **(meaning or {})}
    described = "; ".join(f"{f}: {said[f]}" for f in formats)
    return click.option(
        "-o",
        "--output",
        type=click.Choice(formats),
        default=default,
        show_default=True,
        help=f"Output format ({described}).",
    )


def document_text(document: object, output: str) -> str:
    """A JSON-shaped document as ``-o json`` or ``-o yaml`` text (same content, key order
    kept)."""
    if output == "yaml":
        import yaml  # only the verbs asked for yaml pay for it

        from netpol.load.scalars import SafeDumper

        dumped: str = yaml.dump(
            document, Dumper=SafeDumper, sort_keys=False, default_flow_style=False
        )
        return dumped.rstrip("\n")
    return json.dumps(document, indent=2)


def echo_document(document: object, output: str) -> None:
    """Print ``document_text``."""
    click.echo(document_text(document, output))


def echo_json_text(text: str, output: str) -> None:
    """A renderer's JSON text as ``-o json`` (unchanged) or ``-o yaml``."""
    click.echo(document_text(json.loads(text), output) if output == "yaml" else text)
