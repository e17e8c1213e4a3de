"""``netpol profiles``: every implementation-defined knob and its value per profile."""

from __future__ import annotations

import click

from netpol.cli.common import echo_document, output_option
from netpol.model.options import KNOB_HELP, PROFILES
from netpol.render.table import render_table


@click.command("profiles")
@output_option("table", "json", "yaml", default="table")
def command(output: str) -> None:
    """List the profiles (upstream, calico, cilium) and the behaviour each one assumes where
    the NetworkPolicy API leaves it to the implementation.

    \b
    Example:
      netpol profiles
      netpol matrix examples/three-tier --profile cilium
    """
    names = list(PROFILES)
    if output in ("json", "yaml"):
        document = {
            "kind": "ProfileList",
            "profiles": [
                {"name": p.name, "description": p.description, "knobs": p.knobs()}
                for p in PROFILES.values()
            ],
            "knobs": KNOB_HELP,
        }
        echo_document(document, output)
        return
    rows = [
        [knob, *("yes" if PROFILES[n].knobs()[knob] else "no" for n in names), help_text]
        for knob, help_text in KNOB_HELP.items()
    ]
    click.echo(render_table(["KNOB", *(n.upper() for n in names), "MEANING"], rows))
    click.echo()
    for profile in PROFILES.values():
        click.echo(f"{profile.name}: {profile.description}")
