"""A kind netpol models, under an API group it does not, is counted with its apiVersion.

Without the apiVersion, "skipped: Pod x1" next to pods that did load would read as a
pod that went missing. Mutation-checked: counting such a document under its bare kind
(``label = kind`` in ``load/build.py``) passed every other test.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from netpol.cli.get_cmd import command as get

from .support import build, lines


def test_a_known_kind_of_another_api_is_counted_with_its_api_version() -> None:
    cluster = build(
        """
        {apiVersion: example.com/v1, kind: Pod, metadata: {name: p, namespace: a}}
        ---
        {apiVersion: cilium.io/v2, kind: NetworkPolicy, metadata: {name: d, namespace: a}, spec: {}}
        ---
        {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
        """
    )
    assert cluster.skipped_kinds == (
        ("ConfigMap", 1),
        ("NetworkPolicy (cilium.io/v2)", 1),
        ("Pod (example.com/v1)", 1),
    )
    assert (cluster.pods, cluster.policies) == ((), ())
    assert lines(cluster) == []


def test_verbose_names_the_api_version_of_a_skipped_known_kind(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: example.com/v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
    )
    result = CliRunner().invoke(get, ["ns", str(tmp_path), "--verbose", "--no-implicit-dns"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "skipped (kinds netpol does not model): Pod (example.com/v1) x1\n"
