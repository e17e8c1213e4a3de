"""`netpol generate`: what the user sees, the exit codes, and nothing written on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from netpol.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
THREE_TIER = EXAMPLES / "three-tier"
FLOWS = THREE_TIER / "flows.yaml"


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_generate_prints_policies_and_the_check_summary() -> None:
    result = invoke("generate", str(THREE_TIER), "--flows", str(FLOWS))
    assert result.exit_code == 0, result.output
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["metadata"]["name"] for d in docs] == [
        "backend-deploy-policy",
        "db-sts-policy",
        "frontend-deploy-policy",
    ]
    assert "3 policies for 3 flows (+2 DNS); checked by the engine" in result.stderr


def test_generate_writes_a_file_and_json(tmp_path: Path) -> None:
    target = tmp_path / "policies.yaml"
    result = invoke(
        "generate", str(THREE_TIER), "--flows", str(FLOWS), "--default-deny", "-w", str(target)
    )
    assert result.exit_code == 0, result.output
    assert f"written to {target}" in result.stderr
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(target.read_text())]
    assert names[0] == "default-deny" and len(names) == 4
    as_json = invoke("generate", str(THREE_TIER), "--flows", str(FLOWS), "-o", "json")
    document = json.loads(as_json.stdout)
    assert document["kind"] == "GeneratedPolicies" and len(document["policies"]) == 3


def test_generated_policies_pass_netpol_validate(tmp_path: Path) -> None:
    target = tmp_path / "gen.yaml"
    generated = invoke("generate", str(THREE_TIER), "--flows", str(FLOWS), "-w", str(target))
    assert generated.exit_code == 0, generated.output
    result = invoke("validate", str(target))
    assert result.exit_code == 0, result.output
    written = len([d for d in yaml.safe_load_all(target.read_text()) if d])
    assert written > 0
    assert f"{written} objects in 1 file ({written} NetworkPolicies), all valid" in result.output


def test_flow_that_cannot_be_expressed_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(
        "\n---\n".join(
            f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default, labels: {{app: same}}}}
spec: {{containers: [{{name: c, image: busybox}}]}}"""
            for name in ("a", "b")
        )
    )
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "apiVersion: netpol/v1alpha1\nkind: Flows\n"
        "flows:\n  - {from: {workload: a}, to: {workload: b}, ports: [80]}\n"
    )
    target = tmp_path / "out.yaml"
    result = invoke("generate", str(cluster), "--flows", str(flows), "-w", str(target))
    assert result.exit_code == 1
    assert "no label selector singles out default/a" in result.stderr
    assert not target.exists()


def test_unknown_names_and_missing_flows_are_bad_input(tmp_path: Path) -> None:
    result = invoke("generate", str(THREE_TIER))
    assert result.exit_code == 2
    assert "give exactly one of --flows FILE or --from-matrix FILE" in result.stderr
    flows = tmp_path / "flows.yaml"
    flows.write_text(FLOWS.read_text().replace("db-sts}", "mysql}"))
    result = invoke("generate", str(THREE_TIER), "--flows", str(flows))
    assert result.exit_code == 2
    assert "no workload app1-ns/mysql in the input" in result.stderr


def test_from_matrix_on_stdin_round_trips() -> None:
    exported = invoke(
        "matrix", str(THREE_TIER), "--by", "workload", "--include-external", "-o", "json"
    )
    assert exported.exit_code == 0
    result = invoke(
        "generate", str(THREE_TIER), "--from-matrix", "-", "--dns", "none", stdin=exported.stdout
    )
    assert result.exit_code == 0, result.output
    assert "checked by the engine: exactly these flows are allowed" in result.stderr


