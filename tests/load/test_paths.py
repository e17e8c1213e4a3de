"""Files, directories (recursive, manifests only, hidden directories skipped) and stdin."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from netpol.cli.main import cli
from netpol.load.paths import read_paths
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def ns(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"


def test_directories_are_read_recursively_and_in_order(tmp_path: Path) -> None:
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / ".cache").mkdir()
    (tmp_path / "z.yaml").write_text(ns("z"))
    (tmp_path / "a.yml").write_text(ns("a"))
    (tmp_path / "b" / "c.json").write_text(
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "c"}}'
    )
    (tmp_path / "b" / "deeper" / "d.yaml").write_text(ns("d"))
    (tmp_path / "README.md").write_text("# not a manifest: {{ broken")
    (tmp_path / "values.yaml.bak").write_text("garbage: [")
    (tmp_path / ".git" / "e.yaml").write_text(ns("hidden-git"))
    (tmp_path / "b" / ".cache" / "f.yaml").write_text(ns("hidden-cache"))
    docs, problems = read_paths([str(tmp_path)])
    assert problems == []
    assert [Path(d.path).relative_to(tmp_path).as_posix() for d in docs] == [
        "a.yml",
        "z.yaml",
        "b/c.json",
        "b/deeper/d.yaml",
    ]
    result = load_cluster([str(tmp_path)], Options(implicit_dns=False))
    assert result.ok
    assert [n.name for n in result.cluster.namespaces] == ["a", "c", "d", "z"]


def test_stdin_is_read_with_dash_and_named_dash() -> None:
    result = load_cluster(
        ["-"],
        Options(implicit_dns=False),
        io.BytesIO((ns("from-stdin") + "---\n" + ns("second")).encode()),
    )
    assert result.ok
    assert [(n.name, n.source.at()) for n in result.cluster.namespaces] == [
        ("from-stdin", "-:1"),
        ("second", "-:5"),
    ]


def test_stdin_through_the_cli_like_helm_template() -> None:
    manifest = "".join(
        (EXAMPLES / "tutorial" / name).read_text() + "\n---\n"
        for name in ("00-namespace.yaml", "02-backend.yaml")
    )
    result = CliRunner().invoke(cli, ["get", "svc", "-"], input=manifest)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == [
        "NAMESPACE",
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "PORT(S)",
    ]
    assert result.stdout.splitlines()[1].split()[:3] == ["app1-ns", "backend-svc", "ClusterIP"]


def test_files_directories_and_stdin_combine(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(ns("one"))
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "two.yaml").write_text(ns("two"))
    result = load_cluster(
        [str(tmp_path / "one.yaml"), str(tmp_path / "dir"), "-"],
        Options(implicit_dns=False),
        io.BytesIO(ns("three").encode()),
    )
    assert result.ok
    assert [n.name for n in result.cluster.namespaces] == ["one", "three", "two"]


def test_a_syntax_error_keeps_the_documents_before_it(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(ns("kept") + "---\nkind: [\n")
    docs, problems = read_paths([str(tmp_path / "x.yaml")])
    assert [d.data["metadata"]["name"] for d in docs] == ["kept"]
    assert [p.one_line().replace(str(tmp_path) + "/", "") for p in problems] == [
        "x.yaml:6: error: invalid YAML: did not find expected node content (while parsing a flow node)"
    ]
