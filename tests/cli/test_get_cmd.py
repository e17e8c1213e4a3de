"""``netpol get``: what a user sees for each resource, format and flag."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner, Result
from tests.conftest import without_addon_note

from netpol.cli.main import cli
from netpol.cli.matrix_cmd import command as matrix

TUTORIAL = str(Path(__file__).resolve().parents[2] / "examples" / "tutorial")


def get(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["get", *args], input=input)


def table(result: Result) -> list[list[str]]:
    assert result.exit_code == 0, result.output
    return [line.split() for line in result.stdout.splitlines()]


def test_pods_like_kubectl_with_a_namespace_column() -> None:
    rows = table(get("pods", TUTORIAL))
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS"]
    assert [(r[0], r[1].rsplit("-", 2)[0], r[2], r[3]) for r in rows[1:]] == [
        ("app1-ns", "backend-deploy", "1/1", "Running"),
        ("app1-ns", "db", "1/1", "Running"),  # db-sts-0
        ("app1-ns", "frontend-deploy", "1/1", "Running"),
        ("kube-system", "coredns", "1/1", "Running"),
        ("kube-system", "coredns", "1/1", "Running"),
    ]
    assert rows[2][1] == "db-sts-0"


def test_pods_wide_shows_ip_node_workload_ports_source() -> None:
    rows = table(get("po", TUTORIAL, "-n", "app1-ns", "-o", "wide"))
    assert rows[0] == ["NAME", "READY", "STATUS", "IP", "NODE", "WORKLOAD", "PORTS", "SOURCE"]
    db = next(r for r in rows if r[0] == "db-sts-0")
    assert db[3].startswith("10.244.")
    assert db[4] in ("kind-worker", "kind-worker2")
    assert db[5:7] == ["StatefulSet/db-sts", "3306/TCP"]
    assert db[7].endswith("examples/tutorial/03-db.yaml:16")


def test_the_same_input_lists_the_same_pods_every_time() -> None:
    assert get("pods", TUTORIAL, "-o", "wide").stdout == get("pods", TUTORIAL, "-o", "wide").stdout


def test_namespace_filter_and_no_resources_found() -> None:
    rows = table(get("svc", TUTORIAL, "-n", "kube-system"))
    assert rows == [
        ["NAME", "TYPE", "CLUSTER-IP", "PORT(S)"],
        ["kube-dns", "ClusterIP", "10.96.0.10", "53/UDP,53/TCP,9153/TCP"],
    ]
    empty = get("pods", TUTORIAL, "-n", "nowhere")
    assert empty.exit_code == 0
    assert empty.stdout == ""
    assert without_addon_note(empty.stderr) == "No resources found in nowhere namespace.\n"


def test_services_show_node_ports_headless_and_endpoints() -> None:
    rows = table(get("services", TUTORIAL, "-n", "app1-ns", "-o", "wide"))
    assert rows[0] == ["NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "SELECTOR", "ENDPOINTS", "SOURCE"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["frontend-svc"][1:2] + by_name["frontend-svc"][3:5] == [
        "NodePort",
        "80:31000/TCP",
        "app=app1,role=frontend",
    ]
    assert by_name["db-svc"][2] == "None"
    assert by_name["db-svc"][5].endswith(":3306")


def test_policies_with_selector_and_types() -> None:
    rows = table(get("netpol", TUTORIAL))
    assert rows == [
        ["NAMESPACE", "NAME", "POD-SELECTOR", "TYPES"],
        ["app1-ns", "backend-policy", "app=app1,role=backend", "Ingress,Egress"],
        ["app1-ns", "db-policy", "app=app1,role=db", "Ingress,Egress"],
        ["app1-ns", "frontend-policy", "app=app1,role=frontend", "Ingress,Egress"],
    ]
    wide = table(get("networkpolicies", TUTORIAL, "-o", "wide", "-n", "app1-ns"))
    assert wide[0] == ["NAME", "POD-SELECTOR", "TYPES", "INGRESS", "EGRESS", "SOURCE"]
    assert wide[2][:5] == ["db-policy", "app=app1,role=db", "Ingress,Egress", "1", "rule"]
    assert wide[2][5:7] == ["deny", "all"]


def test_defaulted_policy_types_are_marked(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\n"
        "spec: {podSelector: {}, egress: [{}]}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
    )
    rows = table(get("policies", str(tmp_path), "-n", "a"))
    assert rows[1] == ["deny", "<all>", "Ingress,Egress", "(defaulted)"]


def test_workloads_and_kind_short_names() -> None:
    rows = table(get("workloads", TUTORIAL))
    assert rows[0] == ["NAMESPACE", "NAME", "KIND", "PODS"]
    assert ["kube-system", "coredns", "Deployment", "2/2"] in rows
    assert [r[1] for r in table(get("deploy", TUTORIAL))[1:]] == [
        "backend-deploy",
        "frontend-deploy",
        "coredns",
    ]
    assert [r[1] for r in table(get("sts", TUTORIAL))[1:]] == ["db-sts"]
    assert without_addon_note(get("ds", TUTORIAL).stderr) == "No resources found.\n"


def test_namespaces_and_nodes() -> None:
    assert table(get("ns", TUTORIAL)) == [
        ["NAME", "STATUS", "PODS", "POLICIES"],
        ["app1-ns", "Active", "3", "3"],
        ["kube-system", "Active", "2", "0"],
    ]
    nodes = table(get("nodes", TUTORIAL, "--nodes", "2"))
    assert [r[:4] for r in nodes] == [
        ["NAME", "STATUS", "ROLES", "INTERNAL-IP"],
        ["kind-control-plane", "Ready", "control-plane", "172.18.0.2"],
        ["kind-worker", "Ready", "<none>", "172.18.0.3"],
    ]
    assert nodes[2][4] == "5"  # every pod on the only worker


def test_show_labels() -> None:
    rows = table(get("ns", TUTORIAL, "--show-labels"))
    assert rows[0][-1] == "LABELS"
    assert rows[1][-1] == "app=app1,kubernetes.io/metadata.name=app1-ns"
    pods = table(get("pods", TUTORIAL, "-n", "kube-system", "--show-labels"))
    assert all(r[-1] == "k8s-app=kube-dns" for r in pods[1:])


def test_json_output_is_kubernetes_manifests() -> None:
    result = get("pods", TUTORIAL, "-n", "app1-ns", "-o", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert (document["apiVersion"], document["kind"]) == ("v1", "List")
    db = next(p for p in document["items"] if p["metadata"]["name"] == "db-sts-0")
    assert (db["apiVersion"], db["kind"]) == ("v1", "Pod")
    assert db["metadata"]["namespace"] == "app1-ns"
    assert db["metadata"]["labels"] == {"app": "app1", "role": "db"}
    assert db["metadata"]["annotations"] == {"netpol.io/source": f"{TUTORIAL}/03-db.yaml:16"}
    (owner,) = db["metadata"]["ownerReferences"]
    assert (owner["apiVersion"], owner["kind"], owner["name"]) == (
        "apps/v1",
        "StatefulSet",
        "db-sts",
    )
    assert (db["spec"]["hostname"], db["spec"]["subdomain"]) == ("db-sts-0", "db-svc")
    assert db["spec"]["containers"][0]["ports"] == [{"containerPort": 3306, "protocol": "TCP"}]
    assert db["status"] == {
        "phase": "Running",
        "podIP": "10.244.50.34",
        "podIPs": [{"ip": "10.244.50.34"}],
    }
    policies = json.loads(get("netpol", TUTORIAL, "-o", "json").stdout)["items"]
    backend = next(p for p in policies if p["metadata"]["name"] == "backend-policy")
    assert backend["apiVersion"] == "networking.k8s.io/v1"
    assert backend["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert backend["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app": "app1", "role": "web"}}}],
            "ports": [{"protocol": "TCP", "port": 5678}],
        }
    ]
    assert backend["spec"]["egress"][1]["to"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
    }


def test_yaml_output_parses_back() -> None:
    result = get("svc", TUTORIAL, "-o", "yaml")
    document = yaml.safe_load(result.stdout)
    assert [s["metadata"]["name"] for s in document["items"]] == [
        "backend-svc",
        "db-svc",
        "frontend-svc",
        "kube-dns",
    ]
    assert document["items"][1]["spec"]["clusterIP"] == "None"


def test_get_output_loads_back_into_the_same_cluster(tmp_path: Path) -> None:
    """`netpol get ... -o yaml` is input again: the same pods, IPs and verdicts."""
    parts = [
        get(r, TUTORIAL, "-o", "yaml").stdout for r in ("ns", "nodes", "pods", "svc", "netpol")
    ]
    (tmp_path / "again.yaml").write_text("---\n".join(parts))
    again = CliRunner().invoke(matrix, [str(tmp_path), "--by", "pod"])
    original = CliRunner().invoke(matrix, [TUTORIAL, "--by", "pod"])
    assert again.exit_code == 0, again.output
    assert again.stdout == original.stdout
    pods = get("pods", str(tmp_path), "-o", "wide")
    assert "10.244.50.34" in pods.stdout and "StatefulSet/db-sts" in pods.stdout


def test_workloads_print_back_as_their_controllers() -> None:
    document = yaml.safe_load(get("workloads", TUTORIAL, "-o", "yaml").stdout)
    kinds = {(w["apiVersion"], w["kind"], w["metadata"]["name"]) for w in document["items"]}
    assert ("apps/v1", "StatefulSet", "db-sts") in kinds
    db = next(w for w in document["items"] if w["metadata"]["name"] == "db-sts")
    assert db["spec"]["serviceName"] == "db-svc"
    assert db["spec"]["selector"] == {"matchLabels": {"app": "app1", "role": "db"}}


def test_name_output() -> None:
    result = get("ns", TUTORIAL, "-o", "name")
    assert result.stdout == "namespace/app1-ns\nnamespace/kube-system\n"


def test_usage_errors_exit_2_with_one_line() -> None:
    unknown = get("secrets", TUTORIAL)
    assert unknown.exit_code == 2
    assert 'unknown resource type "secrets"' in unknown.stderr
    both = get("pods", TUTORIAL, "-n", "a", "-A")
    assert both.exit_code == 2
    assert "-n/--namespace and -A/--all-namespaces exclude each other" in both.stderr
    nothing = get("pods")
    assert nothing.exit_code == 2
    assert (
        nothing.stderr == "error: no input: give one or more files, directories, or - for stdin\n"
    )


def test_bad_input_exits_2_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: x\n")
    result = get("ns", str(tmp_path / "bad.yaml"))
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{tmp_path}/bad.yaml:4: error: invalid YAML: ")


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["get", "--help"])
    assert result.exit_code == 0
    assert "netpol get pods examples/tutorial -o wide" in result.stdout
    assert "deployments (deploy)" in result.stdout
