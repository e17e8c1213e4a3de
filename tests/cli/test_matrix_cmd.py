"""``netpol matrix``: what the user sees for each option, the JSON contract, bad --port.

The expected outputs are the golden files of tests/render (rewritten there with
NETPOL_UPDATE_GOLDEN=1), so the command and its renderers cannot drift apart.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result
from tests.conftest import without_addon_note

from netpol.cli.matrix_cmd import command

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GOLDEN = REPO / "tests" / "render" / "golden"
SCHEMA = json.loads((REPO / "docs" / "schemas" / "matrix.schema.json").read_text())
TUTORIAL = str(EXAMPLES / "tutorial")
THREE_TIER = str(EXAMPLES / "three-tier")
DB_NS = str(EXAMPLES / "three-tier-db-ns")
TIER_PORTS = ["--port", "80", "--port", "5678", "--port", "3306", "--port", "53/UDP"]


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def ok(*args: str) -> str:
    result = run(*args)
    assert (result.exit_code, without_addon_note(result.stderr)) == (0, "")
    return result.stdout


def flows(*args: str) -> set[tuple[str, str, str]]:
    """The allowed (src, dst, text) triples of ``-o csv``."""
    rows = list(csv.reader(io.StringIO(ok(*args, "-o", "csv"))))
    return {(s, d, a) for s, d, a, _ in rows[1:]}


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        pytest.param(
            [THREE_TIER, "--by", "workload", *TIER_PORTS],
            "matrix-three-tier-workload-ports.txt",
            id="truth-table-three-tier",
        ),
        pytest.param(
            [TUTORIAL, "--by", "workload", *TIER_PORTS],
            "matrix-tutorial-workload-ports.txt",
            id="truth-table-tutorial",
        ),
        pytest.param([THREE_TIER], "matrix-three-tier-pod.txt", id="default-table-by-pod"),
        pytest.param(
            [THREE_TIER, "--by", "workload", "-o", "wide"],
            "matrix-three-tier-workload-wide.txt",
            id="wide",
        ),
        pytest.param(
            [THREE_TIER, "--by", "workload", "-o", "csv"],
            "matrix-three-tier-workload.csv",
            id="csv",
        ),
        pytest.param(
            [THREE_TIER, "--by", "workload", "-o", "md", "--all-pairs"],
            "matrix-three-tier-workload-all-pairs.md",
            id="md-all-pairs",
        ),
        pytest.param(
            [THREE_TIER, "--by", "workload", "-o", "json", "--include-external"],
            "matrix-three-tier-workload-external.json",
            id="json-external",
        ),
        pytest.param(
            [THREE_TIER, "--by", "namespace", "-o", "json"],
            "matrix-three-tier-namespace.json",
            id="json-namespace",
        ),
    ],
)
def test_output_matches_the_golden_file(args: list[str], golden: str) -> None:
    assert ok(*args) == (GOLDEN / golden).read_text()


def test_tutorial_as_published_frontend_cannot_reach_backend_on_5678() -> None:
    table = ok(TUTORIAL, "--by", "workload", "--port", "5678")
    row = next(line for line in table.splitlines() if line.startswith("app1-ns/frontend-deploy"))

    # columns: backend-deploy, db-sts, frontend-deploy, coredns
    assert row.split()[1:] == ["X", "X", "-", "X"]


def test_three_tier_frontend_reaches_backend_on_5678() -> None:
    table = ok(THREE_TIER, "--by", "workload", "--port", "5678")
    row = next(line for line in table.splitlines() if line.startswith("app1-ns/frontend-deploy"))

    assert row.split()[1:] == [".", "X", "-", "X"]


THREE_TIER_FLOWS = {
    ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", "TCP 5678"),
    ("app1-ns/backend-deploy", "app1-ns/db-sts", "TCP 3306"),
    ("app1-ns/frontend-deploy", "kube-system/coredns", "TCP 53,UDP 53"),
    ("app1-ns/backend-deploy", "kube-system/coredns", "TCP 53,UDP 53"),
    ("kube-system/coredns", "app1-ns/frontend-deploy", "TCP 80"),
    ("kube-system/coredns", "kube-system/coredns", "All Connections"),
}
FRONTEND_TO_BACKEND = ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", "TCP 5678")


def test_exact_allowed_flows_of_the_tutorial_by_workload() -> None:
    assert flows(TUTORIAL, "--by", "workload") == THREE_TIER_FLOWS - {FRONTEND_TO_BACKEND}


def test_exact_allowed_flows_of_the_fixed_three_tier_by_workload() -> None:
    assert flows(THREE_TIER, "--by", "workload") == THREE_TIER_FLOWS


def test_db_in_its_own_namespace() -> None:
    allowed = flows(DB_NS, "--by", "workload")

    assert FRONTEND_TO_BACKEND in allowed
    assert any(s == "app1-ns/backend-deploy" and d.endswith("/db-sts") for s, d, _ in allowed)


def test_cilium_profile_takes_pods_out_of_frontends_ipblock() -> None:
    upstream = flows(THREE_TIER, "--by", "workload")
    cilium = flows(THREE_TIER, "--by", "workload", "--profile", "cilium")

    assert upstream - cilium == {("kube-system/coredns", "app1-ns/frontend-deploy", "TCP 80")}
    assert cilium <= upstream
    # The outside world still reaches frontend:80 through the ipBlock.
    with_external = flows(
        THREE_TIER, "--by", "workload", "--profile", "cilium", "--include-external"
    )
    assert ("external:0.0.0.0/0", "app1-ns/frontend-deploy", "TCP 80") in with_external


def test_cilium_truth_table_on_80() -> None:
    upstream = ok(THREE_TIER, "--by", "workload", "--port", "80")
    cilium = ok(THREE_TIER, "--by", "workload", "--port", "80", "--profile", "cilium")
    row = "kube-system/coredns      X                       X               {}                        ."

    assert row.format(".") in upstream.splitlines()
    assert row.format("X") in cilium.splitlines()


def test_all_pairs_adds_the_denied_pairs_as_no_connections() -> None:
    allowed = flows(THREE_TIER, "--by", "workload")
    every = flows(THREE_TIER, "--by", "workload", "--all-pairs")
    denied = every - allowed

    assert len(every) == 13  # 4 x 3 distinct workloads + coredns's two replicas
    assert {t for _, _, t in denied} == {"No Connections"}
    assert ("app1-ns/frontend-deploy", "app1-ns/db-sts", "No Connections") in denied


def test_port_filter_restricts_the_pair_list() -> None:
    out = ok(THREE_TIER, "--by", "workload", "--port", "53/UDP", "-o", "wide")

    assert out.splitlines() == [
        "SOURCE                    DESTINATION           ALLOWED",
        "app1-ns/backend-deploy    kube-system/coredns   UDP 53",
        "app1-ns/frontend-deploy   kube-system/coredns   UDP 53",
        "kube-system/coredns       kube-system/coredns   UDP 53",
    ]


@pytest.mark.parametrize("granularity", ["pod", "workload", "namespace"])
@pytest.mark.parametrize(
    "flags",
    [
        pytest.param([], id="plain"),
        pytest.param(["--include-external"], id="external"),
        pytest.param(["--include-external", "--include-nodes", "--all-pairs"], id="everything"),
        pytest.param(["--port", "80", "--port", "53/UDP"], id="ports"),
    ],
)
@pytest.mark.parametrize(
    "example", [TUTORIAL, THREE_TIER, DB_NS], ids=["tutorial", "three-tier", "db-ns"]
)
def test_json_validates_against_the_published_schema(
    example: str, granularity: str, flags: list[str]
) -> None:
    document = json.loads(ok(example, "--by", granularity, "-o", "json", *flags))

    jsonschema.validate(document, SCHEMA)
    assert document["granularity"] == granularity
    ids = {e["id"] for e in document["endpoints"]}
    assert all(c["src"] in ids and c["dst"] in ids for c in document["connections"])


def test_json_endpoints_by_pod_carry_their_workload() -> None:
    document = json.loads(ok(THREE_TIER, "-o", "json"))
    db = next(e for e in document["endpoints"] if e["id"] == "app1-ns/db-sts-0")

    assert db == {
        "id": "app1-ns/db-sts-0",
        "kind": "Pod",
        "namespace": "app1-ns",
        "name": "db-sts-0",
        "workload": "app1-ns/db-sts",
        "workloadKind": "StatefulSet",
    }
    assert document["profile"] == "upstream"


def test_json_profile_is_the_one_asked_for() -> None:
    document = json.loads(ok(THREE_TIER, "-o", "json", "--profile", "cilium"))

    assert document["profile"] == "cilium"


def test_json_port_filter_restricts_allowed() -> None:
    document = json.loads(ok(THREE_TIER, "--by", "workload", "-o", "json", "--port", "5678"))

    assert [(c["src"], c["dst"], c["allowed"]) for c in document["connections"]] == [
        ("app1-ns/frontend-deploy", "app1-ns/backend-deploy", {"TCP": [[5678, 5678]]}),
        ("kube-system/coredns", "kube-system/coredns", {"TCP": [[5678, 5678]]}),
    ]


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "message"),
    [
        pytest.param(
            "abc",
            "error: --port 'abc': expected PORT or PORT/PROTOCOL (TCP/UDP/SCTP), e.g. 80/TCP or 53/UDP",
            id="not-a-number",
        ),
        pytest.param(
            "80/XYZ",
            "error: --port '80/XYZ': expected PORT or PORT/PROTOCOL (TCP/UDP/SCTP), e.g. 80/TCP or 53/UDP",
            id="unknown-protocol",
        ),
        pytest.param(
            "",
            "error: --port '': expected PORT or PORT/PROTOCOL (TCP/UDP/SCTP), e.g. 80/TCP or 53/UDP",
            id="empty",
        ),
    ],
)
def test_bad_port_is_one_line_and_exit_2(port: str, message: str) -> None:
    result = run(THREE_TIER, "--port", port)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""


@pytest.mark.parametrize("port", ["0", "70000"])
def test_out_of_range_port_message_names_the_option(port: str) -> None:
    result = run(THREE_TIER, "--port", port)

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: --port {port!r}: port {port} is outside 1-65535"]


@pytest.mark.parametrize("port", ["0", "70000"])
def test_out_of_range_port_exits_2(port: str) -> None:
    result = run(THREE_TIER, "--port", port)

    assert result.exit_code == 2
    assert f"port {port} " in result.stderr and "outside 1-65535" in result.stderr
    assert result.stdout == ""


def test_no_paths() -> None:
    result = run("--by", "workload")

    assert result.exit_code == 2
    assert result.stderr == "error: no input: give one or more files, directories, or - for stdin\n"


def test_unknown_granularity_is_a_usage_error() -> None:
    result = run(THREE_TIER, "--by", "cluster")

    assert result.exit_code == 2
    assert "Invalid value for '--by': 'cluster' is not one of 'pod', 'workload', 'namespace'." in (
        result.stderr
    )
