"""Kinds netpol does not model are counted, and listed with --verbose."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from netpol.cli.get_cmd import command as get
from netpol.load.build import build_cluster
from netpol.load.yamldoc import parse_text
from netpol.model.options import Options


def test_other_unknown_kinds_are_only_counted() -> None:
    docs, _ = parse_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", "cm.yaml")

    cluster = build_cluster(docs, Options(implicit_dns=False))

    assert cluster.diagnostics == ()
    assert dict(cluster.skipped_kinds) == {"ConfigMap": 1}


def test_verbose_lists_the_skipped_kinds(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: a}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\n"
    )
    quiet = CliRunner().invoke(get, ["ns", str(tmp_path), "--no-implicit-dns"])
    verbose = CliRunner().invoke(get, ["ns", str(tmp_path), "--verbose", "--no-implicit-dns"])

    assert quiet.stderr == ""
    assert verbose.stderr == "skipped (kinds netpol does not model): ConfigMap x2, Secret x1\n"
    assert verbose.stdout == quiet.stdout
