"""``netpol`` entry point: the verb group and the one place that turns failures into exit codes.

The group is lazy: ``netpol --version``, ``netpol --help`` and ``netpol VERB`` import only the
verb that runs, so a verb that needs no numpy, lab or live client does not pay for them (a
kubectl plugin must start instantly). ``VERBS`` is the one list of verbs: name -> where its
click command lives, and the short help ``netpol --help`` prints for it (checked against the
real command by tests/cli/test_main_lazy.py).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

import click

from netpol import __version__
from netpol.cli.terminal import COLOR_CHOICES, program_name, set_colour

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

# name -> ("module:attribute" of its click command, its short help as `netpol --help` shows it)
VERBS: dict[str, tuple[str, str]] = {
    "completion": (
        "netpol.cli.completion_cmd:command",
        "Print the completion script for SHELL; load it once and TAB completes verbs, options"
        " and their values.",
    ),
    "demo": (
        "netpol.cli.demo_cmd:command",
        "Replay the tutorial: the open cluster (Step 3), the three policies one by one, Step 5"
        " failing as published, why (explain, lint), the one-line fix, Step 5 holding, and DNS.",
    ),
    "describe": (
        "netpol.cli.describe_cmd:command",
        "Describe a NetworkPolicy (what it isolates, each rule in words, and the pods,"
        " namespaces and IP ranges every peer matches right now, flagging peers that match"
        " nothing), an admin, baseline or Calico policy (its tier and order, the pods it"
        " selects, each rule with its action and what every peer matches), or a pod (the"
        " policies isolating it and whom it reaches).",
    ),
    "diff": (
        "netpol.cli.diff_cmd:command",
        "Show the connections added, removed and changed between two policy sets, per pair,"
        " with both connection sets.",
    ),
    "doctor": (
        "netpol.cli.doctor_cmd:command",
        "Name the cluster's CNI, whether it enforces NetworkPolicy (kindnet before KIND v0.24"
        " and flannel do not), the profile that matches it, the Kubernetes version, and what"
        " the policies mean there.",
    ),
    "examples": (
        "netpol.cli.examples_cmd:command",
        "List the example manifests that ship with netpol, print where one lives, or copy"
        " them into a folder so every --help example runs there.",
    ),
    "explain": (
        "netpol.cli.explain_cmd:command",
        "Decide one connection and say why: which policies isolate each side, and which rule"
        " allowed it or why none did.",
    ),
    "generate": (
        "netpol.cli.generate_cmd:command",
        "Write NetworkPolicies that allow exactly the flows (plus DNS), one per workload the"
        " flows name, both directions, with a comment on every rule naming its flow.",
    ),
    "get": (
        "netpol.cli.get_cmd:command",
        "List namespaces, nodes, pods, services, policies or workloads as netpol models them:"
        " workloads expanded into pods with their IPs and nodes, policies after defaulting.",
    ),
    "graph": (
        "netpol.cli.graph_cmd:command",
        "Draw who may connect to whom: namespaces as clusters, workloads (or pods) as nodes,"
        " external blocks as their own nodes, edges labelled with the allowed connection set.",
    ),
    "lab": (
        "netpol.cli.lab_cmd:command",
        "A sandbox that enforces the policies on real packets: a network namespace per pod,"
        " real listeners, Service VIPs with DNAT, cluster DNS, and one nftables table compiled"
        " from the engine's policies.",
    ),
    "lint": (
        "netpol.cli.lint_cmd:command",
        "Find the NetworkPolicy pitfalls: AND-vs-OR peers, missing DNS egress, selectors that"
        " match nothing, ports written against the Service, ignored rules, redundant policies,"
        " ...",
    ),
    "matrix": (
        "netpol.cli.matrix_cmd:command",
        "Print who can connect to whom: a truth table ('.' allowed, 'X' denied, one table per"
        " --port), or the allowed connection set of every ordered pair.",
    ),
    "probe": (
        "netpol.cli.probe_cmd:command",
        "Connect for real from inside running pods (through the exec API, with whatever the"
        " image has: python3, nc, bash /dev/tcp, busybox) to every other pod's declared TCP"
        " ports, and print what happened beside what netpol predicts.",
    ),
    "profiles": (
        "netpol.cli.profiles_cmd:command",
        "List the profiles (upstream, calico, cilium) and the behaviour each one assumes where"
        " the NetworkPolicy API leaves it to the implementation.",
    ),
    "snapshot": (
        "netpol.cli.snapshot_cmd:command",
        "Read a live cluster (get and list only) and save it as manifests: Namespaces, Nodes,"
        " Pods (with their IPs, nodes and owners), Services, NetworkPolicies and, where the"
        " cluster has them, ServiceAccounts, admin and baseline policies and Calico's tiers and"
        " policies.",
    ),
    "validate": (
        "netpol.cli.validate_cmd:command",
        "Check every object in PATH... as the API server would on create, and report every"
        " problem at once: file:line, object, field path, message and offending value.",
    ),
    "verify": ("netpol.cli.verify_cmd:command", "Check what must and must not connect."),
}


def load_verb(name: str) -> click.Command:
    """Import the module of verb ``name`` and return its click command."""
    module, _, attribute = VERBS[name][0].partition(":")
    command: click.Command = getattr(importlib.import_module(module), attribute)
    return command


class LazyGroup(click.Group):
    """A group whose verbs are imported when they run, not when the group is built.

    Commands added the usual way (``add_command``) are listed and run beside the table's.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*VERBS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        return load_verb(cmd_name) if cmd_name in VERBS else None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        known = self.list_commands(ctx)
        if name and name not in known and not name.startswith("-"):
            import difflib  # only on this error path

            near = difflib.get_close_matches(name, known, n=1)
            if near:
                ctx.fail(f"No such command {name!r} (did you mean {near[0]!r}?).")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(name, self._summary(name).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        # `netpol <TAB>` lists the verbs from the table; click's own would import every one
        from click.shell_completion import CompletionItem

        verbs = [
            CompletionItem(name, help=self._summary(name).get_short_help_str())
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        return verbs + click.Command.shell_complete(self, ctx, incomplete)

    def _summary(self, name: str) -> click.Command:
        """The command itself if it was added, else a stand-in carrying only the table's
        short help: click shortens that exactly as it would the real command's help, and
        nothing is imported."""
        return self.commands.get(name) or click.Command(name, help=VERBS[name][1])


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="netpol")
@click.option(
    "--color",
    type=click.Choice(COLOR_CHOICES),
    default="auto",
    show_default=True,
    help="Colour verdicts and severities: auto = on a terminal, unless NO_COLOR is set.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress line on stderr.")
def cli(color: str, quiet: bool) -> None:
    """Kubernetes NetworkPolicy, end to end: validate, explain, matrix, verify, lint, diff,
    generate, graph, and a lab that enforces the same policies on real packets.

    The examples name examples/...: in a clone they are there; after a pip install,
    `netpol examples --copy examples` puts them in the current folder.

    \b
    Examples:
      netpol examples --copy examples
      netpol validate examples/tutorial
      netpol explain examples/three-tier --from app1-ns/frontend-deploy --to backend-svc:5678
      netpol matrix examples/three-tier
      netpol demo
    """
    set_colour(color)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a broken pipe (``| head``) ends quietly, as Unix tools do."""
    try:
        cli.main(args=argv, prog_name=program_name(), standalone_mode=True)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