BAD_MATRICES = {
    "endpoints-not-a-list": (
        '{"kind": "ConnectivityMatrix", "endpoints": 3}',
        "endpoints: must be a list of objects (netpol matrix -o json)",
    ),
    "endpoint-not-an-object": (
        '{"kind": "ConnectivityMatrix", "endpoints": ["a/b"], "connections": []}',
        "endpoints: must be a list of objects (netpol matrix -o json)",
    ),
    "endpoint-id-not-a-string": (
        '{"kind": "ConnectivityMatrix", "endpoints": [{"id": 3}], "connections": []}',
        "endpoints[0].id: must be a string",
    ),
    "external-without-cidrs": (
        '{"kind": "ConnectivityMatrix", "endpoints": [{"id": "x", "kind": "External"}]}',
        "endpoints[0].cidrs: must be a non-empty list of CIDRs",
    ),
    "pod-without-namespace": (
        '{"kind": "ConnectivityMatrix", "endpoints": [{"id": "web", "kind": "Pod"}]}',
        "endpoints[0]: not a pod or workload endpoint (NAMESPACE/NAME)",
    ),
    "allowed-not-a-mapping": (
        '{"kind": "ConnectivityMatrix", "endpoints": [{"id": "a/b"}],'
        ' "connections": [{"src": "a/b", "dst": "a/b", "allowed": [1]}]}',
        "connections[0].allowed: malformed",
    ),
    "connections-not-a-list": (
        '{"kind": "ConnectivityMatrix", "endpoints": [], "connections": {"src": "a"}}',
        "connections: must be a list of objects (netpol matrix -o json)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MATRICES))
def test_malformed_matrix_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    text, message = BAD_MATRICES[case]
    matrix = tmp_path / "m.json"
    matrix.write_text(text)
    result = invoke("generate", str(THREE_TIER), "--from-matrix", str(matrix))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {matrix}: {message}\n"


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("{port: 80, protcol: UDP}", "unknown key 'protcol' (known: endPort, port, protocol)"),
        ("{endPort: 90}", "endPort needs port (the first port of the range)"),
    ],
    ids=["misspelt-key", "endPort-without-port"],
)
def test_malformed_port_mapping_is_bad_input(tmp_path: Path, port: str, message: str) -> None:
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "apiVersion: netpol/v1alpha1\nkind: Flows\nflows:\n"
        "  - from: {workload: app1-ns/frontend-deploy}\n"
        "    to: {workload: app1-ns/backend-deploy}\n"
        f"    ports: [{port}]\n"
    )
    target = tmp_path / "out.yaml"
    result = invoke("generate", str(THREE_TIER), "--flows", str(flows), "-w", str(target))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {flows}:6: flows[0].ports[0]: {message}\n"
    assert not target.exists()


def test_a_missing_flows_file_reads_as_a_missing_expectations_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    generate = invoke("generate", str(THREE_TIER), "--flows", str(missing))
    verify = invoke("verify", str(THREE_TIER), "--expect", str(missing))
    assert (generate.exit_code, verify.exit_code) == (2, 2)
    assert (
        generate.stderr
        == verify.stderr
        == f"error: {missing}: cannot read: no such file or directory\n"
    )


def test_kind_cilium_writes_cilium_network_policies_that_validate(tmp_path: Path) -> None:
    target = tmp_path / "cnp.yaml"
    result = invoke(
        "generate", str(THREE_TIER), "--flows", str(FLOWS), "--kind", "cilium", "-w", str(target)
    )
    assert result.exit_code == 0, result.output
    assert "3 policies for 3 flows (+2 DNS); checked by the engine" in result.stderr
    docs = list(yaml.safe_load_all(target.read_text()))
    assert {(d["apiVersion"], d["kind"]) for d in docs} == {("cilium.io/v2", "CiliumNetworkPolicy")}
    validated = invoke("validate", str(target))
    assert validated.exit_code == 0, validated.output
    assert (
        validated.output == f"{target}: 3 objects in 1 file (3 CiliumNetworkPolicies), all valid\n"
    )


def test_kind_cilium_with_another_profile_is_bad_input() -> None:
    result = invoke(
        "generate",
        str(THREE_TIER),
        "--flows",
        str(FLOWS),
        "--kind",
        "cilium",
        "--profile",
        "calico",
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --kind cilium writes CiliumNetworkPolicies, which the check evaluates as "
        "Cilium does: drop --profile calico (or give --profile cilium)\n"
    )


def test_each_difference_the_check_finds_is_a_line_of_its_own(tmp_path: Path) -> None:
    """A clusterwide deny of the input blocks the database flow: exit 1, nothing written."""
    (tmp_path / "deny.yaml").write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
        "metadata: {name: no-database}\n"
        "spec:\n  endpointSelector: {matchLabels: {role: db}}\n"
        "  enableDefaultDeny: {ingress: false}\n"
        "  ingressDeny: [{fromEndpoints: [{matchLabels: {role: backend}}]}]\n"
    )
    target = tmp_path / "out.yaml"
    result = invoke(
        "generate", str(THREE_TIER), str(tmp_path / "deny.yaml"), "--flows", str(FLOWS),
        "--kind", "cilium", "-w", str(target),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: the generated policies would not give exactly the flows")
    assert lines[1:] == [
        "  app1-ns/backend-deploy -> app1-ns/db-sts: the flows allow TCP 3306, "
        "the generated policies No Connections"
    ]
    assert not target.exists()
