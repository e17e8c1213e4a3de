"""One grammar for every verb: the same -n/-A/-l and -o everywhere, the same names, and
errors that name the bad part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result
from tests.conftest import without_addon_note

from netpol.cli.common import OUTPUT_FORMATS, SCOPE_HELP
from netpol.cli.main import cli, load_verb
from netpol.engine.ports import ConnectionSet

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = str(REPO / "examples" / "tutorial")
THREE_TIER = str(REPO / "examples" / "three-tier")
EXPECT = str(REPO / "examples" / "tutorial" / "expectations.yaml")
GRAPH_SCHEMA = json.loads((REPO / "docs" / "schemas" / "graph.schema.json").read_text())

# the verbs that list or evaluate endpoints (issue 12)
SCOPED_VERBS = ("matrix", "lint", "verify", "graph", "diff", "get", "describe")
# every verb with -o: each offers json and yaml
OUTPUT_VERBS = (
    *SCOPED_VERBS,
    "explain",
    "validate",
    "generate",
    "profiles",
    "doctor",
    "probe",
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _options(verb: str) -> dict[str, click.Option]:
    command = load_verb(verb)  # the group is lazy: its table names each verb's command
    return {
        name: p
        for p in command.params
        if isinstance(p, click.Option)
        for name in (*p.opts, *p.secondary_opts)
    }


@pytest.mark.parametrize("verb", SCOPED_VERBS)
def test_every_endpoint_verb_has_n_a_and_l_spelt_once(verb: str) -> None:
    options = _options(verb)
    for short, long, help_key in (
        ("-n", "--namespace", "namespace"),
        ("-A", "--all-namespaces", "all_namespaces"),
        ("-l", "--selector", "selector"),
    ):
        assert options[short] is options[long], f"{verb} {short}"
        assert options[short].help == SCOPE_HELP[help_key], f"{verb} {short}"


@pytest.mark.parametrize("verb", OUTPUT_VERBS)
def test_every_verb_offers_json_and_yaml_and_explains_o_alike(verb: str) -> None:
    output = _options(verb)["-o"]
    assert isinstance(output.type, click.Choice)
    choices = list(output.type.choices)
    assert {"json", "yaml"} <= set(choices)
    assert set(choices) <= set(OUTPUT_FORMATS)
    assert output.help is not None and output.help.startswith("Output format (")
    for choice in choices:  # every format is named and explained in the help
        assert f"{choice}: " in output.help


def _json_and_yaml(*args: str) -> tuple[object, object]:
    as_json = run(*args, "-o", "json")
    as_yaml = run(*args, "-o", "yaml")
    assert as_json.exit_code in (0, 1), as_json.output
    assert as_yaml.exit_code == as_json.exit_code
    return json.loads(as_json.stdout), yaml.safe_load(as_yaml.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ("matrix", TUTORIAL),
        ("lint", TUTORIAL),
        ("verify", TUTORIAL, "--expect", EXPECT),
        ("graph", TUTORIAL),
        ("diff", TUTORIAL, THREE_TIER),
        ("get", "pods", TUTORIAL),
        ("describe", "pod", "app1-ns/db-sts-0", TUTORIAL),
        ("explain", TUTORIAL, "--from", "app1-ns/frontend", "--to", "backend-svc:5678"),
        ("validate", TUTORIAL),
        ("profiles",),
    ],
)
def test_yaml_is_the_json_document(args: tuple[str, ...]) -> None:
    as_json, as_yaml = _json_and_yaml(*args)
    assert as_yaml == as_json


def test_graph_json_is_nodes_and_edges_by_the_schema() -> None:
    result = run("graph", TUTORIAL, "--expect", EXPECT, "-o", "json")

    document = json.loads(result.stdout)
    jsonschema.validate(document, GRAPH_SCHEMA)
    ids = {n["id"] for n in document["nodes"]}
    assert {"app1-ns/frontend-deploy", "app1-ns/backend-deploy", "app1-ns/db-sts"} <= ids
    assert all(e["src"] in ids and e["dst"] in ids for e in document["edges"])
    denied = [e for e in document["edges"] if e["style"] == "denied"]
    assert [(e["src"], e["dst"]) for e in denied] == [
        ("app1-ns/frontend-deploy", "app1-ns/backend-deploy")
    ]


# -- -n / -A / -l mean what kubectl means ---------------------------------------------------


def _matrix_pods(*args: str) -> list[str]:
    result = run("matrix", TUTORIAL, *args, "-o", "json")
    assert result.exit_code == 0, result.output
    return [e["id"].split("-")[0] for e in json.loads(result.stdout)["endpoints"]]


@pytest.mark.parametrize(
    ("args", "pods"),
    [
        ((), ["app1", "app1", "app1", "kube", "kube"]),
        (("-A",), ["app1", "app1", "app1", "kube", "kube"]),
        (("-n", "kube-system"), ["kube", "kube"]),
        (("-l", "role in (frontend,db)"), ["app1", "app1"]),
        (("-n", "app1-ns", "-l", "role!=db"), ["app1", "app1"]),
        (("-n", "kube-system", "-l", "role"), []),
    ],
)
def test_matrix_keeps_the_pods_in_scope(args: tuple[str, ...], pods: list[str]) -> None:
    assert _matrix_pods(*args) == pods


def test_matrix_in_scope_is_the_full_matrix_restricted() -> None:
    """Scoping changes what is shown, never a verdict."""

    def pairs(*args: str) -> dict[tuple[str, str], str]:
        document = json.loads(run("matrix", TUTORIAL, *args, "-o", "json").stdout)
        return {(c["src"], c["dst"]): c["text"] for c in document["connections"]}

    everything = pairs()
    scoped = pairs("-n", "app1-ns")
    assert scoped
    assert scoped == {
        k: v for k, v in everything.items() if all(e.startswith("app1-ns/") for e in k)
    }


def test_lint_reports_the_findings_in_scope() -> None:
    def objects(*args: str) -> list[str]:
        result = run("lint", TUTORIAL, *args, "-o", "json")
        return sorted({f["object"] for f in json.loads(result.stdout)["findings"]})

    assert objects("-n", "kube-system") == []
    assert objects("-l", "role=db") == ["Namespace/app1-ns", "NetworkPolicy/app1-ns/db-policy"]
    assert objects("-l", "role=frontend") == [
        "Namespace/app1-ns",
        "NetworkPolicy/app1-ns/frontend-policy",
    ]


def test_verify_reports_the_expectations_touching_the_scope() -> None:
    def names(*args: str) -> list[str]:
        result = run("verify", TUTORIAL, "--expect", EXPECT, *args, "-o", "json")
        return [r["name"] for r in json.loads(result.stdout)["results"]]

    every = names()
    db = names("-l", "role=db")
    assert db and set(db) < set(every)
    assert all("db" in name for name in db)
    assert "frontend reaches backend" in every and "frontend reaches backend" not in db


def test_get_selects_by_labels() -> None:
    result = run("get", "pods", TUTORIAL, "-l", "role in (frontend,backend)", "-o", "name")

    assert result.stdout.splitlines() == [
        "pod/backend-deploy-5c694bf5fc-6vgxk",
        "pod/frontend-deploy-65856887c-q62wc",
    ]


def test_describe_with_a_selector_describes_every_match() -> None:
    result = run("describe", "policy", TUTORIAL, "-l", "role=db", "-o", "json")

    document = json.loads(result.stdout)
    assert [i["policy"] for i in document["items"]] == ["app1-ns/db-policy"]


def test_diff_compares_the_pods_in_scope() -> None:
    result = run("diff", TUTORIAL, THREE_TIER, "-n", "kube-system", "-o", "json")

    assert json.loads(result.stdout)["changes"] == []


# -- errors name the bad part ---------------------------------------------------------------

NS = "app1-ns"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("explain", TUTORIAL, "--from", f"{NS}/frontend", "--to", "backend-svc:http/TPC"),
            """error: 'backend-svc:http/TPC': unknown protocol "TPC": one of TCP, UDP, SCTP""",
        ),
        (
            ("explain", TUTORIAL, "--from", f"{NS}/frontend", "--to", "backend-svc:abc"),
            "error: Service app1-ns/backend-svc has no port named 'abc' (its ports: 5678/TCP)",
        ),
        (
            ("explain", TUTORIAL, "--from", f"{NS}/frontend", "--to", "backend-svc:99999"),
            "error: port 99999 in 'backend-svc:99999' is outside 1-65535",
        ),
        (
            ("explain", TUTORIAL, "--from", f"{NS}/frontend-depoy", "--to", "backend-svc"),
            "error: 'app1-ns/frontend-depoy': no pod, workload or Service 'frontend-depoy' in "
            "namespace app1-ns (did you mean frontend-deploy?)",
        ),
        (
            ("explain", TUTORIAL, "--from", "app1/frontend", "--to", "backend-svc"),
            "error: 'app1/frontend': no namespace 'app1' (did you mean app1-ns?)",
        ),
        (
            ("explain", TUTORIAL, "--from", f"{NS}/frontend", "--to", "backend-sv:5678"),
            "error: 'backend-sv' is not a Service, pod or workload in namespace app1-ns, nor a "
            "DNS name the cluster answers (write NAMESPACE/NAME, KIND/NAME or an IP) (did you "
            "mean backend-svc?)",
        ),
        (
            ("explain", TUTORIAL, "--from", "kube-system/c", "--to", "backend-svc"),
            "error: 'kube-system/c' could be deployment/kube-system/coredns, pod/kube-system/"
            "coredns-dummy: write the whole name",
        ),
        (
            ("matrix", TUTORIAL, "-n", "app1"),
            "error: -n/--namespace: no namespace 'app1' in the input (did you mean app1-ns?)",
        ),
        (
            ("lint", TUTORIAL, "-n", "app1-ns", "-A"),
            "error: -n/--namespace and -A/--all-namespaces exclude each other",
        ),
        (
            ("graph", TUTORIAL, "-l", "role in (db"),
            "error: -l/--selector: selector 'role in (db': '(' without ')'",
        ),
        (
            ("get", "svc", TUTORIAL, "-l", "app"),
            "error: -l/--selector: netpol keeps no labels of services; it filters pods, "
            "workloads, namespaces, nodes and Cilium CIDR groups",
        ),
        (
            ("describe", "anp", TUTORIAL, "-l", "app"),
            "error: -l/--selector describes pods or the NetworkPolicies selecting them (KIND "
            "pod or policy)",
        ),
        (
            ("describe", "pod"),
            "error: give the NAME to describe (or -l SELECTOR for every match)",
        ),
        (
            ("lint", "no-such-file.yaml"),
            "no-such-file.yaml: error: no such file or directory",
        ),
    ],
)
def test_errors_name_the_bad_part(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    if "kube-system/c" in args:  # a bare pod beside the coredns Deployment: two meanings
        bare = tmp_path / "bare.yaml"
        bare.write_text(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: coredns-dummy, namespace: kube-system}\n"
            "spec: {containers: [{name: c, image: i}]}\n"
        )
        args = (*args, str(bare))
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)

    assert result.exit_code == 2
    assert without_addon_note(result.stderr).splitlines() == [message]


@pytest.mark.parametrize(
    ("source", "first"),
    [
        ("app1-ns/frontend", "app1-ns/frontend-deploy-65856887c-q62wc"),
        ("app1-ns/frontend-deploy", "app1-ns/frontend-deploy-65856887c-q62wc"),
        ("deploy/app1-ns/frontend-deploy", "app1-ns/frontend-deploy-65856887c-q62wc"),
        ("frontend", "app1-ns/frontend-deploy-65856887c-q62wc"),  # alone: any namespace
        ("app1-ns/db", "app1-ns/db-sts-0"),
    ],
)
def test_the_same_name_works_in_explain_and_describe(source: str, first: str) -> None:
    explained = run("explain", TUTORIAL, "--from", source, "--to", "backend-svc:5678")
    described = run("describe", "pod", source.removeprefix("deploy/"), TUTORIAL, "-o", "json")

    assert explained.exit_code == 0, explained.output
    assert explained.stdout.startswith(f"{first} (")
    assert described.exit_code == 0, described.output
    assert json.loads(described.stdout)["pod"] == first


def test_a_service_port_name_is_its_number() -> None:
    by_name = run("explain", TUTORIAL, "--from", "frontend", "--to", "kube-dns.kube-system:dns")
    by_number = run(
        "explain", TUTORIAL, "--from", "frontend", "--to", "kube-dns.kube-system:53/UDP"
    )

    assert by_name.exit_code == 0, by_name.output
    assert by_name.stdout == by_number.stdout


def _policies(flows: Path) -> list[object]:
    result = run("generate", THREE_TIER, "--flows", str(flows), "-o", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["policies"]  # type: ignore[no-any-return]


def test_generate_reads_short_names_as_every_verb_does(tmp_path: Path) -> None:
    written = (REPO / "examples" / "three-tier" / "flows.yaml").read_text()
    short = tmp_path / "flows.yaml"
    short.write_text(
        written.replace("workload: frontend-deploy}", "workload: frontend}").replace(
            "workload: db-sts}", "workload: db}"
        )
    )
    assert short.read_text() != written

    assert _policies(short) == _policies(REPO / "examples" / "three-tier" / "flows.yaml")


def test_generate_offers_the_near_workload(tmp_path: Path) -> None:
    written = (REPO / "examples" / "three-tier" / "flows.yaml").read_text()
    typo = tmp_path / "flows.yaml"
    typo.write_text(written.replace("workload: frontend-deploy}", "workload: frontend-depoy}"))

    result = run("generate", THREE_TIER, "--flows", str(typo))

    assert result.exit_code == 2
    assert without_addon_note(result.stderr).splitlines() == [
        f"error: {typo}: no workload app1-ns/frontend-depoy in the input (did you mean "
        "frontend-deploy?)"
    ]


def test_verify_reads_workload_names_as_every_verb_does(tmp_path: Path) -> None:
    expectations = tmp_path / "expect.yaml"
    expectations.write_text(
        "expectations:\n"
        "  - name: short names\n"
        "    from: {workload: app1-ns/frontend}\n"
        "    to: {workload: app1-ns/back}\n"
        "    ports: [5678/TCP]\n"
        "    expect: deny\n"
        "  - name: a typo\n"
        "    from: {workload: app1-ns/frontend-depoy}\n"
        "    to: backend-svc\n"
        "    expect: deny\n"
    )

    result = run("verify", TUTORIAL, "--expect", str(expectations))

    assert result.exit_code == 2
    assert without_addon_note(result.stderr).splitlines() == [
        f"error: {expectations}:7: expectations[1] (a typo): from: 'app1-ns/frontend-depoy': "
        "no pod or workload 'frontend-depoy' in namespace app1-ns (did you mean "
        "frontend-deploy?)"
    ]
    fixed = expectations.read_text().replace("frontend-depoy", "frontend-deploy")
    expectations.write_text(fixed)
    passed = run("verify", TUTORIAL, "--expect", str(expectations), "-o", "json")
    assert [r["status"] for r in json.loads(passed.stdout)["results"]] == ["pass", "pass"]


def test_an_unknown_namespace_in_a_file_offers_the_near_one(tmp_path: Path) -> None:
    expectations = tmp_path / "expect.yaml"
    expectations.write_text(
        "expectations:\n"
        "  - name: ns\n"
        "    from: {namespace: app1-n}\n"
        "    to: backend-svc\n"
        "    expect: deny\n"
    )
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "apiVersion: netpol/v1alpha1\nkind: Flows\nflows:\n"
        "  - {from: {namespace: app1-n}, to: {workload: app1-ns/db-sts}, ports: [3306/TCP]}\n"
    )

    verified = run("verify", TUTORIAL, "--expect", str(expectations))
    generated = run("generate", TUTORIAL, "--flows", str(flows))

    assert (verified.exit_code, generated.exit_code) == (2, 2)
    assert without_addon_note(verified.stderr).splitlines() == [
        f"error: {expectations}:2: expectations[0] (ns): from: namespace app1-n: no namespace "
        "'app1-n' in the input (did you mean app1-ns?)"
    ]
    assert without_addon_note(generated.stderr).splitlines() == [
        f"error: {flows}: namespace app1-n: no namespace 'app1-n' in the input (did you mean "
        "app1-ns?)"
    ]


def _connections(document: dict[str, Any]) -> dict[tuple[str, str], ConnectionSet]:
    return {
        (c["src"], c["dst"]): ConnectionSet.union_of(
            ConnectionSet.of(protocol, lo, hi)
            for protocol, ranges in c["allowed"].items()
            for lo, hi in ranges
        )
        for c in document["connections"]
    }


@pytest.mark.parametrize(
    ("by", "selector"),
    [("namespace", "role!=db"), ("workload", "k8s-app notin (x)"), ("namespace", "!k8s-app")],
)
def test_a_scoped_group_is_the_union_of_its_pods_in_scope(by: str, selector: str) -> None:
    """A workload or namespace endpoint under -l stands for its admitted pods only: each
    pair is the union of the full pod matrix over those members (the engine stays exact)."""
    pods = json.loads(run("matrix", THREE_TIER, "-o", "json").stdout)
    scoped = json.loads(run("matrix", THREE_TIER, "--by", by, "-l", selector, "-o", "json").stdout)
    pod_pairs = _connections(pods)
    key = "namespace" if by == "namespace" else "workload"
    admitted = {
        e["id"]
        for e in json.loads(run("matrix", THREE_TIER, "-l", selector, "-o", "json").stdout)[
            "endpoints"
        ]
    }
    members: dict[str, list[str]] = {}
    for endpoint in pods["endpoints"]:
        if endpoint["id"] in admitted:
            members.setdefault(endpoint[key], []).append(endpoint["id"])
    assert sorted(e["id"] for e in scoped["endpoints"]) == sorted(members)
    got = _connections(scoped)
    for src in members:
        for dst in members:
            union = ConnectionSet.union_of(
                pod_pairs.get((s, d), ConnectionSet.none())
                for s in members[src]
                for d in members[dst]
                if s != d
            )
            assert got.get((src, dst), ConnectionSet.none()) == union, (src, dst)
