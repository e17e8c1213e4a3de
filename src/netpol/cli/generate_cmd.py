"""``netpol generate``: least-privilege NetworkPolicies from a flows file or a matrix."""

from __future__ import annotations

import json
import sys

import click
import yaml

from netpol.analysis.flows import FlowsError, FlowsFile, read_flows, read_matrix
from netpol.analysis.generate import (
    CILIUM,
    DNS_MODES,
    KINDS,
    FlowResolveError,
    GenerateError,
    GenerateSettings,
    generate,
)
from netpol.cli.common import (
    EXIT_CHECK_FAILED,
    fail,
    input_options,
    limits_from,
    load_or_exit,
    options_from,
    output_option,
)
from netpol.cli.progress import progress_for_command
from netpol.model.options import PROFILES, InputLimits
from netpol.model.safe_text import MESSAGE_LIMIT, visible


def _read_flows(flows_path: str | None, matrix_path: str | None, limits: InputLimits) -> FlowsFile:
    if (flows_path is None) == (matrix_path is None):
        fail("give exactly one of --flows FILE or --from-matrix FILE")
    try:
        if flows_path is not None:
            return read_flows(flows_path, limits)
        assert matrix_path is not None
        return read_matrix(matrix_path, limits)
    except FlowsError as exc:
        fail(str(exc))


def _profile_given(params: dict[str, object]) -> str | None:
    """The --profile the user wrote (None when it is the default)."""
    source = click.get_current_context().get_parameter_source("profile")
    given = source is not None and source is not click.core.ParameterSource.DEFAULT
    profile = params.get("profile")
    return profile if given and isinstance(profile, str) else None


@click.command("generate")
@input_options
@click.option("--flows", "flows_path", type=click.Path(dir_okay=False), help="The flows file.")
@click.option(
    "--from-matrix",
    "matrix_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Use an exported matrix (netpol matrix -o json) as the flows: freeze what works today.",
)
@click.option(
    "--default-deny", is_flag=True, help="Add a default-deny policy to each namespace touched."
)
@click.option(
    "--dns",
    type=click.Choice(DNS_MODES),
    default="auto",
    show_default=True,
    help="DNS egress for workloads with egress rules: none; cluster (kube-system pods "
    "k8s-app=kube-dns, UDP/TCP 53); auto (the kube-dns Service's pods and target ports "
    "when the input has them, else as cluster).",
)
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default=KINDS[0],
    show_default=True,
    help="What to write: Kubernetes NetworkPolicies, or CiliumNetworkPolicies (checked "
    "under the cilium profile; DNS through Cilium's DNS proxy).",
)
@click.option(
    "--numeric-ports", is_flag=True, help="Write port numbers even where containers name them."
)
@click.option(
    "-w", "--write", "write_path", type=click.Path(dir_okay=False), help="Write to this file."
)
@output_option(
    "yaml",
    "json",
    default="yaml",
    meaning={"yaml": "the policies as manifests", "json": "GeneratedPolicies (docs/json.md)"},
)
def command(
    paths: tuple[str, ...],
    flows_path: str | None,
    matrix_path: str | None,
    default_deny: bool,
    dns: str,
    kind: str,
    numeric_ports: bool,
    write_path: str | None,
    output: str,
    **params: object,
) -> None:
    """Write NetworkPolicies that allow exactly the flows (plus DNS), one per workload the
    flows name, both directions, with a comment on every rule naming its flow.

    With --kind cilium they are CiliumNetworkPolicies, checked under the cilium profile.

    The engine checks the result before anything is written: the connectivity of the
    cluster under the generated policies must equal the flows plus DNS, pair by pair.
    Exit status: 0 written, 1 the flows cannot be expressed exactly (nothing written),
    2 bad input.

    \b
    Examples:
      netpol generate examples/three-tier --flows examples/three-tier/flows.yaml
      netpol generate examples/three-tier --flows flows.yaml --default-deny -w policies.yaml
      netpol generate examples/three-tier --flows flows.yaml --kind cilium
      netpol matrix examples/three-tier --by workload --include-external -o json > today.json
      netpol generate examples/three-tier --from-matrix today.json
    """
    flows = _read_flows(flows_path, matrix_path, limits_from(params))
    options = options_from(params)
    given = _profile_given(params)
    if kind == CILIUM and given is not None and not PROFILES[given].cilium_identity:
        fail(
            f"--kind cilium writes CiliumNetworkPolicies, which the check evaluates as Cilium "
            f"does: drop --profile {params['profile']} (or give --profile cilium)"
        )
    cluster = load_or_exit(paths, options)
    settings = GenerateSettings(
        default_deny=default_deny, dns=dns, numeric_ports=numeric_ports, kind=kind
    )
    progress = progress_for_command()
    try:
        result = generate(cluster, flows, options, settings, progress)
    except FlowResolveError as exc:
        fail(f"{flows.path}: {exc}")
    except GenerateError as exc:
        # the differences come one per line: each line is made visible on its own
        lines = (visible(line, MESSAGE_LIMIT) for line in str(exc).splitlines())
        click.echo("error: " + "\n".join(lines), err=True)
        sys.exit(EXIT_CHECK_FAILED)
    for note in result.notes:
        click.echo(f"note: {visible(note, MESSAGE_LIMIT)}", err=True)
    if output == "json":
        text = json.dumps(
            {
                "kind": "GeneratedPolicies",
                "flows": flows.path,
                "policies": list(yaml.safe_load_all(result.yaml)),
            },
            indent=2,
        )
    else:
        text = result.yaml
    progress.phase("writing")
    added = len(result.flows) - len(flows.flows)
    summary = (
        f"{len(result.policies)} polic{'y' if len(result.policies) == 1 else 'ies'} for "
        f"{len(flows.flows)} flow{'s' if len(flows.flows) != 1 else ''}"
        + (f" (+{added} DNS)" if added else "")
        + "; checked by the engine: exactly these flows are allowed"
    )
    if write_path is not None:
        try:
            with open(write_path, "w", encoding="utf-8") as handle:
                handle.write(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            fail(f"{write_path}: cannot write: {exc.strerror or exc}")
        click.echo(f"{summary}; written to {write_path}", err=True)
    else:
        click.echo(text.rstrip("\n"))
        click.echo(summary, err=True)
